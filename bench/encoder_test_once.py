"""The chosen encoder configuration on test data, computed once after the choice (issue 27).

The choice was made on validation actors and TESS only (bench/explore_encoder_heads.py,
bench/explore_enrolment.py, bench/explore_encoder_robustness.py): the project's front end
(ser.features.encoder_states.DEFAULT_FRONT), the head ``linear_all`` trained on the clean clips and
two waveform-bank versions of each, and for enrolment ``linear_all_speaker_norm`` (trained
as it is enrolled). This script scores that configuration, and nothing else, on:

- the six EmoBox folds (each fold's head trained on its training actors, validation actors
  and test actors held out; scored on the test actors), single clip;
- the same with speaker enrolment (the speaker's neutral and calm clips; 10 random clips);
- the original random 80/20 split: accuracy, macro-F1, lowest class recall;
- calibration: temperature fitted on each fold's validation actors, ECE on its test actors;
- TESS (seven emotions), with the shipped fold's head;
- robustness: the shipped fold's head on its test actors, clean and under damage.

    RAVDESS_DIR=... TESS_DIR=... .venv/bin/python bench/encoder_test_once.py

Results (2026-12-04, run once at 9ab09c6 after the choice; run again at its next commit
only because the 10-random-clip enrolment head had been given no speakers and scored
chance, 0.125; every other number was the same in both runs):
- speaker-independent UA, six folds, single clip: 0.765 ± 0.055 (SE 0.022); folds 0.793
  0.762 0.664 0.820 0.797 0.754.
- with enrolment: the speaker's neutral and calm clips 0.796 ± 0.056; 10 random clips
  0.811 ± 0.032.
- calibration on test actors: ECE 0.071 before, 0.076 after a temperature fitted on each
  fold's validation actors (it does not help this head).
- random split: accuracy 0.878, macro-F1 0.874, lowest class recall 0.816 (happy).
- TESS with fold 1's head: UA 0.683; neutral 0.84, happy 0.20, sad 0.04, angry 0.86,
  fearful 0.98, disgust 0.85, surprised 1.00.
- robustness, fold 1's head on actors 1, 11, 20, 21 (UA; drop from clean 0.785): white
  noise 20 dB 0.758 (0.027), 10 dB 0.746 (0.039); babble 20 dB 0.570 (0.215), 10 dB 0.484
  (0.301); telephone 0.609 (0.176); MP3 0.750; OGG 0.793; clipping 0.777; silence padding
  0.629 (0.156); 20 s of five clips 0.867.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import f1_score

from ser.config import EMOTION_NAMES
from ser.data.dataset import build_index
from ser.data.splits import EMOBOX_FOLDS, SHIPPED_MODEL_FOLD, random_split, speaker_split
from ser.data.tess import TESS_EMOTIONS, tess_index, tess_root
from ser.features.encoder_states import DEFAULT_FRONT, load_bank_states, load_encoder_states
from ser.models.calibration import apply_temperature, expected_calibration_error, fit_temperature
from ser.models.heads import HEADS, enrolment_centres, fit_head
from ser.scoring import per_class_recall, unweighted_accuracy

HEAD = "linear_all"
SEED = 42
BANK_VERSIONS = 2


def fit_with_bank(states, bank, labels, rows, seed):
    """The head on the clean clips of ``rows`` and their bank versions."""
    x = np.concatenate([states[rows], bank[rows].reshape(-1, *states.shape[1:])])
    y = np.concatenate([labels[rows], np.repeat(labels[rows], bank.shape[1])])
    return fit_head(HEAD, x, y, classes=EMOTION_NAMES, seed=seed)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    index = build_index()
    states = load_encoder_states(index, progress=False).states
    bank = load_bank_states(index, BANK_VERSIONS, progress=False)
    labels, speakers = index["emotion"].to_numpy(), index["actor"].to_numpy()
    print(f"front end {DEFAULT_FRONT}, head {HEAD}: {HEADS[HEAD]}")

    fold_ua, enrolled = [], {"neutral+calm": [], "10 random": []}
    ece_before, ece_after, shipped = [], [], None
    for fold in sorted(EMOBOX_FOLDS):
        split = speaker_split(index, fold, SEED)
        head = fit_with_bank(states, bank, labels, split.train, SEED + fold)
        test = split.test
        fold_ua.append(unweighted_accuracy(labels[test], head.predict(states[test])))
        targets = np.array([EMOTION_NAMES.index(e) for e in labels[test]])
        validation_targets = np.array([EMOTION_NAMES.index(e) for e in labels[split.validation]])
        temperature = fit_temperature(
            head.predict_proba(states[split.validation]), validation_targets
        )
        probabilities = head.predict_proba(states[test])
        ece_before.append(expected_calibration_error(probabilities, targets))
        ece_after.append(
            expected_calibration_error(apply_temperature(probabilities, temperature), targets)
        )
        if fold == SHIPPED_MODEL_FOLD:
            shipped = head
        rng = np.random.default_rng(SEED + fold)
        t = split.train
        for name, k, emotions in (
            ("neutral+calm", None, ("neutral", "calm")),
            ("10 random", 10, None),
        ):
            # trained as it is enrolled: training speakers centred on the same kind of clips
            train_mask = None if emotions is None else np.isin(labels[t], emotions)
            train_centres = enrolment_centres(states[t], speakers[t], k=k, rng=rng,
                                              enrol_mask=train_mask)  # fmt: skip
            norm = fit_head(f"{HEAD}_speaker_norm", states[t], labels[t], speakers[t],
                            classes=EMOTION_NAMES,
                            centres=train_centres if emotions else None, seed=SEED + fold)  # fmt: skip
            test_mask = None if emotions is None else np.isin(labels[test], emotions)
            centres = enrolment_centres(states[test], speakers[test], k=k, rng=rng,
                                        enrol_mask=test_mask)  # fmt: skip
            enrolled[name].append(
                unweighted_accuracy(labels[test], norm.predict(states[test], centres=centres))
            )
    se = np.std(fold_ua, ddof=1) / np.sqrt(len(fold_ua))
    print(f"speaker-independent test UA, six folds, single clip: {np.mean(fold_ua):.3f} "
          f"± {np.std(fold_ua, ddof=1):.3f} std (SE {se:.3f}); folds "
          f"{' '.join(f'{u:.3f}' for u in fold_ua)}")  # fmt: skip
    for name, values in enrolled.items():
        print(f"  with enrolment ({name}): {np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}")
    print(f"calibration on test actors: ECE {np.mean(ece_before):.3f} before, "
          f"{np.mean(ece_after):.3f} after temperature scaling (mean over folds)")  # fmt: skip

    split = random_split(index, SEED)
    train = np.concatenate([split.train, split.validation])
    head = fit_with_bank(states, bank, labels, train, SEED)
    predicted = head.predict(states[split.test])
    recall = per_class_recall(labels[split.test], predicted, EMOTION_NAMES)
    print(f"random split: accuracy {np.mean(predicted == labels[split.test]):.3f}, macro-F1 "
          f"{f1_score(labels[split.test], predicted, average='macro'):.3f}, lowest class recall "
          f"{min(recall.values()):.3f} ({min(recall, key=recall.get)})")  # fmt: skip

    if tess_root():
        tess = tess_index(tess_root())
        tess_states = load_encoder_states(tess, progress=False).states
        probabilities = shipped.predict_proba(tess_states)
        columns = [EMOTION_NAMES.index(e) for e in TESS_EMOTIONS]
        answer = np.array(TESS_EMOTIONS)[probabilities[:, columns].argmax(1)]
        recall = per_class_recall(tess["emotion"], answer, TESS_EMOTIONS)
        print(f"TESS (fold {SHIPPED_MODEL_FOLD}'s head): UA {unweighted_accuracy(tess['emotion'], answer):.3f}; "
              + ", ".join(f"{k} {v:.2f}" for k, v in recall.items()))  # fmt: skip
    robustness(index, shipped)


def robustness(index, shipped) -> None:
    """The shipped fold's head on its test actors under every damage of ser.evaluation.robustness."""
    from ser.evaluation.robustness import damage_clips, score
    from ser.features.encoder_states import StateExtractor
    from ser.features.extraction import FeatureParams
    from ser.inference.predict import ModelPredictor

    split = speaker_split(index, SHIPPED_MODEL_FOLD, SEED)
    actors = index["actor"].to_numpy()
    params = FeatureParams.of("whisper")
    damaged = damage_clips(ModelPredictor(None, params), index, sorted(set(actors[split.test])),
                           sorted(set(actors[split.train])), seed=SEED, progress=False)  # fmt: skip
    window_states = StateExtractor().pooled_windows(np.concatenate(damaged.windows))
    table, _ = score(
        ModelPredictor(
            lambda windows, training=False: shipped.predict_proba(window_states),
            params,
            EMOTION_NAMES,
        ),
        damaged,
    )
    print(f"robustness, fold {SHIPPED_MODEL_FOLD}'s head on its test actors (UA, drop from clean):")
    print(table[["UA", "UA drop"]].round(3).to_string())


if __name__ == "__main__":
    main()
