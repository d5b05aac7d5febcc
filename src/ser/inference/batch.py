"""Batch prediction: many recordings, on all cores or on a Dask cluster, streamed as they finish.

``python -m ser predict DIR`` runs here. Every file becomes one task that
returns its rows (one per file, or one per window with ``--timeline``; a file
that fails becomes an ``error`` row). Tasks run in worker processes, each with
its own model (onnxruntime with one thread), or on the workers of a Dask
cluster (``--scheduler tcp://HOST:PORT``). Results come back in input order and
are written as soon as they arrive, so an interrupted job keeps what it did and
``--resume`` skips the files already in the output.

Every way of running uses the same task and one onnxruntime thread, so a
laptop, ``--jobs 2`` and a cluster give identical answers.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from ser.data.audio import AudioError

_PREDICTORS: dict[str, object] = {}  # one loaded model per worker process and model folder
# A forked worker loads its own model: onnxruntime sessions are not to be shared across fork.
os.register_at_fork(after_in_child=_PREDICTORS.clear)


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_predictor(model_dir: str, one_of_many: bool = False):
    """This process's predictor for ``model_dir``, loaded on its first task.

    ``one_of_many``: one of several workers, which already fill the cores: BLAS gets
    one thread too (onnxruntime always has one, so every way of running gives the
    same answers).
    """
    if model_dir not in _PREDICTORS:
        from ser.inference.predict import Predictor

        if one_of_many:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        _PREDICTORS[model_dir] = Predictor(model_dir, threads=1)
    return _PREDICTORS[model_dir]


def prediction_rows(prediction, timeline: bool) -> list[dict]:
    """One row for the recording, or with ``timeline`` one per analysis window."""
    if not timeline or prediction.emotion is None:
        return [prediction.as_dict()]
    return [{"file": prediction.source, **window.as_dict()} for window in prediction.timeline]


def predict_file(
    path: str, model_dir: str, timeline: bool = False, one_of_many: bool = True
) -> list[dict]:
    """The task: one file's rows; a file that cannot be analysed gives one ``error`` row."""
    try:
        predictor = worker_predictor(model_dir, one_of_many)
        return prediction_rows(predictor.predict(Path(path)), timeline)
    except AudioError as error:
        return [{"file": path, "error": str(error)}]
    except Exception as error:  # keep going: one bad file must not stop a folder
        return [{"file": path, "error": f"{type(error).__name__}: {error}"}]


def predict_files(
    files: Iterable[str], model_dir: str, *, timeline: bool = False, jobs: int | None = None,
    scheduler: str | None = None,
) -> Iterator[list[dict]]:  # fmt: skip
    """Each file's rows, in input order, as they finish.

    ``scheduler``: the address of a Dask scheduler; otherwise ``jobs`` local processes
    (default: one per core; 1 runs in this process).
    """
    files = [str(path) for path in files]
    jobs = jobs or default_jobs()
    task = functools.partial(predict_file, model_dir=str(model_dir), timeline=timeline,
                             one_of_many=bool(scheduler) or jobs > 1)  # fmt: skip
    if scheduler:
        yield from _on_dask(task, files, scheduler)
        return
    from ser.features.extraction import map_in_processes

    # Forked workers start at once, without re-importing librosa and onnxruntime (2 s each);
    # fork is safe here because the command line starts no threads (TensorFlow would).
    start_method = (
        "fork" if sys.platform == "linux" and "tensorflow" not in sys.modules else "spawn"
    )
    yield from map_in_processes(task, files, jobs, chunksize=8,
                                start_method=start_method)  # fmt: skip


def predict_chunk(paths: list[str], task) -> list[list[dict]]:
    """Several files in one Dask task: a task per 20-ms file would cost more to schedule
    than to run."""
    return [task(path) for path in paths]


def _on_dask(task, files: list[str], scheduler: str, chunk: int = 16) -> Iterator[list[dict]]:
    """Run ``task`` over ``files`` on a Dask cluster; the workers must see the same paths."""
    from dask.distributed import Client

    chunks = [files[start : start + chunk] for start in range(0, len(files), chunk)]
    with Client(scheduler) as client:
        futures = client.map(predict_chunk, chunks, task=task, pure=False)
        for future in futures:  # in input order; later chunks keep running meanwhile
            yield from future.result()
            future.release()


class ResultWriter:
    """Rows to a CSV (``.csv``) or JSON Lines (any other suffix) file, flushed per file.

    ``append`` continues an existing file (``--resume``): a half-written last line
    from an interrupted run is dropped first.
    """

    def __init__(self, path: Path, labels: list[str], *, timeline: bool, append: bool = False):
        self.path, self.labels, self.timeline = Path(path), labels, timeline
        self.is_csv = self.path.suffix.lower() == ".csv"
        continuing = append and self.path.exists() and self.path.stat().st_size > 0
        if continuing:
            drop_partial_last_line(self.path)
        self.handle = open(self.path, "a" if continuing else "w", newline="")  # noqa: SIM115 (closed by close())
        self.writer = csv.writer(self.handle) if self.is_csv else None
        if self.is_csv and not continuing:
            self.writer.writerow(self.columns())
            self.handle.flush()

    def columns(self) -> list[str]:
        where = ["start_s", "end_s"] if self.timeline else []
        confident = [] if self.timeline else ["confident"]
        return ["file", *where, "emotion", *confident,
                *(f"p_{label}" for label in self.labels), "reason", "error"]  # fmt: skip

    def write(self, rows: list[dict]) -> None:
        for row in rows:
            if self.is_csv:
                self.writer.writerow(self.csv_row(row))
            else:
                self.handle.write(json.dumps(row) + "\n")
        self.handle.flush()

    def csv_row(self, row: dict) -> list:
        probabilities = row.get("probabilities", {})
        where = [row.get(key, "") for key in ("start_s", "end_s")] if self.timeline else []
        confident = [] if self.timeline else [row.get("confident", "")]
        return [
            row["file"], *where, row.get("emotion") or "", *confident,
            *(f"{probabilities[label]:.6f}" if label in probabilities else ""
              for label in self.labels),
            row.get("reason", ""), row.get("error", ""),
        ]  # fmt: skip

    def close(self) -> None:
        self.handle.close()


def drop_partial_last_line(path: Path) -> None:
    """Cut a file back to its last complete line (a run killed while writing leaves half a row)."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def files_in_output(path: Path) -> set[str]:
    """The files an earlier run already wrote to ``path`` (CSV or JSON Lines), for ``--resume``."""
    path = Path(path)
    if not path.exists():
        return set()
    lines = path.read_text().splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]  # half-written: that file runs again
    if path.suffix.lower() == ".csv":
        return {row["file"] for row in csv.DictReader(lines) if row.get("file")}
    done = set()
    for line in lines:
        try:
            done.add(json.loads(line)["file"])
        except (ValueError, KeyError, TypeError):
            continue
    return done
