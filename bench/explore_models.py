"""Explore variants of our model on validation actors only (the design exploration).

    RAVDESS_DIR=... .venv/bin/python bench/explore_models.py \
        '[{}, {"augmentation": false}, {"epochs": 60, "time_masks": 1}]' --folds 1 2 3 4 5 6

Each JSON object changes fields of ``ser.models.architectures.CNN`` (an empty object is
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

from ser.data.dataset import build_index
from ser.data.download import ensure_ravdess
from ser.data.splits import random_split, speaker_split
from ser.features.cache import load_features
from ser.models.architectures import CNN
from ser.training.fitting import fit_split


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "variants", help="JSON list of field changes to ser.models.architectures.CNN"
    )
    parser.add_argument("--folds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--protocol", choices=["speaker_independent", "random"],
                        default="speaker_independent",
                        help="random: the random split's validation clips (10%% of its training clips)")  # fmt: skip
    parser.add_argument(
        "--tess",
        action="store_true",
        help="also score each fold's model on TESS ($TESS_DIR; never trained on)",
    )
    parser.add_argument("--robustness", action="store_true",
                        help="also score the validation actors under ser.evaluation.robustness' conditions")  # fmt: skip
    args = parser.parse_args()
    index = build_index(ensure_ravdess())
    features = load_features(index, ("mfcc", "logmel"))
    labels = index["emotion_code"].to_numpy() - 1
    tess = tess_clips() if args.tess else None
    for changes in json.loads(args.variants):
        spec = CNN.with_changes("variant", **changes)
        scores, robust, tess_scores = [], [], []
        start = time.perf_counter()
        folds = [0] if args.protocol == "random" else args.folds
        for fold in folds:
            split = (random_split(index, args.seed) if args.protocol == "random"
                     else speaker_split(index, fold, args.seed))  # fmt: skip
            trained = fit_split(
                spec, features[spec.features].features, labels, split, seed=args.seed + fold
            )
            scores.append(trained.validation_uar)
            line = f"  fold {fold}: validation UA {trained.validation_uar:.3f}"
            if tess is not None:
                tess_scores.append(tess_uar(trained.model, tess, spec.features))
                line += f", TESS UA {tess_scores[-1]:.3f}"
            print(f"{line} ({trained.seconds:.0f} s)", flush=True)
            if args.robustness:
                table = validation_robustness(trained.model, spec, index, split, args.seed)
                robust.append(table["UA"])
                print(
                    "    " + "  ".join(f"{k} {v:.2f}" for k, v in table["UA"].items()), flush=True
                )
            keras.backend.clear_session()
        print(f"{json.dumps(changes)}: validation UA {np.mean(scores):.3f} ± {np.std(scores):.3f} "
              f"over folds {folds}, {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
        if tess_scores:
            print(f"  TESS UA (seven emotions) {np.mean(tess_scores):.3f}", flush=True)
        if robust:
            mean = np.mean(robust, axis=0)
            print(f"  robustness (validation UA, mean over folds): all conditions {mean.mean():.3f}; "
                  + "  ".join(f"{k} {v:.3f}" for k, v in zip(robust[0].index, mean, strict=True)),
                  flush=True)  # fmt: skip


def tess_clips() -> dict:
    """TESS's clips as log-mel features (what our model reads; from the feature cache, as
    notebook 04 reads them), and their emotions."""
    from ser.data.tess import tess_index, tess_root

    root = tess_root()
    if root is None:
        raise SystemExit("--tess needs TESS_DIR (the TESS folder with manifest.csv)")
    frame = tess_index(root)
    features = load_features(frame, kinds=("logmel",), progress=False)
    return {"emotion": frame["emotion"].to_numpy(), "logmel": features["logmel"].features}


def tess_uar(model, tess: dict, kind: str) -> float:
    """UA over TESS's seven emotions (argmax over those seven)."""
    from ser.config import EMOTION_NAMES
    from ser.data.tess import seven_way
    from ser.scoring import unweighted_accuracy
    from ser.training.fitting import predict_proba

    answers = seven_way(predict_proba(model, tess[kind]), list(EMOTION_NAMES))
    return unweighted_accuracy(tess["emotion"], answers)


def validation_robustness(model, spec, index, split, seed: int):
    """UA per robustness condition on the split's validation actors (babble from its training actors)."""
    from ser.evaluation.robustness import robustness_table
    from ser.features.extraction import FeatureParams
    from ser.inference.predict import ModelPredictor

    actors = index["actor"].to_numpy()
    predictor = ModelPredictor(model, FeatureParams.of(spec.features))
    table, _ = robustness_table(
        predictor, index, sorted(set(actors[split.validation])),
        sorted(set(actors[split.train])), seed=seed, progress=False,
    )  # fmt: skip
    return table


if __name__ == "__main__":
    main()
