"""Audio loading: the one way every stage turns a file into samples.

Any format libsndfile reads (WAV, FLAC, OGG, AIFF, MP3, ...), any sample rate,
mono or multi-channel, 8/16/24/32-bit integer or float. The result is always a
mono float32 array at the requested rate.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
import soxr

from ser.config import SAMPLE_RATE

# Peak below half a 16-bit step: nothing a microphone recorded survives that.
SILENCE_PEAK = 0.5 / 32768

AudioSource = str | Path | bytes | BinaryIO


class AudioError(ValueError):
    """The input cannot be used as audio; the message says why in plain words."""


def _size_of(source: AudioSource) -> int | None:
    if isinstance(source, str | Path):
        path = Path(source)
        return path.stat().st_size if path.is_file() else None
    if isinstance(source, bytes | bytearray | memoryview):
        return len(source)
    return None


def describe_source(source: AudioSource | np.ndarray, name: str | None = None) -> str:
    """How error messages name an input: its given name, its path, or what it is."""
    if name:
        return name
    if isinstance(source, str | Path):
        return str(source)
    if isinstance(source, np.ndarray):
        return "the audio"
    return "the uploaded data"


def check_duration(frames: int, rate: int, max_seconds: float | None, label: str) -> None:
    """Refuse a recording longer than ``max_seconds`` (no limit when None)."""
    if max_seconds is not None and frames > max_seconds * rate:
        raise AudioError(
            f"{label}: the recording lasts {frames / rate:.0f} s; the limit is {max_seconds:.0f} s"
        )


def read_audio(
    source: AudioSource, *, name: str | None = None, max_seconds: float | None = None,
    max_bytes: int | None = None,
) -> tuple[np.ndarray, int]:  # fmt: skip
    """Read a file, bytes or binary stream as float32 ``(frames, channels)`` plus its rate.

    ``max_bytes`` and ``max_seconds`` refuse oversized input before decoding it.
    """
    label = describe_source(source, name)
    size = _size_of(source)
    if max_bytes is not None and size is not None and size > max_bytes:
        raise AudioError(
            f"{label}: the file is {size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB"
        )
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.exists():
            raise AudioError(f"{label}: no such file")
        if path.is_dir():
            raise AudioError(f"{label}: is a directory, not an audio file")
        if path.stat().st_size == 0:
            raise AudioError(f"{label}: the file is empty (0 bytes)")
        handle: str | BinaryIO = str(path)
    elif isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise AudioError(f"{label}: the file is empty (0 bytes)")
        handle = io.BytesIO(bytes(source))
    else:
        handle = source
    try:
        with sf.SoundFile(handle) as sound:
            check_duration(sound.frames, sound.samplerate, max_seconds, label)
            samples = sound.read(dtype="float32", always_2d=True)
            rate = sound.samplerate
    except sf.LibsndfileError as error:
        raise AudioError(
            f"{label}: not a readable audio file ({error.error_string.rstrip('.')}). "
            "Expected WAV, FLAC, OGG, AIFF or MP3 audio."
        ) from None
    except (RuntimeError, TypeError, EOFError) as error:
        raise AudioError(f"{label}: not a readable audio file ({error})") from None
    return samples, int(rate)


def to_mono_at_rate(
    samples: np.ndarray, rate: int, target_rate: int = SAMPLE_RATE, *, name: str = "the audio",
    max_seconds: float | None = None,
) -> np.ndarray:  # fmt: skip
    """Downmix to mono, check the content and resample to ``target_rate`` (float32)."""
    samples = np.asarray(samples, dtype=np.float32)
    if rate > 0:
        check_duration(samples.shape[0], rate, max_seconds, name)
    if samples.ndim == 2:
        samples = samples.mean(axis=1, dtype=np.float32)
    elif samples.ndim != 1:
        raise AudioError(f"{name}: expected a 1-D or (frames, channels) array, got {samples.shape}")
    if rate <= 0:
        raise AudioError(f"{name}: invalid sample rate {rate}")
    if samples.size == 0:
        raise AudioError(f"{name}: contains no audio samples")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"{name}: contains NaN or infinite sample values")
    if float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise AudioError(f"{name}: is digitally silent (every sample is zero)")
    if rate != target_rate:
        samples = soxr.resample(samples, rate, target_rate, quality="HQ").astype(np.float32)
    return samples


def load_audio(
    source: AudioSource, target_rate: int = SAMPLE_RATE, *, name: str | None = None,
    max_seconds: float | None = None, max_bytes: int | None = None,
) -> np.ndarray:  # fmt: skip
    """Load mono float32 samples at ``target_rate`` from a path, bytes or stream.

    Raises :class:`AudioError` for missing, empty, unreadable, non-audio,
    all-silent and (with the caps) oversized input, with a message that names
    the input.
    """
    samples, rate = read_audio(source, name=name, max_seconds=max_seconds, max_bytes=max_bytes)
    return to_mono_at_rate(samples, rate, target_rate, name=describe_source(source, name))
