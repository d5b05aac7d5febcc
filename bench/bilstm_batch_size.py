"""The original BiLSTM at another batch size: validation UA on six folds against the
committed run's (issue 27, item 7: train it fairly at lower cost).

The original project states no batch size; the plan uses 64. This trains the BiLSTM as
notebook 03 does (``ser.training.fitting.fit_split``, seed 42 + fold, early stopping on validation
UA) at ``--batch-size`` on each EmoBox fold and compares its validation UA, fold by fold,
with the committed run's (``models/runs/bilstm/speaker_independent/seed_42``). Test
actors are never scored.

    RAVDESS_DIR=... .venv/bin/python bench/bilstm_batch_size.py --batch-size 128

Result (2026-12-04, batch 128): validation UA 0.413 against 0.440 at 64 (folds 0.359 0.531
0.453 0.430 0.398 0.305 against 0.414 0.516 0.422 0.438 0.484 0.367); difference -0.027,
paired SE 0.019, so it falls by more than its noise. 612 s for the six folds against the
committed 1208 s (another day's machine). Not a free saving.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import keras
import numpy as np

from ser.config import RUNS_DIR
from ser.data.dataset import build_index
from ser.data.splits import EMOBOX_FOLDS, speaker_split
from ser.features.cache import load_features
from ser.models.specs import BILSTM
from ser.scoring import paired_standard_error
from ser.training.fitting import fit_split
from ser.training.runs import load_run

SEED = 42


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    index = build_index()
    features = load_features(index, kinds=("mfcc",), progress=False)["mfcc"].features
    labels = index["emotion_code"].to_numpy() - 1
    committed = load_run(RUNS_DIR, BILSTM.name, "speaker_independent", SEED)
    spec = replace(BILSTM, batch_size=args.batch_size)
    ours, theirs, seconds = [], [], []
    for fold in sorted(EMOBOX_FOLDS):
        split = speaker_split(index, fold, SEED)
        trained = fit_split(spec, features, labels, split, seed=SEED + fold)
        keras.backend.clear_session()
        ours.append(trained.validation_uar)
        theirs.append(committed.validation_uar[fold])
        seconds.append(trained.seconds)
        print(f"fold {fold}: batch {args.batch_size} {trained.validation_uar:.3f} in "
              f"{len(trained.history['loss'])} epochs, {trained.seconds:.0f} s; batch "
              f"{BILSTM.batch_size} (committed) {committed.validation_uar[fold]:.3f}, "
              f"{committed.seconds[fold]:.0f} s", flush=True)  # fmt: skip
    difference = np.mean(ours) - np.mean(theirs)
    print(f"validation UA: batch {args.batch_size} {np.mean(ours):.3f}, batch {BILSTM.batch_size} "
          f"{np.mean(theirs):.3f}; difference {difference:+.3f}, paired SE "
          f"{paired_standard_error(ours, theirs):.3f}; seconds {sum(seconds):.0f} against "
          f"{sum(committed.seconds.values()):.0f} (the committed run, another day's machine)")  # fmt: skip


if __name__ == "__main__":
    main()
