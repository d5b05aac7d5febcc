"""Batch prediction throughput: one process, ``--jobs 2``, and a two-worker Dask cluster.

    RAVDESS_DIR=... .venv/bin/python bench/batch_throughput.py [--limit N]

Predicts the 1,440 RAVDESS clips (or the first ``--limit``) with the shipped
model through :func:`ser.inference.batch.predict_files`, the code ``python -m ser predict``
runs: in one process, in two worker processes, and on a
``dask.distributed.LocalCluster`` with two single-threaded workers. Prints clips
per second (starting the workers and loading the model included) and the peak
RSS of this process and its children, and checks that all three give identical
rows. Targets (issue 16): ``--jobs 2`` at least 1.8x one process; the cluster's
answers identical to the local ones.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from pathlib import Path

import psutil

from ser.config import MODELS_DIR
from ser.inference import batch


class PeakMemory:
    """Samples the RSS of this process and its children every 0.2 s."""

    def __init__(self):
        self.peak, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += process.memory_info().rss
            self.peak = max(self.peak, total / 2**20)
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def timed(label: str, files: list[str], **how) -> tuple[list[list[dict]], float]:
    start = time.perf_counter()
    with PeakMemory() as memory:
        rows = list(batch.predict_files(files, str(MODELS_DIR), **how))
    seconds = time.perf_counter() - start
    print(f"{label:>26}: {len(files) / seconds:6.1f} clips/s ({seconds:5.1f} s), "
          f"peak RSS {memory.peak:.0f} MB")  # fmt: skip
    return rows, len(files) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    root = Path(os.environ["RAVDESS_DIR"])
    files = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in {".wav", ".flac"})
    files = files[: args.limit] if args.limit else files
    print(f"{len(files)} clips from {root}, model {MODELS_DIR}, {psutil.cpu_count()} cores")

    one, one_rate = timed("one process (--jobs 1)", files, jobs=1)
    batch._PREDICTORS.clear()  # the next runs load their own models
    two, two_rate = timed("two processes (--jobs 2)", files, jobs=2)
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:  # fmt: skip
        dask_rows, _ = timed("LocalCluster, 2 workers", files, scheduler=cluster.scheduler_address)
    print(f"--jobs 2 speed-up over one process: {two_rate / one_rate:.2f}x (target >= 1.8x)")
    same_two, same_dask = one == two, one == dask_rows
    print(f"identical answers: --jobs 2 {same_two}, LocalCluster {same_dask}")
    no_speech = sum(row.get("emotion", "") is None for rows in one for row in rows)
    errors = sum("error" in row for rows in one for row in rows)
    print(f"rows: {sum(map(len, one))}; no speech found: {no_speech}; errors: {errors}")
    return 0 if same_two and same_dask else 1


if __name__ == "__main__":
    sys.exit(main())
