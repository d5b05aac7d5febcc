"""Seconds per training epoch of each recipe notebook 03 trains (fold 1's training clips).

    .venv/bin/python bench/epoch_cost.py [--epochs 3] [--specs bilstm cnn ...] [--batch-sizes 32 64]

Trains each spec for a few epochs on the real features (from the feature cache)
and prints the median seconds of the epochs after the first (the first one traces
the graph), and the seconds of one validation pass. Needs ``RAVDESS_DIR``.

2026-12-04, the BiLSTM by batch size (`--specs bilstm --batch-sizes 32 64 128`), seconds
per epoch: 32 5.13, 64 (the plan's) 3.98, 128 2.51. Whether its validation UA holds at a
larger batch is not measured yet (issue 27, item 7).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import keras
import numpy as np

from ser.data.dataset import build_index
from ser.data.download import ensure_ravdess
from ser.data.splits import protocol_splits
from ser.features.cache import load_features
from ser.models.architectures import N_CLASSES, build_model
from ser.training.fitting import predict_proba, seed_everything
from ser.training.plan import SPECS


class EpochClock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)

    def on_train_begin(self, logs=None):
        self.seconds = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--specs", nargs="*", default=list(SPECS), choices=list(SPECS))
    parser.add_argument("--batch-sizes", nargs="*", type=int,
                        help="time each spec at these batch sizes instead of its own")  # fmt: skip
    args = parser.parse_args()
    index = build_index(ensure_ravdess())
    features = load_features(index, progress=False)
    (split,) = protocol_splits(index, "speaker_independent", 42, folds=[1])
    labels = index["emotion_code"].to_numpy() - 1
    print(f"{'spec':48s} {'s/epoch':>8s} {'validation pass':>16s}")
    runs = [(name, size) for name in args.specs for size in (args.batch_sizes or [None])]
    for name, size in runs:
        spec = replace(SPECS[name], epochs=args.epochs)
        if size:
            spec, name = replace(spec, batch_size=size), f"{name} (batch {size})"
        x = features[spec.features].features
        seed_everything(42)
        steps = int(np.ceil(len(split.train) / spec.batch_size))
        model = build_model(spec, x.shape[1], x.shape[2], steps_per_epoch=steps,
                            adapt_on=x[split.train], seed=42)  # fmt: skip
        clock = EpochClock()
        model.fit(x[split.train], keras.utils.to_categorical(labels[split.train], N_CLASSES),
                  epochs=spec.epochs, batch_size=spec.batch_size, callbacks=[clock], verbose=0)  # fmt: skip
        start = time.perf_counter()
        predict_proba(model, x[split.validation])
        validation = time.perf_counter() - start
        print(f"{name:48s} {statistics.median(clock.seconds[1:]):8.2f} {validation:16.2f}")
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
