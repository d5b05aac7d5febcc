"""The two evaluation protocols, and the validation set carved from training data.

- ``random``: the original project's protocol, a stratified, seeded 80/20 split of
  the clips. The same actors appear in training and test (speaker leakage).
- ``speaker_independent``: the six folds of the EmoBox benchmark (Interspeech
  2024), four held-out actors each; every clip is tested exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

PROTOCOLS = ("random", "speaker_independent")

# EmoBox RAVDESS folds: fold -> held-out actors.
EMOBOX_FOLDS: dict[int, tuple[int, ...]] = {
    1: (1, 11, 20, 21),
    2: (4, 10, 12, 14),
    3: (8, 9, 19, 23),
    4: (3, 5, 7, 24),
    5: (2, 15, 16, 18),
    6: (6, 13, 17, 22),
}
SHIPPED_MODEL_FOLD = 1  # the shipped model never saw these actors
RANDOM_TEST_SIZE = 0.2
VALIDATION_FRACTION = 0.1  # random protocol: share of training clips for early stopping


@dataclass(frozen=True)
class Split:
    """Row positions (into the index) of one train/validation/test split."""

    protocol: str
    fold: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def _validation_actors(actors: list[int], seed: int) -> list[int]:
    """One male and one female training actor, drawn with ``seed``, for early stopping."""
    rng = np.random.default_rng(seed)
    male = sorted(a for a in actors if a % 2)
    female = sorted(a for a in actors if not a % 2)
    return sorted([int(rng.choice(male)), int(rng.choice(female))])


def random_split(index: pd.DataFrame, seed: int) -> Split:
    """Stratified 80/20 clip split, then 10% of training clips for validation."""
    positions = np.arange(len(index))
    labels = index["emotion_code"].to_numpy()
    train, test = train_test_split(
        positions, test_size=RANDOM_TEST_SIZE, stratify=labels, random_state=seed
    )
    fit, validation = train_test_split(
        train, test_size=VALIDATION_FRACTION, stratify=labels[train], random_state=seed
    )
    return Split("random", 0, np.sort(fit), np.sort(validation), np.sort(test))


def speaker_split(index: pd.DataFrame, fold: int, seed: int) -> Split:
    """EmoBox fold ``fold``: its four actors are the test set; two training actors validate."""
    actors = index["actor"].to_numpy()
    held_out = EMOBOX_FOLDS[fold]
    training_actors = sorted(set(actors) - set(held_out))
    validation_actors = _validation_actors(training_actors, seed + fold)
    test = np.flatnonzero(np.isin(actors, held_out))
    validation = np.flatnonzero(np.isin(actors, validation_actors))
    fit = np.flatnonzero(~np.isin(actors, list(held_out) + validation_actors))
    return Split("speaker_independent", fold, fit, validation, test)


def protocol_splits(index: pd.DataFrame, protocol: str, seed: int, folds=None) -> list[Split]:
    """All splits of a protocol (``folds`` limits the speaker-independent folds)."""
    if protocol == "random":
        return [random_split(index, seed)]
    if protocol == "speaker_independent":
        return [speaker_split(index, fold, seed) for fold in (folds or sorted(EMOBOX_FOLDS))]
    raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")


def describe_splits(index: pd.DataFrame, seed: int, folds=None) -> pd.DataFrame:
    """Clips and actors in training, validation and test, per split of both protocols."""
    actors = index["actor"].to_numpy()
    rows = []
    for protocol in PROTOCOLS:
        for split in protocol_splits(index, protocol, seed, folds=folds):
            row = {"protocol": protocol, "fold": split.fold}
            for part in ("train", "validation", "test"):
                positions = getattr(split, part)
                row[f"{part} clips"] = len(positions)
                held = sorted(set(actors[positions].tolist()))
                row[f"{part} actors"] = (
                    ", ".join(map(str, held)) if len(held) <= 4 else f"{len(held)} actors"
                )
            rows.append(row)
    return pd.DataFrame(rows)
