"""What `make check` costs: wall time of lint and the tests not marked slow.

    RAVDESS_DIR=... .venv/bin/python bench/check_cost.py [--runs 2] [--keep-feature-cache]

By default the feature cache (``data/features``) is moved aside for the first run,
as on a fresh clone, and put back afterwards; later runs find the cache the first
one wrote. Prints each run's wall time and the slowest tests of the last run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time

from ser.config import FEATURES_DIR, PROJECT_ROOT

TARGET_SECONDS = 60


def make_check(durations: bool) -> tuple[float, str]:
    env = {**os.environ, **({"PYTEST_ADDOPTS": "--durations=8"} if durations else {})}
    start = time.perf_counter()
    done = subprocess.run(
        ["make", "check"], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"make check failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep-feature-cache", action="store_true")
    args = parser.parse_args()
    aside = FEATURES_DIR.with_name(FEATURES_DIR.name + ".aside-for-bench")
    if not args.keep_feature_cache and FEATURES_DIR.exists():
        FEATURES_DIR.rename(aside)
    try:
        for run in range(1, args.runs + 1):
            seconds, output = make_check(durations=run == args.runs)
            cache = "empty feature cache" if run == 1 and aside.exists() else "warm caches"
            verdict = "within" if seconds <= TARGET_SECONDS else "OVER"
            print(f"run {run} ({cache}): make check {seconds:.0f} s, {verdict} the "
                  f"{TARGET_SECONDS} s target", flush=True)  # fmt: skip
        slowest = output[output.find("slowest") :].splitlines()[:10]
        print("\n".join(slowest))
    finally:
        if aside.exists():
            shutil.rmtree(FEATURES_DIR, ignore_errors=True)
            aside.rename(FEATURES_DIR)


if __name__ == "__main__":
    main()
