"""Choices meant to generalise beyond RAVDESS: how the 4 s window is filled, and waveform
augmentation, judged on validation actors (clean and damaged) and on TESS.

    RAVDESS_DIR=... TESS_DIR=... .venv/bin/python bench/explore_generalisation.py \
        --modes plain bank trim tile [--spec cnn_augmented] --folds 1 2

Modes (the same for training, validation, damaged validation clips and TESS):
- ``plain``: the recording as it is; a short one is padded with trailing zeros, a long
  one is cut into windows overlapping by half (what the pipeline does today);
- ``trim``: leading and trailing silence cut first (``librosa.effects.trim``), then as plain;
- ``tile``: silence cut as in ``trim``, then a short recording is repeated until it fills
  the window, so the statistics the model pools over time are those of speech, however
  long the recording and however much silence surrounds it;
- ``bank``: as plain, but training draws each epoch one of the clean clip and three
  waveform-augmented versions of it: the bank notebook 03 trains on
  (``ser.features.waveform_bank.load_bank``: pedalboard reverb, band limits, EQ, gain; white,
  pink or brown noise at 5-30 dB SNR), from the same cache.

``--balanced-classes``: every class weighs the same in the loss (``ModelSpec.balanced_classes``).
Also tried, and removed from the package after these results (their code is in commit
6682da3): random excerpts (``--excerpt-probability``: half the training clips cut to a random
1.5-3 s, the rest silence) and mixup of mel power and targets (``--mixup-alpha``). On folds
1-2 (plain mode, validation actors; clean, white noise 20/10 dB, silence padding, TESS): the
recipe 0.711 / 0.422 / 0.273 / 0.547 / 0.501 (previous session, same code); excerpts P=0.5 0.570 / 0.531 / 0.438 / 0.578 / 0.444;
mixup A=0.4 0.566 / 0.395 / 0.273 / 0.391 / 0.494; balanced classes 0.723 / 0.461 / 0.312 /
0.535 / 0.518; bank mode with balanced classes 0.703 / 0.691 / 0.648 / 0.539 / 0.511 (the
bank alone, measured with the code before TRAINING_CODE_VERSION 3: 0.719 / 0.711 / 0.645 /
0.578 / 0.451). Speech frames only (normalisation, convolutions and pooling over the frames
within 40 dB of the clip's loudest, the mask taken before the channel augmentation; code in
commit bc465e0, ``--speech-range-db 40``), fold 1 only: 0.570 / 0.570 / 0.414 / 0.609 / 0.346,
against 0.727 clean for the recipe on fold 1 (below); training accuracy reached 0.98, and
fold 2 was not finished.

All six folds (same seeds, clean / white 20 dB / white 10 dB / silence padding / TESS): the
recipe 0.671 / 0.422 / 0.305 / 0.549 / 0.467 (folds 1-2 again 0.711 and 0.501: the runs
reproduce); with the class-balanced loss 0.693 / 0.423 / 0.294 / 0.526 / 0.475. Paired over the
six folds, clean +0.022 (one standard error 0.015; fold 5 alone +0.094) and TESS +0.009 (SE
0.012); silence padding -0.023. Bank mode (the plan's channel and waveform augmentation)
0.660 / 0.652 / 0.604 / 0.577 / 0.459; bank mode with the class-balanced loss 0.677 / 0.651 /
0.618 / 0.569 / 0.462: clean +0.017 against the bank alone (SE 0.0065, five folds of six up),
TESS +0.003 (SE 0.023). Both robustness variants of the plan (ser.training.plan) now train with the
class-balanced loss (commit ff91a25, with its report run).

Our recipe (``models/runs/selection.json``) is trained on each fold's training actors
(seed 42 + fold). Printed per fold: validation UA (clean, white noise at 20 and 10 dB,
2 s of silence padding) and the TESS UA over its seven emotions. Test actors are never
scored here.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from ser.config import EMOTION_NAMES, SAMPLE_RATE
from ser.data.audio import load_audio
from ser.data.dataset import build_index
from ser.data.download import ensure_ravdess
from ser.data.splits import speaker_split
from ser.data.tess import seven_way, tess_index
from ser.evaluation.robustness import conditions
from ser.features.extraction import FeatureParams, feature_matrix, map_in_processes
from ser.features.waveform_bank import load_bank
from ser.inference.predict import window_starts
from ser.scoring import unweighted_accuracy
from ser.training.fitting import predict_proba, train_model
from ser.training.plan import CNN_RECIPE, SPECS

TRIM_DB = 30
BANK_VERSIONS = 3
# The robustness table's own conditions (ser.evaluation.robustness), on validation clips.
CONDITIONS = ("clean", "white noise 20 dB", "white noise 10 dB", "silence padding")


def filled(samples: np.ndarray, mode: str, n_samples: int) -> list[np.ndarray]:
    """The analysis windows of one recording under ``mode``."""
    import librosa

    if mode in ("trim", "tile"):
        cut, _ = librosa.effects.trim(samples, top_db=TRIM_DB)
        samples = cut if cut.size >= SAMPLE_RATE // 4 else samples
    if mode == "tile" and samples.size < n_samples:
        samples = np.resize(samples, n_samples)
    return [samples[s : s + n_samples] for s in window_starts(samples.size, n_samples)]


def clip_windows(args) -> dict:
    """{(mode, condition): (windows, frames, features)} for one clip."""
    path, number, params, modes, names = args
    samples = load_audio(path, SAMPLE_RATE)
    damage = {c.name: c.apply for c in conditions()}
    out = {}
    for name in names:
        x, _ = damage[name](samples, SAMPLE_RATE, {"rng": np.random.default_rng([42, number])})
        for fill in dict.fromkeys(window_fill(m) for m in modes):
            windows = filled(x, fill, params.n_samples)
            out[fill, name] = np.stack([feature_matrix(w, params) for w in windows])
    return out


def window_fill(mode: str) -> str:
    """How ``mode`` fills the window: ``bank`` changes only training, so it fills as plain."""
    return "plain" if mode == "bank" else mode


def predict_clips(model, windows: list[np.ndarray]) -> np.ndarray:
    """Each clip's probabilities: the mean over its windows."""
    owner = np.concatenate([np.full(len(w), i) for i, w in enumerate(windows)])
    p = predict_proba(model, np.concatenate(windows).astype(np.float32))
    return np.stack([p[owner == i].mean(axis=0) for i in range(len(windows))])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modes", nargs="+", default=["plain", "tile"])
    parser.add_argument("--folds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, default=None, help="cap (default: the spec's)")
    parser.add_argument("--spec", default=None, help="default: the committed recipe")
    parser.add_argument("--balanced-classes", action="store_true")
    args = parser.parse_args()
    spec = SPECS[args.spec] if args.spec else CNN_RECIPE
    if args.epochs:
        spec = spec.with_changes(spec.name, epochs=args.epochs)
    if args.balanced_classes:
        spec = spec.with_changes(spec.name, balanced_classes=True)
    params = FeatureParams.of(spec.features)
    index = build_index(ensure_ravdess())
    labels = index["emotion_code"].to_numpy() - 1
    start = time.perf_counter()
    jobs = [(p, i, params, args.modes, CONDITIONS) for i, p in enumerate(index["path"])]
    ravdess = list(map_in_processes(clip_windows, jobs, chunksize=8))
    tess = tess_index(Path(os.environ["TESS_DIR"]))
    jobs = [(p, i, params, args.modes, ("clean",)) for i, p in enumerate(tess["path"])]
    tess_x = list(map_in_processes(clip_windows, jobs, chunksize=16))
    print(f"spec {spec.name}; features in {time.perf_counter() - start:.0f} s", flush=True)
    for mode in args.modes:
        # Training clips: one window each (the first), as notebook 03 trains today.
        fill = window_fill(mode)
        x_all = np.stack([c[fill, "clean"][0] for c in ravdess]).astype(np.float32)
        if mode == "bank":  # (clips, versions, frames, features); version 0 is the clean clip
            bank = load_bank(index, params, x_all, BANK_VERSIONS)
        scores = {c: [] for c in (*CONDITIONS, "TESS")}
        for fold in args.folds:
            split = speaker_split(index, fold, args.seed)
            t0 = time.perf_counter()
            x_train = bank[split.train] if mode == "bank" else x_all[split.train]
            model, _ = train_model(spec, x_train, labels[split.train],
                                   x_all[split.validation], labels[split.validation],
                                   seed=args.seed + fold)  # fmt: skip
            line = []
            for condition in CONDITIONS:
                p = predict_clips(model, [ravdess[i][fill, condition] for i in split.validation])
                ua = unweighted_accuracy(labels[split.validation], p.argmax(axis=1))
                scores[condition].append(ua)
                line.append(f"{condition} {ua:.3f}")
            p = predict_clips(model, [t[fill, "clean"] for t in tess_x])
            scores["TESS"].append(
                unweighted_accuracy(tess["emotion"], seven_way(p, list(EMOTION_NAMES)))
            )
            print(f"  {mode} fold {fold} ({time.perf_counter() - t0:.0f} s): validation "
                  f"{', '.join(line)}; TESS {scores['TESS'][-1]:.3f}", flush=True)  # fmt: skip
        means = ", ".join(f"{k} {np.mean(v):.3f}" for k, v in scores.items())
        print(f"{mode} (folds {args.folds}): {means}", flush=True)


if __name__ == "__main__":
    main()
