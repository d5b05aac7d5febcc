"""Explore variants of our model on validation actors only (the design exploration).

    RAVDESS_DIR=... .venv/bin/python bench/explore_models.py \
        '[{}, {"augmentation": false}, {"epochs": 60, "time_masks": 1}]' --folds 1 2 3 4 5 6

Each JSON object changes fields of ``ser.architectures.CNN`` (an empty object is
the spec as it stands). Every variant is trained on each fold's training actors
and scored on that fold's validation actors (two training actors per fold). Test
actors are never scored here: the script prints validation UA only, so any
choice made from its output is honest. Run one at a time; it uses both cores.
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np

from ser.architectures import CNN
from ser.dataset import build_index
from ser.download import ensure_ravdess
from ser.features import load_features
from ser.splits import speaker_split
from ser.training import fit_split


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("variants", help="JSON list of field changes to ser.architectures.CNN")
    parser.add_argument("--folds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    index = build_index(ensure_ravdess())
    features = load_features(index, ("mfcc", "logmel"))
    labels = index["emotion_code"].to_numpy() - 1
    for changes in json.loads(args.variants):
        spec = CNN.with_changes("variant", **changes)
        scores = []
        start = time.perf_counter()
        for fold in args.folds:
            split = speaker_split(index, fold, args.seed)
            trained = fit_split(
                spec, features[spec.features].features, labels, split, seed=args.seed + fold
            )
            scores.append(trained.validation_uar)
            print(f"  fold {fold}: validation UA {trained.validation_uar:.3f} "
                  f"({trained.seconds:.0f} s)", flush=True)  # fmt: skip
            keras.backend.clear_session()
        print(f"{json.dumps(changes)}: validation UA {np.mean(scores):.3f} ± {np.std(scores):.3f} "
              f"over folds {args.folds}, {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
