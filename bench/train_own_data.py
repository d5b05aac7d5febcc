"""Your own recordings (issue 29): TESS as "your own corpus", timed and scored.

    TESS_DIR=... [RAVDESS_DIR=...] .venv/bin/python bench/train_own_data.py [--out DIR]

1. `train` end to end on TESS (speaker-grouped, two folds: train on one speaker, test on
   the other), encoder states included, with an empty states cache; then a second run on
   the same clips (states from the cache). Targets: 1,000 clips in 3 min or less; the
   second run 20 s or less.
2. The learning curve: UA on the held-out speaker (mean of both directions) against clips
   per emotion (5, 10, 20, 50, all), with and without a RAVDESS head stacked in (its
   log-probabilities of the emotions TESS shares with RAVDESS appended to the features;
   only with RAVDESS_DIR).

The TESS target: UA 0.75 or more over its seven emotions (aim 0.85).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ser.encoder_states import load_encoder_states
from ser.heads import fit_head
from ser.own_data import cross_validate, read_corpus, train_own_model
from ser.scoring import unweighted_accuracy
from ser.tess import tess_root

CURVE = (5, 10, 20, 50, None)


def learning_curve(states, corpus, base_logits, seed: int) -> dict:
    """UA on the other speaker, mean of both directions, per clips-per-label budget."""
    labels = corpus.labels
    truth = corpus.clips["label"].to_numpy()
    speakers = corpus.clips["speaker"].to_numpy()
    rng = np.random.default_rng(seed)
    rows = {}
    for budget in CURVE:
        scores = {"alone": [], "with RAVDESS head": []}
        for speaker in sorted(set(speakers)):
            train = np.flatnonzero(speakers == speaker)
            test = np.flatnonzero(speakers != speaker)
            if budget is not None:
                train = np.concatenate([
                    rng.choice(train[truth[train] == label], budget, replace=False) for label in labels
                ])  # fmt: skip
            for name, extra in (("alone", None), ("with RAVDESS head", base_logits)):
                if name != "alone" and extra is None:
                    continue
                x = states if extra is None else _stack(states, extra)
                head = fit_head("linear_all", x[train], truth[train], classes=labels, seed=seed)
                scores[name].append(unweighted_accuracy(truth[test], head.predict(x[test])))
        rows[budget or "all"] = {k: float(np.mean(v)) for k, v in scores.items() if v}
    return rows


def _stack(states: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """The base head's log-probabilities as one more 'layer' of the pooled states."""
    width = states.shape[-1]
    extra = np.zeros((len(states), 1, width), np.float32)
    extra[:, 0, : logits.shape[1]] = logits
    return np.concatenate([states, extra], axis=1)


def ravdess_base_logits(tess_states: np.ndarray, labels: list[str]) -> np.ndarray | None:
    """Log-probabilities of a head trained on all of RAVDESS, for TESS's labels."""
    from ser.config import EMOTION_NAMES
    from ser.dataset import build_index

    try:
        index = build_index()
    except Exception as error:  # no RAVDESS here: the curve without the base only
        print(f"no RAVDESS base head ({error})")
        return None
    states = load_encoder_states(index, progress=False).states
    head = fit_head("linear_all", states, index["emotion"].to_numpy(), classes=EMOTION_NAMES)
    probabilities = head.predict_proba(tess_states)
    shared = [EMOTION_NAMES.index(label) for label in labels if label in EMOTION_NAMES]
    return np.log(probabilities[:, shared] + 1e-6).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="keep the trained model folder here")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    manifest = tess_root() / "manifest.csv"
    corpus = read_corpus(manifest, label_column="emotion", speaker_column="speaker")
    print(f"TESS as your own data: {len(corpus.clips)} clips, labels {corpus.labels}")
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch) / "model"
        for attempt in ("first (empty states cache)", "second (cached states)"):
            start = time.perf_counter()
            result = train_own_model(corpus, out, folds=2, seed=args.seed, force=True,
                                     progress=False, cache_dir=Path(scratch) / "cache",
                                     log=lambda _: None)  # fmt: skip
            total = time.perf_counter() - start
            parts = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
            print(f"train, {attempt}: {total:.1f} s ({parts}); "
                  f"UA {result.cross_validation.ua:.3f} over 2 speaker folds")  # fmt: skip
        print(result.cross_validation.report())
        states = load_encoder_states(
            corpus.clips, cache_dir=Path(scratch) / "cache", progress=False
        )
    cv = cross_validate(states.states, corpus, folds=2, seed=args.seed)
    print(f"check: cross_validate again gives UA {cv.ua:.3f}")
    base = ravdess_base_logits(states.states, corpus.labels)
    print("learning curve (UA on the other speaker, mean of both directions):")
    for budget, scores in learning_curve(states.states, corpus, base, args.seed).items():
        print(
            f"  {budget!s:>4} clips per label: "
            + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
        )


if __name__ == "__main__":
    main()
