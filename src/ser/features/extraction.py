"""Features: one fixed-size (frames x features) matrix per clip, cached.

Each clip is loaded through :func:`ser.data.audio.load_audio` at 22,050 Hz, padded
with trailing zeros or cut at the end to exactly ``(n_frames - 1) * hop``
samples (4.02 s), and turned into 174 centred frames (4.04 s at hop 512) of
either 40 MFCCs (the original project's features) or 64 log-mel bands in
decibels (our model's). Padding the waveform rather than the matrix means a
padded frame is what silence really looks like to the model, in training and in
prediction.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

import librosa
import numpy as np
from tqdm.auto import tqdm

from ser.config import (
    FEATURES_DIR,
    HOP_LENGTH,
    LOGMEL_FMAX,
    LOGMEL_N_FFT,
    N_FFT,
    N_FRAMES,
    N_MELS,
    N_MFCC,
    SAMPLE_RATE,
)
from ser.data.audio import AudioSource, load_audio, read_audio, to_mono_at_rate

if TYPE_CHECKING:  # pandas is imported where a table is built: `ser predict` starts faster
    import pandas as pd

# Bump when the computation changes in a way the parameters do not show.
FEATURE_VERSION = 2  # 2: computed with one BLAS thread (values differ in the last bits)
FEATURE_KINDS = ("mfcc", "logmel", "egemaps")
EGEMAPS_RATE = 16_000  # openSMILE's eGeMAPS is defined on 16 kHz speech
N_EGEMAPS = 88  # eGeMAPS v02 functionals


@dataclass(frozen=True)
class FeatureParams:
    """Everything that determines the features of a clip."""

    sample_rate: int = SAMPLE_RATE
    n_mfcc: int = N_MFCC
    n_fft: int = N_FFT
    hop_length: int = HOP_LENGTH
    n_frames: int = N_FRAMES
    kind: str = "mfcc"  # "mfcc" or "logmel"
    n_mels: int = N_MELS  # logmel only
    fmax: float = LOGMEL_FMAX  # logmel only

    @classmethod
    def of(cls, kind: str) -> FeatureParams:
        """The project's parameters for a feature kind: "mfcc" (original) or "logmel" (ours)."""
        if kind == "mfcc":
            return cls()
        if kind == "logmel":
            return cls(kind="logmel", n_fft=LOGMEL_N_FFT)
        if kind == "egemaps":
            return cls(kind="egemaps", sample_rate=EGEMAPS_RATE)
        if (
            kind == "whisper"
        ):  # 4 s windows at 16 kHz (64,000 samples): see ser.features.encoder_states
            return cls(kind="whisper", sample_rate=16_000, n_fft=400, hop_length=160,
                       n_frames=401, n_mels=80, fmax=8_000.0)  # fmt: skip
        raise ValueError(f"unknown feature kind {kind!r}; choose from {', '.join(FEATURE_KINDS)}")

    @property
    def n_features(self) -> int:
        """Values per frame: coefficients or mel bands (eGeMAPS: functionals per clip)."""
        return {"mfcc": self.n_mfcc, "logmel": self.n_mels, "whisper": self.n_mels,
                "egemaps": N_EGEMAPS}[self.kind]  # fmt: skip

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


def logmel_matrix(samples: np.ndarray, params: FeatureParams) -> np.ndarray:
    """Log-mel power in dB (re 1.0, no top-dB clipping) of a waveform at ``params.sample_rate``.

    Float32 ``(n_frames, n_mels)``. The model normalises each clip itself, so
    no statistics of other clips are needed here or at prediction time.
    """
    window = fix_length(np.asarray(samples, dtype=np.float32), params.n_samples)
    mel = librosa.feature.melspectrogram(
        y=window, sr=params.sample_rate, n_fft=params.n_fft, hop_length=params.hop_length,
        n_mels=params.n_mels, fmax=params.fmax,
    )  # fmt: skip
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).T.astype(np.float32)


@functools.cache
def _smile():
    import opensmile  # only the eGeMAPS baseline needs it

    return opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )


def egemaps_functionals(samples: np.ndarray, params: FeatureParams) -> np.ndarray:
    """The 88 eGeMAPS v02 functionals of a whole clip (openSMILE), float32 ``(88,)``.

    Computed on the clip as recorded (no padding or cutting): functionals
    summarise the whole utterance.
    """
    if "tensorflow" in sys.modules:
        raise RuntimeError(
            "openSMILE corrupts the heap of a process that has loaded TensorFlow (seen with "
            "opensmile 2.6 and TensorFlow 2.21): extract eGeMAPS features before TensorFlow is "
            "imported, as notebook 02 does (later notebooks read them from the cache)"
        )
    values = _smile().process_signal(np.asarray(samples, np.float32), params.sample_rate)
    return values.to_numpy(dtype=np.float32).reshape(-1)


