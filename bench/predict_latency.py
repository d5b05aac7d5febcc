"""Prediction latency of the shipped model: warm single clip and cold start.

    .venv/bin/python bench/predict_latency.py [--repeats 50] [--model-dir models]

- warm: one bundled sample clip, features plus model, with the model already
  loaded (median and 90th percentile over the repeats);
- cold: a fresh Python process that imports the package, loads the model and
  predicts one clip (wall time of the whole process, median of 3).
Targets (issue 4): warm under 50 ms, cold under 5 s, on 2 cores.
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
IMPORT_TF = "import tensorflow"
COLD = """
import sys
from ser.predict import Predictor
print(Predictor(sys.argv[1]).predict(sys.argv[2]).emotion)
"""


def warm(model_dir: Path, repeats: int) -> tuple[list[float], dict[str, float]]:
    from ser.predict import Predictor

    predictor = Predictor(model_dir)
    predictor.predict(SAMPLE)  # first call builds the TensorFlow graph
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


def cold(model_dir: Path, code: str = COLD, runs: int = 3) -> list[float]:
    """Wall time of fresh processes running ``code`` (median of ``runs``)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(model_dir), str(SAMPLE)], check=True,
                       capture_output=True, env=env)  # fmt: skip
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
    times = cold(args.model_dir)
    print(f"cold start (new process: import, load model, first prediction), 3 runs: "
          f"median {statistics.median(times):.2f} s, min {min(times):.2f} s (target < 5 s)")  # fmt: skip
    floor = cold(args.model_dir, IMPORT_TF)
    print(
        f"  of which `import tensorflow` alone in a new process: median {statistics.median(floor):.2f} s"
    )
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
