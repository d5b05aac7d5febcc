"""Waveform augmentation that keeps prosody: a bank of damaged versions of every clip, cached.

Each version passes the recording through a random room, microphone, level and noise
(pedalboard for the reverb, filters and gain; numpy for white, pink or brown noise)
and leaves pitch and tempo alone: emotion is carried by them. The versions are
computed once per clip, turned into the same features as the clean clip and cached
beside the features (``data/features``); a model with ``waveform_versions`` draws,
each epoch, one of the clean clip and its versions (:class:`ser.training.fitting.VersionDraws`),
so an epoch costs what it costs without them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ser.config import FEATURES_DIR
from ser.data.audio import load_audio
from ser.environment import source_digest
from ser.features.cache import cache_key, read_cache_file, write_cache_file
from ser.features.extraction import FeatureParams, feature_matrix, map_clips

BANK_SEED = 7
NOISE_CHANCE = 0.7
SNR_DB = (5.0, 30.0)


def _clip_seed(clip_id: str) -> int:
    return int(hashlib.sha256(clip_id.encode()).hexdigest()[:8], 16)


def noise_like(n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """White, pink or brown noise (equally likely) of ``n_samples``."""
    noise = rng.normal(size=n_samples)
    colour = rng.integers(3)  # 0 white, 1 pink (1/f power), 2 brown (1/f^2)
    if colour:
        spectrum = np.fft.rfft(noise) / np.maximum(1, np.arange(n_samples // 2 + 1)) ** (colour / 2)
        noise = np.fft.irfft(spectrum, n_samples)
    return noise


def waveform_version(samples: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """One augmented version of a clip: room, microphone, level and noise; prosody untouched."""
    from pedalboard import Gain, HighpassFilter, LowpassFilter, PeakFilter, Pedalboard, Reverb

    effects = []
    if rng.random() < 0.5:
        wet = rng.uniform(0.1, 0.35)
        effects.append(Reverb(room_size=rng.uniform(0.1, 0.8), wet_level=wet, dry_level=1 - wet))
    if rng.random() < 0.5:
        effects += [HighpassFilter(rng.uniform(80, 400)), LowpassFilter(rng.uniform(3000, 8000))]
    if rng.random() < 0.5:
        effects.append(PeakFilter(rng.uniform(300, 3000), rng.uniform(-9, 9), rng.uniform(0.7, 2)))
    effects.append(Gain(rng.uniform(-12, 6)))
    out = Pedalboard(effects)(np.asarray(samples, dtype=np.float32), rate)
    if rng.random() < NOISE_CHANCE:
        noise = noise_like(out.size, rng)
        speech = np.mean(out**2) + 1e-12
        snr = rng.uniform(*SNR_DB)
        out = out + noise * np.sqrt(speech / (np.mean(noise**2) + 1e-12) / 10 ** (snr / 10))
    return np.clip(out, -1, 1).astype(np.float32)


def bank_waveforms(samples: np.ndarray, rate: int, clip_id: str, versions: int) -> list:
    """A clip's ``versions`` bank versions, drawn from its own seed (the same in every process
    and for every model that trains on the bank)."""
    rng = np.random.default_rng([BANK_SEED, _clip_seed(clip_id)])
    return [waveform_version(samples, rate, rng) for _ in range(versions)]


def _clip_versions(args) -> np.ndarray:
    """Features of ``versions`` augmented versions of one clip: ``(versions, frames, features)``."""
    path, clip_id, params, versions = args
    samples = load_audio(path, params.sample_rate)
    return np.stack([
        feature_matrix(version, params)
        for version in bank_waveforms(samples, params.sample_rate, clip_id, versions)
    ])  # fmt: skip


def load_bank(
    index, params: FeatureParams, clean: np.ndarray, versions: int, *,
    cache_dir: Path = FEATURES_DIR, workers: int | None = None, progress: bool = True,
) -> np.ndarray:  # fmt: skip
    """``(clips, 1 + versions, frames, features)``: each clip's clean features (``clean``,
    in index order) and ``versions`` augmented versions, cached under a key of the
    features' key, the versions and the code that computes them."""
    about = {"versions": versions, "seed": BANK_SEED, "code": source_digest(__name__)}
    key = hashlib.sha256(
        json.dumps({"features": cache_key(index, params), **about}, sort_keys=True).encode()
    ).hexdigest()[:16]
    path = Path(cache_dir) / f"bank_{params.kind}_{key}.npz"
    clip_ids = index["clip_id"].tolist()
    augmented = read_cache_file(path, clip_ids)
    if augmented is None:
        jobs = [(str(p), c, params, versions) for p, c in zip(index["path"], clip_ids, strict=True)]
        made = map_clips(_clip_versions, jobs, f"{params.kind} bank ({versions} versions)",
                         workers=workers, progress=progress)  # fmt: skip
        augmented = np.stack(made).astype(np.float32)
        write_cache_file(path, key, params, augmented, clip_ids, **about)
    return np.concatenate([clean[:, None], augmented], axis=1)
