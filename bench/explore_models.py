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
    parser.add_argument("--robustness", action="store_true",
                        help="also score the validation actors under ser.robustness' conditions")  # fmt: skip
    args = parser.parse_args()
    index = build_index(ensure_ravdess())
    features = load_features(index, ("mfcc", "logmel"))
    labels = index["emotion_code"].to_numpy() - 1
    for changes in json.loads(args.variants):
        spec = CNN.with_changes("variant", **changes)
        scores, robust = [], []
        start = time.perf_counter()
        for fold in args.folds:
            split = speaker_split(index, fold, args.seed)
            trained = fit_split(
                spec, features[spec.features].features, labels, split, seed=args.seed + fold
            )
            scores.append(trained.validation_uar)
            print(f"  fold {fold}: validation UA {trained.validation_uar:.3f} "
                  f"({trained.seconds:.0f} s)", flush=True)  # fmt: skip
            if args.robustness:
                table = validation_robustness(trained.model, spec, index, split, args.seed)
                robust.append(table["UA"])
                print(
                    "    " + "  ".join(f"{k} {v:.2f}" for k, v in table["UA"].items()), flush=True
                )
            keras.backend.clear_session()
        print(f"{json.dumps(changes)}: validation UA {np.mean(scores):.3f} ± {np.std(scores):.3f} "
              f"over folds {args.folds}, {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
        if robust:
            mean = np.mean(robust, axis=0)
            print(f"  robustness (validation UA, mean over folds): all conditions {mean.mean():.3f}; "
                  + "  ".join(f"{k} {v:.3f}" for k, v in zip(robust[0].index, mean, strict=True)),
                  flush=True)  # fmt: skip


def validation_robustness(model, spec, index, split, seed: int):
    """UA per robustness condition on the split's validation actors (babble from its training actors)."""
    from ser.features import FeatureParams
    from ser.predict import ModelPredictor
    from ser.robustness import robustness_table

    actors = index["actor"].to_numpy()
    predictor = ModelPredictor(model, FeatureParams.of(spec.features))
    table, _ = robustness_table(
        predictor, index, sorted(set(actors[split.validation])),
        sorted(set(actors[split.train])), seed=seed, progress=False,
    )  # fmt: skip
    return table


if __name__ == "__main__":
    main()
