"""Feature extraction time for the 1440 RAVDESS clips, and where it goes.

    RAVDESS_DIR=... .venv/bin/python bench/feature_extraction.py [--workers 2] [--clips 150]

- end to end: ``load_features`` into an empty temporary cache for MFCC alone,
  log-mel alone, and both together (each clip decoded once), with the worker
  processes' start-up included;
- per clip, in this process after a warm-up: decoding, resampling, MFCC and
  log-mel, on the first ``--clips`` clips.
Target (issue 8): MFCC or log-mel extraction of the 1440 clips in 10 s or less on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import soxr

from ser.data.audio import read_audio
from ser.data.dataset import build_index
from ser.data.download import ensure_ravdess
from ser.features.cache import load_features
from ser.features.extraction import FeatureParams, feature_matrix


def end_to_end(index, kinds: tuple[str, ...], workers: int) -> float:
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        load_features(index, kinds, cache_dir=Path(cache), workers=workers, progress=False)
        return time.perf_counter() - start


def per_clip(paths: list[str]) -> dict[str, float]:
    mfcc, logmel = FeatureParams.of("mfcc"), FeatureParams.of("logmel")
    samples, rate = read_audio(paths[0])
    feature_matrix(soxr.resample(samples.mean(axis=1), rate, mfcc.sample_rate), mfcc)  # warm-up
    totals = dict.fromkeys(("decode", "resample", "mfcc", "logmel"), 0.0)
    for path in paths:
        start = time.perf_counter()
        samples, rate = read_audio(path)
        decoded = time.perf_counter()
        mono = soxr.resample(samples.mean(axis=1), rate, mfcc.sample_rate, quality="HQ")
        resampled = time.perf_counter()
        feature_matrix(mono, mfcc)
        after_mfcc = time.perf_counter()
        feature_matrix(mono, logmel)
        totals["decode"] += decoded - start
        totals["resample"] += resampled - decoded
        totals["mfcc"] += after_mfcc - resampled
        totals["logmel"] += time.perf_counter() - after_mfcc
    return {name: 1000 * value / len(paths) for name, value in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--clips", type=int, default=150)
    args = parser.parse_args()
    index = build_index(ensure_ravdess())
    parts = per_clip(index["path"].tolist()[: args.clips])
    print(f"per clip (median of nothing: mean over {args.clips} clips, one process): "
          + ", ".join(f"{k} {v:.1f} ms" for k, v in parts.items()))  # fmt: skip
    serial = sum(parts.values()) * len(index) / 1000
    print(f"  so all {len(index)} clips, both kinds, need about {serial:.1f} s of one core")
    for kinds in (("mfcc",), ("logmel",), ("mfcc", "logmel")):
        seconds = end_to_end(index, kinds, args.workers)
        print(f"{'+'.join(kinds):>12}: {seconds:5.1f} s for {len(index)} clips with "
              f"{args.workers} workers, empty cache (target 10 s per kind)")  # fmt: skip
    print(f"cores: {os.cpu_count()}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
