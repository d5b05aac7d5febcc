"""Encoder states per clip: every layer of the Whisper encoder, pooled over time, cached.

A clip is loaded at 16 kHz, prepared by a :class:`FrontEnd` (the project's: its speech
levelled, then a 4 s window), turned into Whisper's log-mel and encoded; each of the
``n_layers + 1`` states is pooled into
its mean and standard deviation over time, so a clip becomes one float32 array
``(n_states, 2 * width)`` (5 x 768 for tiny.en).

The cache key is computed from what the states depend on: the clips' bytes, the
encoder's weights file, the source of this module and of :mod:`ser.models.whisper_encoder`, and
the library versions. Editing the code that computes the states gives a new key
by itself; there is no version number to remember.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from ser.config import FEATURES_DIR
from ser.data.audio import load_audio
from ser.environment import source_digest
from ser.models.whisper_encoder import (
    WHISPER_RATE,
    load_encoder_weights,
    whisper_dir,
    whisper_log_mel,
)

if TYPE_CHECKING:
    import pandas as pd


def pool_states(states) -> np.ndarray:
    """Mean and standard deviation over time of each state: ``(n_states, 2 * width)``.

    The deviation is ``sqrt(var + 1e-5)``, as the model's own StatisticsPooling layer
    computes it in the exported graph.
    """
    pooled = []
    for state in states:
        frames = np.asarray(state, dtype=np.float32).reshape(-1, np.shape(state)[-1])
        pooled.append(np.concatenate([frames.mean(0), np.sqrt(frames.var(0) + 1e-5)]))
    return np.stack(pooled).astype(np.float32)


@dataclass(frozen=True)
class FrontEnd:
    """How a waveform is prepared before Whisper's log-mel.

    ``trim_db``: cut leading and trailing audio quieter than this many dB below the
    clip's peak (None: keep the clip as recorded). ``level_dbfs``: scale the clip to
    this RMS level (None: keep its level), measured over the whole clip or, with
    ``speech_level``, over its 25-ms frames within 40 dB of the loudest (so a clip's
    share of silence does not change how loud its speech is made). ``window_seconds``:
    pad with zeros or cut to this length (None: the clip's own length).
    ``max_silence_seconds``: keep at most this much of the quiet (40 dB below the peak)
    before and after the speech (None: keep it all).
    """

    trim_db: float | None = None
    level_dbfs: float | None = None
    window_seconds: float | None = None
    speech_level: bool = False
    max_silence_seconds: float | None = None

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        samples = np.asarray(samples, dtype=np.float32)
        if self.max_silence_seconds is not None:
            samples = _cap_silence(samples, int(self.max_silence_seconds * WHISPER_RATE))
        if self.trim_db is not None:
            import librosa

            trimmed, _ = librosa.effects.trim(samples, top_db=self.trim_db)
            samples = trimmed if trimmed.size >= WHISPER_RATE // 10 else samples
        if self.level_dbfs is not None:
            rms = _speech_rms(samples) if self.speech_level else _rms(samples)
            if rms > 0:
                samples = samples * np.float32(10 ** (self.level_dbfs / 20) / rms)
        if self.window_seconds is not None:
            n = int(self.window_seconds * WHISPER_RATE)
            samples = samples[:n] if samples.size >= n else np.pad(samples, (0, n - samples.size))
        return samples


def _cap_silence(samples: np.ndarray, keep: int, range_db: float = 40.0) -> np.ndarray:
    """``samples`` with at most ``keep`` samples of quiet before and after the speech."""
    import librosa

    _, (start, end) = librosa.effects.trim(samples, top_db=range_db)
    if end <= start:
        return samples
    return samples[max(0, start - keep) : min(samples.size, end + keep)]


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def _speech_rms(samples: np.ndarray, frame: int = 400, range_db: float = 40.0) -> float:
    """RMS over the 25-ms frames within ``range_db`` of the loudest frame."""
    n = max(1, samples.size // frame)
    frames = np.resize(samples.astype(np.float64), n * frame).reshape(n, frame)
    power = np.mean(frames**2, axis=1)
    loud = power >= power.max() * 10 ** (-range_db / 10)
    return float(np.sqrt(power[loud].mean()))


# The project's front end, chosen on validation actors and TESS (bench/explore_encoder_heads.py,
# head linear_all): each clip's speech levelled to -25 dBFS, then padded with zeros or cut to
# a 4 s window. Levelling took TESS from 0.53 to 0.65 at the same validation UA; trimming
# silence, or each clip's own length, did worse on TESS. The predictor's windows go
# through the same front end.
WINDOW_SECONDS = 4.0
DEFAULT_FRONT = FrontEnd(level_dbfs=-25.0, window_seconds=WINDOW_SECONDS, speech_level=True)


def whisper_window(
    samples: np.ndarray, n_samples: int, front: FrontEnd = DEFAULT_FRONT
) -> np.ndarray:
    """Whisper's log-mel of a 16 kHz waveform through ``front``, padded or cut to ``n_samples``."""
    return whisper_log_mel(replace(front, window_seconds=n_samples / WHISPER_RATE)(samples))


class StateExtractor:
    """Pooled encoder states of waveforms, with the encoder built once (one traced graph
    for every input length)."""

    def __init__(self, folder: str | Path | None = None, front: FrontEnd = DEFAULT_FRONT):
        self.front = front
        import tensorflow as tf

        from ser.models.whisper_encoder import build_encoder

        self.weights = load_encoder_weights(folder)
        self.encoder = build_encoder(self.weights)
        signature = tf.TensorSpec((None, None, self.weights.n_mels), tf.float32)
        self._encode = tf.function(self.encoder, input_signature=[signature])

    def states(self, samples: np.ndarray) -> list[np.ndarray]:
        """Every state of one 16 kHz waveform, ``(frames // 2, width)`` each."""
        mel = whisper_log_mel(self.front(samples), self.weights.n_mels)
        return [np.asarray(s)[0] for s in self._encode(mel[None])]

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        return pool_states(self.states(samples))

    def pooled_windows(self, windows: np.ndarray, batch: int = 32) -> np.ndarray:
        """Pooled states of many log-mel windows of one length (the predictor's), in batches:
        ``(windows, n_states, 2 * width)``."""
        rows = []
        for start in range(0, len(windows), batch):
            states = [np.asarray(s) for s in self._encode(windows[start : start + batch])]
            rows += [pool_states([s[i] for s in states]) for i in range(len(states[0]))]
        return np.stack(rows)


@functools.cache
def _extractor(folder: str, front: FrontEnd) -> StateExtractor:
    return StateExtractor(folder, front)


@functools.cache
def _weights_digest(model_file: str, size: int, mtime: float) -> str:
    from ser.features.cache import file_digest

    return file_digest(model_file)


def weights_digest(folder: str | Path | None = None) -> str:
    """SHA-256 of a Whisper folder's ``model.bin`` (computed once per file and version)."""
    model_file = Path(folder or whisper_dir()) / "model.bin"
    stat = model_file.stat()
    return _weights_digest(str(model_file), stat.st_size, stat.st_mtime)


def states_key(paths, folder: str | Path | None = None, front: FrontEnd = DEFAULT_FRONT) -> str:
    """The cache key of the pooled states of ``paths`` (see the module's docstring)."""
    import keras
    import librosa
    import tensorflow as tf

    from ser.features.cache import clip_identities

    payload = {
        "clips": clip_identities(paths),
        "weights": weights_digest(folder),
        "code": source_digest(__name__),
        "front": asdict(front),
        "versions": [tf.__version__, keras.__version__, librosa.__version__, np.__version__],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class EncoderStates:
    """Pooled states in index order: ``states`` is ``(n_clips, n_states, 2 * width)``."""

    states: np.ndarray
    clip_ids: list[str]
    path: Path
    from_cache: bool
    seconds: float


def extract_states(
    paths, *, folder: str | Path | None = None, front: FrontEnd = DEFAULT_FRONT,
    progress: bool = True, scheduler: str | None = None,
) -> np.ndarray:  # fmt: skip
    """Pooled states of many clips, in order, with a progress bar.

    The encoder runs in this process on every core (TensorFlow's own threads); decoding
    and the log-mel front end take a few milliseconds of the ~25 ms per clip. With
    ``scheduler`` (``tcp://HOST:PORT``) the clips are encoded on that Dask cluster's
    workers instead, which must see the same paths and have this project installed.
    """
    paths = [str(p) for p in paths]
    folder = str(Path(folder or whisper_dir()).resolve())
    if scheduler:
        return _states_on_dask(paths, folder, front, scheduler, progress)
    extractor = _extractor(folder, front)
    rows = [
        extractor(load_audio(path, WHISPER_RATE))
        for path in tqdm(paths, desc="encoder states", unit="clip", disable=not progress)
    ]
    return np.stack(rows).astype(np.float32)


def states_of_chunk(paths: list[str], folder: str, front: FrontEnd) -> np.ndarray:
    """The pooled states of a few clips, in one (Dask) task; the encoder is built once per
    worker process."""
    extractor = _extractor(folder, front)
    return np.stack([extractor(load_audio(path, WHISPER_RATE)) for path in paths])


def _states_on_dask(paths, folder, front, scheduler: str, progress: bool, chunk: int = 32):
    from dask.distributed import Client

    chunks = [paths[start : start + chunk] for start in range(0, len(paths), chunk)]
    with Client(scheduler) as client:
        futures = client.map(states_of_chunk, chunks, folder=folder, front=front, pure=False)
        bar = tqdm(
            total=len(paths), desc="encoder states (Dask)", unit="clip", disable=not progress
        )
        parts = []
        for future, part in zip(futures, chunks, strict=True):  # in order; the rest keep running
            parts.append(future.result())
            future.release()
            bar.update(len(part))
        bar.close()
    return np.concatenate(parts).astype(np.float32)


def load_encoder_states(
    index: pd.DataFrame,
    *,
    cache_dir: Path = FEATURES_DIR,
    folder: str | Path | None = None,
    front: FrontEnd = DEFAULT_FRONT,
    progress: bool = True,
    scheduler: str | None = None,
) -> EncoderStates:
    """Pooled encoder states of every clip of ``index``, from the cache when its key matches
    (extracted here, or on the Dask cluster of ``scheduler``)."""
    from ser.features.cache import read_cache_file

    start = time.perf_counter()
    paths = index["path"].tolist()
    clip_ids = index["clip_id"].tolist()
    key = states_key(paths, folder, front)
    path = Path(cache_dir) / f"whisper_states_{key}.npz"
    cached = read_cache_file(path, clip_ids, match_ids=False)  # states depend on bytes alone
    if cached is not None:
        return EncoderStates(cached, clip_ids, path, True, time.perf_counter() - start)
    states = extract_states(
        paths, folder=folder, front=front, progress=progress, scheduler=scheduler
    )
    _write_states(path, key, states, clip_ids, folder, front)
    return EncoderStates(states, clip_ids, path, False, time.perf_counter() - start)


def _write_states(path: Path, key: str, states: np.ndarray, clip_ids, folder, front) -> None:
    """Through the feature cache's writer, so ``describe_cache`` lists the states too."""
    from ser.features.cache import write_cache_file

    kind = path.stem.rsplit("_", 1)[0]  # whisper_states or whisper_bank_states
    write_cache_file(path, key, {"kind": kind, **asdict(front)}, states, clip_ids,
                     encoder=str(Path(folder or whisper_dir())))  # fmt: skip


def _bank_versions_of(
    path: str, clip_id: str, versions: int, extractor: StateExtractor
) -> np.ndarray:
    from ser.features.waveform_bank import bank_waveforms

    samples = load_audio(path, WHISPER_RATE)
    return np.stack(
        [extractor(v) for v in bank_waveforms(samples, WHISPER_RATE, clip_id, versions)]
    )


def load_bank_states(
    index: pd.DataFrame,
    versions: int,
    *,
    cache_dir: Path = FEATURES_DIR,
    front: FrontEnd = DEFAULT_FRONT,
    progress: bool = True,
) -> np.ndarray:
    """Pooled states of ``versions`` waveform-bank versions of every clip (a random room,
    microphone, level and noise: :func:`ser.features.waveform_bank.waveform_version`, drawn as the
    CNN's bank draws them): ``(n_clips, versions, n_states, 2 * width)``, cached."""
    from ser.features import waveform_bank
    from ser.features.cache import read_cache_file

    source = "".join(inspect.getsource(f) for f in (
        waveform_bank.waveform_version, waveform_bank.bank_waveforms, _bank_versions_of
    ))  # fmt: skip
    key = hashlib.sha256(
        f"{states_key(index['path'], None, front)}{versions}{source}".encode()
    ).hexdigest()[:16]
    path = Path(cache_dir) / f"whisper_bank_states_{key}.npz"
    clip_ids = index["clip_id"].tolist()
    cached = read_cache_file(path, clip_ids)
    if cached is not None:
        return cached
    extractor = _extractor(str(Path(whisper_dir()).resolve()), front)
    rows = [
        _bank_versions_of(str(p), c, versions, extractor)
        for p, c in tqdm(list(zip(index["path"], clip_ids, strict=True)),
                         desc=f"bank states ({versions} versions)", unit="clip", disable=not progress)
    ]  # fmt: skip
    states = np.stack(rows).astype(np.float32)
    _write_states(path, key, states, clip_ids, None, front)
    return states


BANK_VERSIONS = 2  # waveform-bank versions per clip (bench/explore_encoder_robustness.py)


@dataclass
class EncoderData:
    """Pooled encoder states of RAVDESS, its waveform-bank versions and TESS."""

    states: np.ndarray  # (clips, n_states, 2 * width), in the index's order
    bank: np.ndarray | None  # (clips, versions, n_states, 2 * width); None in a quick run
    tess_states: np.ndarray | None = None
    tess_labels: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def load_encoder_data(index: pd.DataFrame, tess: pd.DataFrame | None, quick: bool) -> EncoderData:
    """Every state the encoder family needs, from the cache or extracted (with progress): the
    clips of ``index``, their :data:`BANK_VERSIONS` waveform-bank versions and ``tess``'s
    clips. A quick run skips the bank (and so the candidate trained on it)."""
    found = load_encoder_states(index)
    seconds = {"RAVDESS states": found.seconds}
    bank = None
    if not quick:
        start = time.perf_counter()
        bank = load_bank_states(index, BANK_VERSIONS)
        seconds["waveform-bank states"] = time.perf_counter() - start
    data = EncoderData(found.states, bank, seconds=seconds)
    if tess is not None:
        tess_found = load_encoder_states(tess)
        data.tess_states, data.tess_labels = tess_found.states, tess["emotion"].to_numpy()
        seconds["TESS states"] = tess_found.seconds
    return data
