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
    """A small but complete Metrics object: every model's per-fold scores set by hand; the CNN
    ships, so the encoder family is absent (see :func:`with_encoder`)."""
    from ser.evaluation.schema import (
        ConditionResult,
        CorpusModelResult,
        CorpusResult,
        Metrics,
        ModelResult,
        ProtocolResult,
        RobustnessResult,
        Scores,
        ShippedResult,
    )
    from ser.models.calibration import CalibrationResult

    def result(protocol, uar, folds):
        scores = [
            Scores(60, uar, uar, uar, {"calm": uar, "sad": uar}, fold, [fold, fold + 10])
            for fold in folds
        ]
        mean = {"accuracy": uar, "uar": uar, "macro_f1": uar}
        return ProtocolResult(protocol, scores, scores[0], mean, {k: 0.0321 for k in mean},
                              {"calm": uar, "sad": uar})  # fmt: skip

    def model(name, label, role, si, rnd=None, **extra):
        protocols = {"speaker_independent": result("speaker_independent", si, [1, 2])}
        if rnd is not None:
            protocols["random"] = result("random", rnd, [0])
        return ModelResult(name, label, role, f"{name} description", protocols, **extra)

    models = {
        "cnn": model("cnn", "CNN (reference design)", "cnn", ours_si, ours_random,
                     training_seconds={"speaker_independent": 300.0, "random": 50.0}),
        "bilstm": model("bilstm", "the original BiLSTM", "reference", bilstm_si, 0.5),
        "majority": model("majority", "the majority class", "baseline", 0.125, 0.125),
        "logistic_regression": model("logistic_regression", "a logistic regression", "baseline",
                                     baseline_si - 0.05, 0.6),
        "egemaps_svm": model("egemaps_svm", "eGeMAPS with an SVM", "baseline", baseline_si, 0.6,
                             svm_c_per_fold={"speaker_independent": {1: 1.0, 2: 10.0}}),
    }  # fmt: skip
    shipped = ShippedResult(
        "cnn", Scores(240, 0.4444, 0.4321, 0.4, {"calm": 0.5}, 0, [1, 11, 20, 21]),
        list(range(2, 20)), [13, 16], 43, 40, 1234, ["neutral", "calm"],
    )  # fmt: skip
    calibration = CalibrationResult(0.1, 0.04, 1.2, 1.1, {1: 1.5, 2: 1.4}, {1: 0.5, 2: 0.6}, 0.8,
                                    0.6, 0.7, 0.75, 0.4)  # fmt: skip
    conditions = {"clean": ConditionResult(0.7, 0.0), "white noise 20 dB": ConditionResult(0.6, 0.1),
                  "babble 10 dB": ConditionResult(0.5, 0.2)}  # fmt: skip
    tess = CorpusResult("TESS", 100, ["neutral", "sad"], [
        CorpusModelResult("cnn", "CNN (reference design)", "cnn", 0.55, {"neutral": 0.9, "sad": 0.2}),
        CorpusModelResult("bilstm", "the original BiLSTM", "reference", 0.3, {"neutral": 0.5, "sad": 0.1}),
    ])  # fmt: skip
    return Metrics(models, "cnn", "bilstm", shipped, {"seed": 1, "quick": quick, "folds": [1, 2]},
                   calibration={"cnn": calibration},
                   robustness=[RobustnessResult("cnn", "CNN (shipped)", True, conditions)],
                   corpora=[tess])  # fmt: skip


def with_encoder(metrics, si=0.77, shipped=True):
    """``metrics`` with an encoder family whose best head scores ``si`` (and ships)."""
    from dataclasses import replace

    from ser.evaluation.schema import EncoderResult, EnrolmentResult, ModelResult

    cnn = metrics.models[metrics.ours]
    protocols = {p: replace(r, mean={k: si for k in r.mean}) for p, r in cnn.protocols.items()}
    head = ModelResult("whisper_all_layers", "Whisper encoder, every layer", "encoder",
                       "a head", protocols)  # fmt: skip
    metrics.models[head.name] = head
    winner = head.name if shipped else metrics.ours
    selection = [{"candidate": head.name, "validation UA": 0.8, "± std over folds": 0.05},
                 {"candidate": metrics.ours, "validation UA": 0.7, "± std over folds": 0.04}]  # fmt: skip
    metrics.encoder = EncoderResult(head.name, winner, "the rule", selection, [
        EnrolmentResult("10 random clips", 0.85, 0.02, {1: 0.84, 2: 0.86}),
        EnrolmentResult("neutral and calm clips", 0.8, 0.03, {1: 0.79, 2: 0.81}),
    ])  # fmt: skip
    metrics.calibration[head.name] = metrics.calibration[metrics.ours]
    return metrics
