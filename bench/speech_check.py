"""The "no speech found" check: false rejections on real speech, and its answer on non-speech.

    RAVDESS_DIR=... [TESS_DIR=...] .venv/bin/python bench/speech_check.py

Runs :class:`ser.speech.VoiceActivity` as the predictor does (each recording
loaded mono at the feature rate) on:
- the 1,440 RAVDESS clips, and the TESS clips when ``TESS_DIR`` is set: how many
  are wrongly refused as "no speech", and the lowest peak seen;
- generated signals without speech (silence, noise, tones, a sweep, clicks,
  hum, a chord, synthetic music): each signal's peak and verdict.
Targets (issue 16): 0 of 1,440 RAVDESS clips refused; every non-speech signal refused.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from ser.audio import load_audio
from ser.config import SAMPLE_RATE
from ser.features import map_in_processes
from ser.speech import SPEECH_THRESHOLD, VAD_RATES, VoiceActivity

_VOICE: list[VoiceActivity] = []


def peak_of(path: str) -> float:
    """The clip's full peak (the check itself stops at the first frame over the threshold)."""
    if not _VOICE:
        _VOICE.append(VoiceActivity())
    samples = load_audio(path, SAMPLE_RATE)
    return min(
        float(_VOICE[0].frame_probabilities(samples, SAMPLE_RATE, rate).max()) for rate in VAD_RATES
    )


def generated(rate: int = 16_000, seconds: float = 4.0) -> dict[str, np.ndarray]:
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


def corpus(name: str, files: list[str]) -> None:
    start = time.perf_counter()
    peaks = np.array(list(map_in_processes(peak_of, files, chunksize=16)))
    refused = [Path(f).name for f, p in zip(files, peaks, strict=True) if p < SPEECH_THRESHOLD]
    print(f"{name}: {len(refused)} of {len(files)} clips refused as no speech "
          f"(lowest peak {peaks.min():.3f}, 1st percentile {np.percentile(peaks, 1):.3f}; "
          f"{time.perf_counter() - start:.0f} s)")  # fmt: skip
    lowest = np.argsort(peaks)[:3]
    print("  lowest: " + ", ".join(f"{Path(files[i]).name} {peaks[i]:.3f}" for i in lowest))
    for clip in refused[:10]:
        print(f"  refused: {clip}")


def main() -> int:
    print(f"threshold: peak speech probability >= {SPEECH_THRESHOLD} at both 16 and 8 kHz")
    ravdess = Path(os.environ["RAVDESS_DIR"])
    corpus("RAVDESS", sorted(str(p) for p in ravdess.rglob("*") if p.suffix in {".wav", ".flac"}))
    tess = os.environ.get("TESS_DIR")
    if tess:
        corpus(
            "TESS", sorted(str(p) for p in Path(tess).rglob("*") if p.suffix in {".wav", ".flac"})
        )
    voice = VoiceActivity()
    passed = 0
    print("generated signals without speech (4 s at 16 kHz):")
    for name, signal in generated().items():
        check = voice.check(signal, 16_000)
        passed += check.found
        verdict = "SPEECH (wrong)" if check.found else "no speech"
        print(f"  {name:34s} peak {check.peak:.3f}  {verdict}")
    print(f"non-speech signals called speech: {passed} of {len(generated())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
