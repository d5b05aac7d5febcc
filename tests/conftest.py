"""Shared fixtures: the real RAVDESS folder (when available) and synthetic trees."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser.data.dataset import expected_clip_ids


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


def speech(seconds: float = 2.0, rate: int = 22_050, channels: int = 1) -> np.ndarray:
    """Someone speaking: a bundled RAVDESS sample at ``rate``, repeated or cut to ``seconds``."""
    import soxr

    from ser.config import SAMPLES_DIR

    samples, clip_rate = sf.read(SAMPLES_DIR / "03-01-05-02-01-01-01.flac", dtype="float32")
    if rate != clip_rate:
        samples = soxr.resample(samples, clip_rate, rate)
    wave = np.resize(samples, int(seconds * rate)).astype(np.float32)
    return wave if channels == 1 else np.stack([wave] * channels, axis=1)


def audio_writer(folder: Path, signal, default_seconds: float):
    """``writer(name, seconds, rate, channels, subtype, fmt)``: ``signal`` written to ``folder/name``."""

    def writer(name: str, seconds=default_seconds, rate=22_050, channels=1, subtype=None, fmt=None):
        path = folder / name
        sf.write(path, signal(seconds, rate, channels), rate, subtype=subtype, format=fmt)
        return path

    return writer


@pytest.fixture
def write_speech(tmp_path: Path):
    """Write speech (:func:`speech`) with the given length, rate, channels and subtype."""
    return audio_writer(tmp_path, speech, 2.0)


@pytest.fixture
def write_audio(tmp_path: Path):
    """Write a tone (:func:`tone`) with the given length, rate, channels and subtype."""
    return audio_writer(tmp_path, tone, 0.5)


def make_metrics(ours_si=0.7, ours_random=0.9, bilstm_si=0.4, baseline_si=0.5, quick=False):
    """A small but complete Metrics object: every model's per-fold scores set by hand."""
    from ser.evaluation.tables import (
        Metrics,
        ModelResult,
        ProtocolResult,
        Scores,
        SeedSpread,
        ShippedResult,
    )

    def result(protocol, uar, folds):
        scores = [
            Scores(60, uar, uar, uar, {"calm": uar, "sad": uar}, fold, [fold, fold + 10])
            for fold in folds
        ]
        mean = {"accuracy": uar, "uar": uar, "macro_f1": uar}
        return ProtocolResult(protocol, scores, scores[0], mean, {k: 0.0321 for k in mean},
                              {"calm": uar, "sad": uar})  # fmt: skip

    def model(name, role, si, rnd=None):
        protocols = {"speaker_independent": result("speaker_independent", si, [1, 2])}
        if rnd is not None:
            protocols["random"] = result("random", rnd, [0])
        return ModelResult(name, role, f"{name} description", protocols)

    models = {
        "cnn": model("cnn", "ours", ours_si, ours_random),
        "cnn_random_split": ModelResult(
            "cnn_random_split",
            "ours, random split",
            "chosen for the random split",
            {"random": result("random", ours_random, [0])},
        ),
        "cnn_mfcc": model("cnn_mfcc", "ablation", ours_si - 0.1),
        "bilstm": model("bilstm", "reference", bilstm_si, 0.5),
        "majority": model("majority", "baseline", 0.125, 0.125),
        "logistic_regression": model("logistic_regression", "baseline", baseline_si - 0.05, 0.6),
        "egemaps_svm": model("egemaps_svm", "baseline", baseline_si, 0.6),
    }
    models["cnn"].seeds = {
        "speaker_independent": SeedSpread(
            [1, 2, 3], {"uar": [ours_si, ours_si, ours_si]}, {"uar": ours_si}, {"uar": 0.0123}
        )  # fmt: skip
    }
    headline = {"accuracy": ours_random, "uar": ours_random, "macro_f1": ours_random}
    models["cnn_random_split"].seeds = {
        "random": SeedSpread(
            [1, 2, 3],
            {k: [v] * 3 for k, v in headline.items()},
            headline,
            {k: 0.0111 for k in headline},
        )  # fmt: skip
    }
    shipped = ShippedResult(
        "cnn", Scores(240, 0.4444, 0.4321, 0.4, {"calm": 0.5}, 0, [1, 11, 20, 21]),
        list(range(2, 20)), [13, 16], 43, 40, 1234, ["neutral", "calm"],
    )  # fmt: skip
    selection = [{"candidate": "cnn", "description": "ours", "validation_uar_mean": 0.6,
                  "validation_uar_std": 0.05}]  # fmt: skip
    return Metrics(models, "cnn", "cnn", "bilstm", selection, shipped, {"seed": 1, "quick": quick},
                   random_model="cnn_random_split",
                   random_selection=[{"candidate": "cnn", "validation_uar": 0.8, "behind_the_best": 0.0,
                                     "noise": 0.0, "ingredients": 1, "chosen": True}])  # fmt: skip
