"""MFCC features: one fixed-size (frames x coefficients) matrix per clip, cached.

Each clip is loaded through :func:`ser.audio.load_audio` at 22,050 Hz, padded
with trailing zeros or cut at the end to exactly ``(n_frames - 1) * hop``
samples (4.02 s), and turned into 40 MFCCs over 174 centred frames (4.04 s at
hop 512). Padding the waveform rather than the MFCC matrix means a padded frame
is what silence really looks like to the model, in training and in prediction.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ser.audio import AudioSource, load_audio
from ser.config import FEATURES_DIR, HOP_LENGTH, N_FFT, N_FRAMES, N_MFCC, SAMPLE_RATE

# Bump when the computation changes in a way the parameters do not show.
FEATURE_VERSION = 1


@dataclass(frozen=True)
class FeatureParams:
    """Everything that determines the features of a clip."""

    sample_rate: int = SAMPLE_RATE
    n_mfcc: int = N_MFCC
    n_fft: int = N_FFT
    hop_length: int = HOP_LENGTH
    n_frames: int = N_FRAMES

    @property
    def n_samples(self) -> int:
        """Waveform length that gives exactly ``n_frames`` centred frames."""
        return (self.n_frames - 1) * self.hop_length

    @property
    def window_seconds(self) -> float:
        return self.n_frames * self.hop_length / self.sample_rate


def fix_length(samples: np.ndarray, n_samples: int) -> np.ndarray:
    """Cut at the end, or pad the end with zeros, to exactly ``n_samples``."""
    if samples.size >= n_samples:
        return samples[:n_samples]
    return np.pad(samples, (0, n_samples - samples.size))


def mfcc_matrix(samples: np.ndarray, params: FeatureParams = FeatureParams()) -> np.ndarray:
    """MFCCs of a waveform already at ``params.sample_rate``: float32 ``(n_frames, n_mfcc)``.

    The waveform is fitted to the window first (see :func:`fix_length`).
    """
    window = fix_length(np.asarray(samples, dtype=np.float32), params.n_samples)
    mfcc = librosa.feature.mfcc(
        y=window, sr=params.sample_rate, n_mfcc=params.n_mfcc,
        n_fft=params.n_fft, hop_length=params.hop_length,
    )  # fmt: skip
    return mfcc.T.astype(np.float32)


def clip_features(source: AudioSource, params: FeatureParams = FeatureParams()) -> np.ndarray:
    """Load one clip (path, bytes or stream) and return its MFCC matrix."""
    return mfcc_matrix(load_audio(source, params.sample_rate), params)


def _clip_features_from_path(args: tuple[str, FeatureParams]) -> np.ndarray:
    path, params = args
    return clip_features(path, params)


def extract_features(
    paths: Sequence[str | Path],
    params: FeatureParams = FeatureParams(),
    *,
    workers: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """MFCC matrices of many clips, in order, in parallel: ``(n_clips, n_frames, n_mfcc)``."""
    workers = workers or os.cpu_count() or 1
    jobs = [(str(path), params) for path in paths]
    bar = tqdm(total=len(jobs), desc="MFCC", unit="clip", disable=not progress)
    if workers == 1:
        results = []
        for job in jobs:
            results.append(_clip_features_from_path(job))
            bar.update()
    else:
        # spawn: safe even when the parent has already started TensorFlow threads
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = []
            for matrix in pool.map(_clip_features_from_path, jobs, chunksize=16):
                results.append(matrix)
                bar.update()
    bar.close()
    return np.stack(results).astype(np.float32)


def cache_key(index: pd.DataFrame, params: FeatureParams) -> str:
    """Hash of the feature parameters, the code version and the clip list (name and size)."""
    clips = [
        [Path(p).parent.name + "/" + Path(p).name, Path(p).stat().st_size] for p in index["path"]
    ]
    payload = {
        "params": asdict(params),
        "feature_version": FEATURE_VERSION,
        "librosa": librosa.__version__,
        "clips": clips,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class FeatureSet:
    """Features in index order, with where they came from."""

    features: np.ndarray
    clip_ids: list[str]
    path: Path
    from_cache: bool
    seconds: float


def load_or_extract(
    index: pd.DataFrame,
    params: FeatureParams = FeatureParams(),
    *,
    cache_dir: Path = FEATURES_DIR,
    workers: int | None = None,
    progress: bool = True,
) -> FeatureSet:
    """Features for every clip of ``index``, from the cache when its key matches.

    The cache file is ``mfcc_<key>.npz`` (no pickle) with a JSON sidecar that
    records the parameters; any change of parameters or clips gives a new key.
    """
    start = time.perf_counter()
    key = cache_key(index, params)
    path = Path(cache_dir) / f"mfcc_{key}.npz"
    clip_ids = index["clip_id"].tolist()
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            if stored["clip_ids"].tolist() == clip_ids:
                return FeatureSet(
                    stored["features"], clip_ids, path, True, time.perf_counter() - start
                )
    features = extract_features(index["path"].tolist(), params, workers=workers, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".part.npz")
    np.savez(partial, features=features, clip_ids=np.array(clip_ids))
    partial.replace(path)
    sidecar = {"key": key, "params": asdict(params), "feature_version": FEATURE_VERSION,
               "librosa": librosa.__version__, "n_clips": len(clip_ids), "shape": list(features.shape)}  # fmt: skip
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return FeatureSet(features, clip_ids, path, False, time.perf_counter() - start)


def describe_cache(cache_dir: Path = FEATURES_DIR) -> pd.DataFrame:
    """One row per cached feature file: key, shape, size and parameters."""
    rows = []
    for sidecar in sorted(Path(cache_dir).glob("mfcc_*.json")):
        info = json.loads(sidecar.read_text())
        npz = sidecar.with_suffix(".npz")
        rows.append({
            "file": npz.name, "clips": info["n_clips"], "shape": tuple(info["shape"]),
            "MB": round(npz.stat().st_size / 1e6, 1) if npz.exists() else None,
            **info["params"], "librosa": info["librosa"],
        })  # fmt: skip
    return pd.DataFrame(rows)


def coefficient_statistics(features: np.ndarray) -> pd.DataFrame:
    """Mean, standard deviation, min and max of each MFCC coefficient over all frames."""
    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    return pd.DataFrame(
        {"mean": flat.mean(0), "std": flat.std(0), "min": flat.min(0), "max": flat.max(0)},
        index=pd.Index(range(features.shape[-1]), name="coefficient"),
    )