@functools.cache
def _blas():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def feature_matrix(samples: np.ndarray, params: FeatureParams = FeatureParams()) -> np.ndarray:
    """The features of ``params.kind`` for a waveform at ``params.sample_rate``.

    MFCCs and log-mel are computed with one BLAS thread: the same sums in the
    same order in every process (extraction workers, the predictor, the tests),
    so a clip's features are bit-identical wherever they are computed.
    """
    if params.kind == "egemaps":
        return egemaps_functionals(samples, params)
    with _blas().limit(limits=1, user_api="blas"):
        return (
            logmel_matrix(samples, params)
            if params.kind == "logmel"
            else mfcc_matrix(samples, params)
        )


def clip_features(source: AudioSource, params: FeatureParams = FeatureParams()) -> np.ndarray:
    """Load one clip (path, bytes or stream) and return its feature matrix."""
    return feature_matrix(load_audio(source, params.sample_rate), params)


def _clip_features_from_path(args: tuple[str, tuple[FeatureParams, ...]]) -> list[np.ndarray]:
    """Every requested feature of one clip, decoding the file once (resampled once per rate)."""
    path, params_list = args
    samples, rate = read_audio(path)
    at_rate = {}
    for params in params_list:
        if params.sample_rate not in at_rate:
            at_rate[params.sample_rate] = to_mono_at_rate(
                samples, rate, params.sample_rate, name=path
            )
    return [feature_matrix(at_rate[p.sample_rate], p) for p in params_list]


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


@contextlib.contextmanager
def single_threaded_children():
    """Processes started inside inherit one-thread settings for BLAS, OpenMP and Numba."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def map_in_processes(
    function, items: Sequence, workers: int | None = None, chunksize: int = 1,
    start_method: str = "spawn",
):  # fmt: skip
    """``map(function, items)`` in ``workers`` processes (default: one per core), in order.

    Spawned by default, so it is safe even when the parent has already started TensorFlow
    threads (``start_method="fork"`` skips the workers' imports where the caller knows
    the parent has no threads), and with one BLAS/OpenMP thread per worker: the workers already fill
    the cores, and nested thread pools on top of them made extraction several times
    slower. With one worker (or one item) it runs in this process.
    """
    workers = max(1, min(workers or os.cpu_count() or 1, len(items)))
    if workers == 1:
        yield from map(function, items)
        return
    context = multiprocessing.get_context(start_method)
    with single_threaded_children(), ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(function, items, chunksize=chunksize)


def map_clips(
    function, jobs: Sequence, description: str, *, workers: int | None = None,
    progress: bool = True,
) -> list:  # fmt: skip
    """``function`` over one job per clip in worker processes, in order, with a progress bar."""
    results = map_in_processes(function, jobs, workers, chunksize=16)
    return list(tqdm(results, total=len(jobs), desc=description, unit="clip", disable=not progress))


def extract_features(
    paths: Sequence[str | Path],
    params: FeatureParams | Sequence[FeatureParams] = FeatureParams(),
    *,
    workers: int | None = None,
    progress: bool = True,
) -> np.ndarray | list[np.ndarray]:
    """Features of many clips, in order, in parallel: ``(n_clips, ...)`` per parameter set.

    With a sequence of parameter sets, every clip is decoded once and a list of
    arrays (one per set) is returned.
    """
    many = not isinstance(params, FeatureParams)
    params_list = tuple(params) if many else (params,)
    jobs = [(str(path), params_list) for path in paths]
    kinds = "+".join(p.kind for p in params_list)
    results = map_clips(_clip_features_from_path, jobs, kinds, workers=workers, progress=progress)
    stacked = [
        np.stack([r[i] for r in results]).astype(np.float32) for i in range(len(params_list))
    ]
    return stacked if many else stacked[0]


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (all of RAVDESS, 123 MB of FLAC, in about 0.2 s)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def clip_identities(paths) -> list[list[str]]:
    """Each clip as ``[folder/name, SHA-256 of its bytes]``: what a content-keyed cache hashes."""
    return [[f"{Path(p).parent.name}/{Path(p).name}", file_digest(p)] for p in paths]


def cache_key(index: pd.DataFrame, params: FeatureParams) -> str:
    """Hash of the feature parameters, the code version and the clips' identity.

    A clip is identified by its name and a hash of its bytes: an edited clip gets a
    new key even when its size and modification time are unchanged, and a fresh copy
    of the same dataset (new modification times) keeps the key, so its features are
    not extracted again.
    """
    clips = clip_identities(index["path"])
    payload = {
        "params": asdict(params),
        "feature_version": FEATURE_VERSION,
        "librosa": librosa.__version__,
        "clips": clips,
    }
    if params.kind == "egemaps":
        payload["opensmile"] = package_version("opensmile")
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class FeatureSet:
    """Features in index order, with where they came from."""

    features: np.ndarray
    clip_ids: list[str]
    path: Path
    from_cache: bool
    seconds: float


def _cache_path(index: pd.DataFrame, params: FeatureParams, cache_dir: Path) -> tuple[Path, str]:
    key = cache_key(index, params)
    return Path(cache_dir) / f"{params.kind}_{key}.npz", key


def read_cache_file(
    path: Path, clip_ids: list[str], *, match_ids: bool = True
) -> np.ndarray | None:
    """The array cached in ``path``, or None if there is none for exactly these clips.

    With ``match_ids=False`` the stored ids are taken as the writer's labels only: for an
    array that depends on the clips' bytes alone, whose key already names them in order
    (:func:`clip_identities`), two readers that name the same clips differently (TESS's
    index and a manifest of it) share the file; only the number of rows must agree.
    """
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as stored:
        ids = stored["clip_ids"].tolist()
        found = ids == clip_ids if match_ids else len(ids) == len(clip_ids)
        return stored["features"] if found else None


def write_cache_file(
    path: Path, key: str, params: FeatureParams | dict, features, clip_ids, **about
) -> None:  # fmt: skip
    """Cache ``features`` of ``clip_ids`` in ``path`` (no pickle), with a JSON sidecar that
    records the parameters (a dataclass or a dict with their ``kind``) and ``about``, which
    may override the other fields."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".part.npz")
    np.savez(partial, features=features, clip_ids=np.array(clip_ids))
    partial.replace(path)  # a crash never leaves a half-written cache file behind
    params = params if isinstance(params, dict) else asdict(params)
    sidecar = {"key": key, "params": params, "feature_version": FEATURE_VERSION,
               "librosa": librosa.__version__, "n_clips": len(clip_ids), "shape": list(features.shape),
               **about}  # fmt: skip
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")


