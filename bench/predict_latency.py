"""Prediction latency of the shipped model: warm single clip and cold start.

    .venv/bin/python bench/predict_latency.py [--repeats 50] [--model-dir models]

- warm: one bundled sample clip, features plus model, with the model already
  loaded (median and 90th percentile over the repeats);
- cold: the command line in a fresh process, `python -m ser predict one.flac`
  (wall time of the whole process: imports, loading the ONNX model, the first
  prediction and printing it; median of 5).
Targets (issue 9): warm 50 ms or less, cold 3 s or less, on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "03-01-05-02-01-01-01.flac"
IMPORT_TF = ["-c", "import tensorflow"]


def warm(model_dir: Path, repeats: int) -> tuple[list[float], dict[str, float]]:
    from ser.predict import Predictor

    predictor = Predictor(model_dir)
    predictor.predict(SAMPLE)  # the first call loads librosa's lazy modules
    totals, loads, features, model = [], [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        samples = predictor.load(SAMPLE)
        t_load = time.perf_counter()
        windows = predictor.features(samples)
        t_features = time.perf_counter()
        predictor.window_probabilities(windows)
        t_model = time.perf_counter()
        predictor.predict(SAMPLE)
        totals.append(time.perf_counter() - t_model)
        loads.append(t_load - start)
        features.append(t_features - t_load)
        model.append(t_model - t_features)
    parts = {name: statistics.median(v) for name, v in
             (("load+resample", loads), ("features", features), ("model", model))}  # fmt: skip
    return totals, parts


def cold(arguments: list[str], runs: int = 5) -> list[float]:
    """Wall times of fresh Python processes run with ``arguments``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *arguments], check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    totals, parts = warm(args.model_dir, args.repeats)
    ms = sorted(1000 * t for t in totals)
    print(f"warm single-clip prediction ({SAMPLE.name}, {args.repeats} runs): "
          f"median {statistics.median(ms):.1f} ms, p90 {ms[int(0.9 * len(ms)) - 1]:.1f} ms "
          f"(target < 50 ms)")  # fmt: skip
    print("  median parts: " + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in parts.items()))
    command = ["-m", "ser", "predict", str(SAMPLE), "--model-dir", str(args.model_dir)]
    times = cold(command)
    print(f"cold start (`python -m ser predict {SAMPLE.name}` in a new process), {len(times)} runs: "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s (target ≤ 3 s)")  # fmt: skip
    floor = cold(IMPORT_TF, runs=3)
    print(
        f"  for comparison, `import tensorflow` alone in a new process: median "
        f"{statistics.median(floor):.2f} s (the predictor no longer needs it)"
    )
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
