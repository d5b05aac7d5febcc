"""Features: one fixed-size (frames x features) matrix per clip (cached by :mod:`ser.features.cache`).

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
import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import librosa
import numpy as np
from tqdm.auto import tqdm

from ser.config import (
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


def mfcc_matrix(samples: np.ndarray, params: FeatureParams = FeatureParams()) -> np.ndarray:
    """MFCCs of a waveform already at ``params.sample_rate``: float32 ``(n_frames, n_mfcc)``.

    The waveform is fitted to the window first: cut, or padded with zeros, at the end.
    """
    window = librosa.util.fix_length(np.asarray(samples, dtype=np.float32), size=params.n_samples)
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
    window = librosa.util.fix_length(np.asarray(samples, dtype=np.float32), size=params.n_samples)
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


def coefficient_statistics(features: np.ndarray) -> pd.DataFrame:
    """Mean, standard deviation, min and max of each MFCC coefficient over all frames."""
    import pandas as pd

    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    return pd.DataFrame(
        {"mean": flat.mean(0), "std": flat.std(0), "min": flat.min(0), "max": flat.max(0)},
        index=pd.Index(range(features.shape[-1]), name="coefficient"),
    )
