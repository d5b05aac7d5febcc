"""Shared fixtures: the real RAVDESS folder (when available) and synthetic trees."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser.dataset import expected_clip_ids


def _real_ravdess() -> Path | None:
    value = os.environ.get("RAVDESS_DIR", "").strip()
    return Path(value) if value and Path(value).is_dir() else None


@pytest.fixture(scope="session")
def ravdess_root() -> Path:
    """The real RAVDESS folder. Required in CI (fails there), skipped elsewhere."""
    root = _real_ravdess()
    if root is None:
        message = "RAVDESS_DIR is not set to a RAVDESS folder"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must provide the real data")
        pytest.skip(message)
    return root


def make_tree(root: Path, ids=None, suffix: str = ".flac") -> Path:
    """Write empty files named like the official release (names only, no audio)."""
    for clip_id in sorted(expected_clip_ids() if ids is None else ids):
        actor = clip_id[-2:]
        folder = root / f"Actor_{actor}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{clip_id}{suffix}").touch()
    return root


@pytest.fixture
def synthetic_tree(tmp_path: Path) -> Path:
    """A complete 1440-name tree of empty files."""
    return make_tree(tmp_path / "Audio_Speech_Actors_01-24")


def tone(
    seconds: float = 0.5, rate: int = 22_050, channels: int = 1, freq: float = 220.0
) -> np.ndarray:
    """A sine tone, shape (frames,) or (frames, channels)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


@pytest.fixture
def write_audio(tmp_path: Path):
    """Write a tone to ``tmp_path/name`` with the given rate, channels and subtype."""

    def writer(name: str, seconds=0.5, rate=22_050, channels=1, subtype=None, fmt=None) -> Path:
        path = tmp_path / name
        sf.write(path, tone(seconds, rate, channels), rate, subtype=subtype, format=fmt)
        return path

    return writer
