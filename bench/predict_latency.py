"""Prediction latency of the shipped model: warm single clip and cold start.

    .venv/bin/python bench/predict_latency.py [--repeats 50] [--model-dir models]

- warm: one bundled sample clip, features plus model, with the model already
  loaded (median and 90th percentile over the repeats);
- warm, 4 s: the same clip cut to its first 4.0 s, one analysis window (the encoder
  model's window; the whole sample lasts 4.1 s, so it takes two);
- cold: the command line in a fresh process, `python -m ser predict one.flac`
  (wall time of the whole process: imports, loading the ONNX model, the first
  prediction and printing it; median of 5).
Targets: issue 9 (the CNN): warm 50 ms or less; issue 27 (the encoder model): a 4 s clip
warm in 100 ms or less; cold 3 s or less; on 2 cores.

Results (2026-12-05, the shipped Whisper-encoder model of the report at bf666e0,
``--repeats 20``): warm whole sample (2 windows) median 114.6 ms, p90 151.7 ms (model
99.9 ms); 4 s clip median 82.7 ms, p90 93.6 ms; cold start median 1.87 s, max 1.89 s.
(The default 50 repeats, before the 4 s measure was added: whole sample 111.2 ms, cold
1.83 s; the same 4 s clip timed by hand, 50 runs: 65.1 ms.)
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
    from ser.inference.predict import Predictor

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


def warm_four_seconds(model_dir: Path, repeats: int) -> list[float]:
    """Warm prediction times of the sample cut to 4.0 s (one window)."""
    import soundfile as sf

    from ser.inference.predict import Predictor

    predictor = Predictor(model_dir)
    samples, rate = sf.read(SAMPLE, dtype="float32")
    samples = samples[: int(4.0 * rate)]
    predictor.predict(samples, rate)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predictor.predict(samples, rate)
        times.append(time.perf_counter() - start)
    return times


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
          f"(target < 50 ms for the CNN)")  # fmt: skip
    print("  median parts: " + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in parts.items()))
    four = sorted(1000 * t for t in warm_four_seconds(args.model_dir, args.repeats))
    print(f"warm 4.0 s clip (one window), {args.repeats} runs: median "
          f"{statistics.median(four):.1f} ms, p90 {four[int(0.9 * len(four)) - 1]:.1f} ms "
          f"(target ≤ 100 ms for the encoder model)")  # fmt: skip
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
