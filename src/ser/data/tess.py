"""TESS on disk: its clips from ``manifest.csv`` under ``TESS_DIR`` and its seven emotions.

TESS has seven of RAVDESS's eight emotions (no calm), so a RAVDESS model's answer
on a TESS clip is the most probable of those seven (:func:`seven_way`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES

TESS_EMOTIONS = [e for e in EMOTION_NAMES if e != "calm"]


def tess_root() -> Path | None:
    """The TESS folder named by ``TESS_DIR``, or None when it is not set."""
    value = os.environ.get("TESS_DIR", "").strip()
    return Path(value) if value else None


def tess_index(root: Path) -> pd.DataFrame:
    """One row per TESS clip (path, clip_id, speaker, word, emotion in RAVDESS's names)."""
    manifest = Path(root) / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"TESS_DIR={root}: no manifest.csv there (see the TESS README)")
    index = pd.read_csv(manifest)
    index["path"] = [str(Path(root) / p) for p in index["path"]]
    index["clip_id"] = [Path(p).stem for p in index["path"]]
    missing = [p for p in index["path"] if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(
            f"TESS_DIR={root}: {len(missing)} clips of manifest.csv are missing, e.g. {missing[0]}"
        )
    return index[["path", "clip_id", "speaker", "word", "emotion"]]


def seven_way(probabilities: np.ndarray, labels: list[str]) -> list[str]:
    """The most probable of TESS's seven emotions for each row of ``probabilities``."""
    columns = [labels.index(e) for e in TESS_EMOTIONS]
    return [TESS_EMOTIONS[i] for i in np.asarray(probabilities)[:, columns].argmax(axis=1)]


QUICK_CLIPS_PER_GROUP = 10  # per speaker and emotion, in a quick run


def quick_subset(index: pd.DataFrame) -> pd.DataFrame:
    """A smoke run's TESS: the first few clips of each speaker and emotion."""
    return index.groupby(["speaker", "emotion"]).head(QUICK_CLIPS_PER_GROUP).reset_index(drop=True)


def tess_clips(quick: bool = False) -> pd.DataFrame | None:
    """TESS's index from ``TESS_DIR`` (a smoke run's subset when ``quick``); None when unset."""
    root = tess_root()
    if root is None:
        return None
    return quick_subset(tess_index(root)) if quick else tess_index(root)
