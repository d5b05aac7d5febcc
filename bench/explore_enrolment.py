"""Speaker enrolment measured as a user would use it (issue 27, item 4).

A head trained on speaker-centred pooled states (each training speaker centred on the
mean of all their clips) judges a clip of an unseen speaker after centring it on the mean
of a few other clips of that speaker: k random clips (never the clip judged), or only
the speaker's neutral (and calm) clips, "read this sentence calmly". Scored on each
EmoBox fold's validation actors (test actors are never scored) and on TESS (seven
emotions; its neutral clips only, TESS has no calm), over six folds.

    RAVDESS_DIR=... TESS_DIR=... .venv/bin/python bench/explore_enrolment.py [--head NAME] [--matched]

Results (2026-12-04, the project's front end, seed 42; validation UA over six folds ± SE
of the mean / TESS UA). Without enrolment the same features and a single-clip head give
0.780 / 0.646 (bench/explore_encoder_heads.py).

| enrolment | linear_all_speaker_norm | with `--matched` | layer_mix_mlp_speaker_norm |
|---|---|---|---|
| 1 random clip | 0.608 ± 0.026 / 0.503 | (same) | 0.583 / 0.456 |
| 5 random | 0.758 ± 0.034 / 0.685 | (same) | 0.766 / 0.633 |
| 10 random | 0.802 ± 0.031 / 0.720 | (same) | 0.798 / 0.669 |
| 20 random | 0.824 ± 0.025 / 0.735 | (same) | 0.818 / 0.685 |
| neutral clips only (3 others) | 0.626 ± 0.018 / 0.617 | 0.779 ± 0.032 / 0.678 | 0.625 / 0.596 |
| neutral and calm (11 others) | 0.591 ± 0.031 / 0.617 | 0.803 ± 0.031 / 0.767 | 0.583 / 0.596 |
| all of the speaker's clips | 0.832 ± 0.033 / 0.661 | (same) | 0.818 / 0.592 |

- One random clip is worse than none (it centres on one emotion); from 10 clips it helps
  (+2 points on RAVDESS, +7 on TESS), and 20 give 0.824.
- Neutral (and calm) enrolment only works when the head is trained the same way
  (`--matched`: each training speaker centred on their own neutral and calm clips):
  0.591 -> 0.803. Centred on all clips in training, it shifts every neutral speaker
  towards the other emotions.
"""

from __future__ import annotations

import argparse

import numpy as np

from ser.data.dataset import build_index
from ser.data.splits import EMOBOX_FOLDS, speaker_split
from ser.data.tess import TESS_EMOTIONS, tess_index, tess_root
from ser.features.encoder_states import DEFAULT_FRONT, load_encoder_states
from ser.models.heads import HEADS, enrolment_centres, fit_head
from ser.scoring import unweighted_accuracy

ENROLMENTS = ("1 random", "5 random", "10 random", "20 random", "neutral", "neutral+calm", "all")


def centres_for(enrolment, states, speakers, emotions, rng):
    if enrolment == "all":
        return enrolment_centres(states, speakers, k=None, rng=rng)
    if enrolment.endswith("random"):
        return enrolment_centres(states, speakers, k=int(enrolment.split()[0]), rng=rng)
    calm = ("neutral", "calm") if enrolment == "neutral+calm" else ("neutral",)
    return enrolment_centres(states, speakers, k=None, rng=rng, enrol_mask=np.isin(emotions, calm))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head", default="linear_all_speaker_norm", choices=list(HEADS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--matched", action="store_true",
                        help="for neutral (and calm) enrolment, centre the training speakers on "
                        "their neutral (and calm) clips too")  # fmt: skip
    args = parser.parse_args()
    front = DEFAULT_FRONT

    index = build_index()
    states = load_encoder_states(index, front=front, progress=False).states
    labels, speakers = index["emotion"].to_numpy(), index["actor"].to_numpy()
    tess = tess_index(tess_root()) if tess_root() else None
    tess_states = (
        load_encoder_states(tess, front=front, progress=False).states if tess is not None else None
    )

    scores = {e: ([], []) for e in ENROLMENTS}
    for fold in sorted(EMOBOX_FOLDS):
        split = speaker_split(index, fold, args.seed)
        t = split.train
        head = fit_head(args.head, states[t], labels[t], speakers[t], seed=args.seed + fold)
        rng = np.random.default_rng(args.seed + fold)
        v = split.validation
        for enrolment in ENROLMENTS:
            scorer = head
            if enrolment.startswith("neutral") and args.matched:
                # trained as it will be used: each training speaker centred on those clips
                train_centres = centres_for(enrolment, states[t], speakers[t], labels[t], rng)
                scorer = fit_head(args.head, states[t], labels[t], centres=train_centres,
                                  seed=args.seed + fold)  # fmt: skip
            centres = centres_for(enrolment, states[v], speakers[v], labels[v], rng)
            predicted = scorer.predict(states[v], centres=centres)
            scores[enrolment][0].append(unweighted_accuracy(labels[v], predicted))
            if tess_states is not None:
                tess_centres = centres_for(enrolment, tess_states, tess["speaker"].to_numpy(),
                                           tess["emotion"].to_numpy(), rng)  # fmt: skip
                probabilities = scorer.predict_proba(tess_states, centres=tess_centres)
                columns = [scorer.classes.index(e) for e in TESS_EMOTIONS]
                answer = np.array(TESS_EMOTIONS)[probabilities[:, columns].argmax(1)]
                scores[enrolment][1].append(unweighted_accuracy(tess["emotion"], answer))
    print(f"head {args.head}, {front}{', training centred as enrolled' if args.matched else ''}")
    print(f"{'enrolment':14s} validation UA (6 folds, mean ± SE)   TESS UA")
    for enrolment, (ua, tess_ua) in scores.items():
        se = np.std(ua, ddof=1) / np.sqrt(len(ua))
        print(f"{enrolment:14s} {np.mean(ua):.3f} ± {se:.3f}                    "
              f"{np.mean(tess_ua) if tess_ua else float('nan'):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
