"""The "no speech found" check: false rejections on real speech, and its answer on non-speech.

    RAVDESS_DIR=... [TESS_DIR=...] .venv/bin/python bench/speech_check.py

Runs :class:`ser.inference.speech.VoiceActivity` as the predictor does (each recording
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

from ser.config import SAMPLE_RATE
from ser.data.audio import load_audio
from ser.features.extraction import map_in_processes
from ser.inference.speech import SPEECH_THRESHOLD, VAD_RATES, VoiceActivity, non_speech_signals

_VOICE: list[VoiceActivity] = []


def peak_of(path: str) -> float:
    """The clip's full peak (the check itself stops at the first frame over the threshold)."""
    if not _VOICE:
        _VOICE.append(VoiceActivity())
    samples = load_audio(path, SAMPLE_RATE)
    return min(
        float(_VOICE[0].frame_probabilities(samples, SAMPLE_RATE, rate).max()) for rate in VAD_RATES
    )


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
    import argparse

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
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
    for name, signal in non_speech_signals().items():
        check = voice.check(signal, 16_000)
        passed += check.found
        verdict = "SPEECH (wrong)" if check.found else "no speech"
        print(f"  {name:34s} peak {check.peak:.3f}  {verdict}")
    print(f"non-speech signals called speech: {passed} of {len(non_speech_signals())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
