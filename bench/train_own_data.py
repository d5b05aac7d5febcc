"""Your own recordings (issue 29): TESS as "your own corpus", timed and scored.

    TESS_DIR=... [RAVDESS_DIR=...] .venv/bin/python bench/train_own_data.py [--out DIR]

1. `train` end to end on TESS (speaker-grouped, two folds: train on one speaker, test on
   the other), encoder states included, with an empty states cache; then a second run on
   the same clips (states from the cache). Targets: 1,000 clips in 3 min or less; the
   second run 20 s or less.
2. The learning curve: UA on the held-out speaker (mean of both directions) against clips
   per emotion (5, 10, 20, 50, all), alone and with `--base ravdess` (RAVDESS's clips of
   the emotions TESS shares join the training, the user's clips weighing as much in total;
   only with RAVDESS_DIR).

The TESS target: UA 0.75 or more over its seven emotions (aim 0.85).

Results (2026-12-04, 1,399 TESS clips, two speakers, seed 42; cached encoder export):
- train, empty states cache: 67.1 s (states 63.6 s, cross-validation 1.2 s, fit and
  export 2.3 s); second run 3.6 s. The encoder's ONNX export adds about 25 s once per
  machine (cached in data/cache/encoder_onnx/).
- UA on the held-out speaker, two folds: alone 0.629 (angry 0.09 and happy 0.07: each
  speaker's angry and happy are confused); with --base ravdess 0.754 (angry 0.51, happy
  0.46, every other emotion 0.72-0.96), 21.6 s.
- Learning curve (clips per emotion; alone / --base ravdess): 5: 0.593 / 0.694, 10:
  0.591 / 0.716, 20: 0.622 / 0.721, 50: 0.621 / 0.736, all: 0.629 / 0.754. (Measured
  with this script's own loop, since moved to ser.training.learning_curve for notebook 06, which
  draws the clips in another order; notebook 06 prints the curve of each report run.)
- Tried and dropped: a RAVDESS head's log-probabilities appended to the features
  (stacking): 0.593 / 0.593 at 5 clips, 0.629 / 0.630 with all. Other heads alone on the
  same two folds: layer 2 only 0.659, layer 3 0.624, C 0.1 0.617, C 0.001 0.624,
  layer_mix_mlp 0.646; each speaker's clips centred on that speaker's mean: 0.698.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ser.data.own_corpus import read_corpus
from ser.data.tess import tess_root
from ser.features.encoder_states import load_encoder_states
from ser.training.learning_curve import learning_curve
from ser.training.own_data import load_base, train_own_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="keep the trained model folder here")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    manifest = tess_root() / "manifest.csv"
    corpus = read_corpus(manifest, label_column="emotion", speaker_column="speaker")
    print(f"TESS as your own data: {len(corpus.clips)} clips, labels {corpus.labels}")
    base = None
    try:
        base = load_base("ravdess", progress=False)
    except Exception as error:  # no RAVDESS here: without the base only
        print(f"no RAVDESS base ({error})")
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch) / "model"
        runs = [("first (empty states cache)", None), ("second (cached states)", None)]
        if base is not None:
            runs.append(("with --base ravdess", "ravdess"))
        for attempt, base_name in runs:
            start = time.perf_counter()
            result = train_own_model(corpus, out, folds=2, seed=args.seed, force=True,
                                     progress=False, cache_dir=Path(scratch) / "cache",
                                     base=base_name, log=lambda _: None)  # fmt: skip
            total = time.perf_counter() - start
            parts = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
            print(f"train, {attempt}: {total:.1f} s ({parts}); "
                  f"UA {result.cross_validation.ua:.3f} over 2 speaker folds")  # fmt: skip
            print(result.cross_validation.report())
        states = load_encoder_states(
            corpus.clips, cache_dir=Path(scratch) / "cache", progress=False
        )
    print("learning curve (UA on the other speaker, mean of both directions):")
    print(learning_curve(states.states, corpus, base, seed=args.seed).round(3).to_string())


if __name__ == "__main__":
    main()