def load_features(
    index: pd.DataFrame,
    kinds: Sequence[str] = ("mfcc", "logmel"),
    *,
    cache_dir: Path = FEATURES_DIR,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, FeatureSet]:
    """Features of each kind for every clip of ``index``, from the cache when its key matches.

    Each cache file is ``<kind>_<key>.npz`` (no pickle) with a JSON sidecar that
    records the parameters; any change of parameters or clips gives a new key.
    The kinds missing from the cache are extracted together, decoding each
    clip once.
    """
    start = time.perf_counter()
    clip_ids = index["clip_id"].tolist()
    found, missing = {}, []
    for kind in kinds:
        params = FeatureParams.of(kind)
        path, key = _cache_path(index, params, cache_dir)
        cached = read_cache_file(path, clip_ids)
        if cached is not None:
            found[kind] = FeatureSet(cached, clip_ids, path, True, time.perf_counter() - start)
        else:
            missing.append((kind, params, path, key))
    if missing:
        start = time.perf_counter()
        arrays = extract_features(index["path"].tolist(), [m[1] for m in missing],
                                  workers=workers, progress=progress)  # fmt: skip
        seconds = time.perf_counter() - start
        for (kind, params, path, key), features in zip(missing, arrays, strict=True):
            write_cache_file(path, key, params, features, clip_ids)
            found[kind] = FeatureSet(features, clip_ids, path, False, seconds)
    return {kind: found[kind] for kind in kinds}


def load_or_extract(
    index: pd.DataFrame,
    params: FeatureParams = FeatureParams(),
    *,
    cache_dir: Path = FEATURES_DIR,
    workers: int | None = None,
    progress: bool = True,
) -> FeatureSet:
    """Features of one parameter set for every clip of ``index``, cached (see :func:`load_features`)."""
    start = time.perf_counter()
    path, key = _cache_path(index, params, cache_dir)
    clip_ids = index["clip_id"].tolist()
    cached = read_cache_file(path, clip_ids)
    if cached is not None:
        return FeatureSet(cached, clip_ids, path, True, time.perf_counter() - start)
    features = extract_features(index["path"].tolist(), params, workers=workers, progress=progress)
    write_cache_file(path, key, params, features, clip_ids)
    return FeatureSet(features, clip_ids, path, False, time.perf_counter() - start)


def describe_cache(cache_dir: Path = FEATURES_DIR) -> pd.DataFrame:
    """One row per cached feature file: key, shape, size and parameters."""
    rows = []
    for sidecar in sorted(Path(cache_dir).glob("*_*.json")):
        info = json.loads(sidecar.read_text())
        npz = sidecar.with_suffix(".npz")
        rows.append({
            "file": npz.name, "clips": info["n_clips"], "shape": tuple(info["shape"]),
            "MB": round(npz.stat().st_size / 1e6, 1) if npz.exists() else None,
            **info["params"], "librosa": info["librosa"],
        })  # fmt: skip
    import pandas as pd

    return pd.DataFrame(rows)


def coefficient_statistics(features: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    """Mean, standard deviation, min and max of each MFCC coefficient over all frames."""
    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    return pd.DataFrame(
        {"mean": flat.mean(0), "std": flat.std(0), "min": flat.min(0), "max": flat.max(0)},
        index=pd.Index(range(features.shape[-1]), name="coefficient"),
    )
