"""What a `make report` costs: from scratch, after touching a file, and after an interruption.

    .venv/bin/python bench/report_cost.py --touch src/ser/plots.py [make arguments]
    .venv/bin/python bench/report_cost.py --kill-after 5 [make arguments]

``--touch FILE`` marks FILE as changed (its modification time, not its content),
runs ``make report`` and prints the wall time and how many trainings notebook 03
ran and reused (0 trainings if it did not run at all).

``--kill-after N`` starts ``make report``, kills it (the whole process group) once N
new trainings have been written to the training cache, then runs ``make report``
again to the end and prints what the second run reused: every training that had
finished before the kill should be reused.

Extra arguments go to make (``QUICK=1``, ``OUT=dir``...). ``SER_TRAINING_CACHE`` is
honoured as by the notebooks.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ser.config import MODELS_DIR, PROJECT_ROOT, RUNS_DIR
from ser.training.runs import TRAININGS_FILE, read_trainings
from ser.training.training_cache import ENTRY_FILE, cache_dir


def entries(folder: Path) -> set[str]:
    return {p.parent.name for p in folder.glob(f"*/{ENTRY_FILE}")} if folder.exists() else set()


def runs_dir(make_args: list[str]) -> Path:
    """The run's models/runs/, under ``OUT=`` if make is given one."""
    out = next((Path(a[4:]).resolve() for a in make_args if a.startswith("OUT=")), PROJECT_ROOT)
    return out / MODELS_DIR.name / RUNS_DIR.name


def trainings_summary(make_args: list[str], since: float) -> dict:
    """notebook 03's trainings.json if this run wrote it, else zero trainings."""
    path = runs_dir(make_args) / TRAININGS_FILE
    if not path.exists() or path.stat().st_mtime < since:
        return {"trainings": 0, "reused": 0, "ran": 0, "note": "notebook 03 did not run"}
    return read_trainings(runs_dir(make_args))["summary"]


def interrupt(process: subprocess.Popen) -> None:
    """Stop ``make report`` as Ctrl+C would, and leave no kernel behind.

    Jupyter starts each kernel in a session of its own, outside make's process group,
    so a kernel still alive a few seconds after the interrupt is killed by name.
    """
    import psutil

    family = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    _, alive = psutil.wait_procs(family, timeout=10)
    for child in alive:
        child.kill()


def make_report(make_args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(["make", "report", *make_args], cwd=PROJECT_ROOT, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--touch", type=Path, help="mark this file as changed, then make report")
    group.add_argument("--kill-after", type=int, help="kill after this many new trainings")
    args, make_args = parser.parse_known_args()
    cache = cache_dir()
    if args.touch:
        os.utime(PROJECT_ROOT / args.touch)
        since = time.time()
        seconds = make_report(make_args)
        summary = trainings_summary(make_args, since)
        print(f"touched {args.touch}: make report took {seconds:.0f} s ({seconds / 60:.1f} min); "
              f"trainings run {summary['ran']}, reused {summary['reused']}")  # fmt: skip
        return
    before = entries(cache)
    start = time.perf_counter()
    process = subprocess.Popen(["make", "report", *make_args], cwd=PROJECT_ROOT,
                               start_new_session=True)  # fmt: skip
    while process.poll() is None and len(entries(cache) - before) < args.kill_after:
        time.sleep(2)
    if process.poll() is not None:
        sys.exit(f"make report ended before {args.kill_after} new trainings were written")
    interrupt(process)
    finished = entries(cache) - before
    print(f"killed make report after {time.perf_counter() - start:.0f} s, with "
          f"{len(finished)} new trainings in the cache", flush=True)  # fmt: skip
    since = time.time()
    seconds = make_report(make_args)
    summary = trainings_summary(make_args, since)
    keys = {t["key"]: t["reused"] for t in read_trainings(runs_dir(make_args))["trainings"]}
    kept = sum(keys.get(key, False) for key in finished)
    print(f"second make report took {seconds:.0f} s ({seconds / 60:.1f} min): trainings run "
          f"{summary['ran']}, reused {summary['reused']}; of the {len(finished)} finished before "
          f"the kill, {kept} reused")  # fmt: skip


if __name__ == "__main__":
    main()
