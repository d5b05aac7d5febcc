"""The run schema: out-of-split predictions of one model, protocol and seed, on disk.

A *run* is what notebook 03 leaves for notebook 04 about one model spec under one
protocol and seed: the test clips' predictions (``predictions.csv``), the
validation clips' predictions (``validation.csv``) and, per fold, the training
curves, seconds, validation UA and the training-cache entry it came from
(``training.json``), in ``models/runs/<spec>/<protocol>/seed_<n>/``.

Nothing here imports TensorFlow: reading runs is cheap (the report reads them).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES

PROBABILITY_COLUMNS = [f"p_{emotion}" for emotion in EMOTION_NAMES]
RUN_FILE = "training.json"
TRAININGS_FILE = "trainings.json"  # every training a run read, with its provenance


@dataclass
class ProtocolRun:
    """Out-of-split predictions of one model spec under one protocol and seed.

    ``predictions`` holds the test clips, ``validation`` the validation clips
    (for choices and calibration); both one row per clip with clip_id, fold,
    emotion, predicted and a ``p_<emotion>`` column per class. ``trainings``
    says, per fold, which training-cache entry the fold came from and whether
    this run trained it or reused it (see :mod:`ser.training.training_cache`).
    """

    spec: str
    protocol: str
    seed: int
    predictions: pd.DataFrame
    validation_uar: dict[int, float]  # fold -> UA on that fold's validation actors
    histories: dict[int, dict[str, list[float]]]
    seconds: dict[int, float]
    validation: pd.DataFrame | None = None
    trainings: dict[int, dict] = field(default_factory=dict)


def prediction_frame(index: pd.DataFrame, positions, fold: int, probabilities) -> pd.DataFrame:
    """One row per clip: id, fold, true and predicted emotion, and every class probability."""
    probabilities = np.asarray(probabilities)
    frame = pd.DataFrame(probabilities, columns=PROBABILITY_COLUMNS)
    frame.insert(0, "predicted", [EMOTION_NAMES[i] for i in probabilities.argmax(axis=1)])
    frame.insert(0, "emotion", index["emotion"].to_numpy()[positions])
    frame.insert(0, "fold", fold)
    frame.insert(0, "clip_id", index["clip_id"].to_numpy()[positions])
    return frame


def run_folder(runs_dir: Path, spec: str, protocol: str, seed: int) -> Path:
    return Path(runs_dir) / spec / protocol / f"seed_{seed}"


def save_run(run: ProtocolRun, runs_dir: Path) -> Path:
    """Write ``predictions.csv``, ``validation.csv`` and ``training.json`` of one run."""
    folder = run_folder(runs_dir, run.spec, run.protocol, run.seed)
    folder.mkdir(parents=True, exist_ok=True)
    run.predictions.to_csv(folder / "predictions.csv", index=False, float_format="%.6f")
    if run.validation is not None:
        run.validation.to_csv(folder / "validation.csv", index=False, float_format="%.6f")
    payload = {
        "histories": run.histories,
        "seconds": run.seconds,
        "validation_uar": run.validation_uar,
        # whether a training was reused is this run's log (trainings.json), not its result
        "trainings": {
            fold: {k: v for k, v in record.items() if k != "reused"}
            for fold, record in run.trainings.items()
        },
    }
    (folder / RUN_FILE).write_text(json.dumps(payload, indent=1) + "\n")
    return folder


def load_run(runs_dir: Path, spec: str, protocol: str, seed: int) -> ProtocolRun:
    """Read back what :func:`save_run` wrote."""
    folder = run_folder(runs_dir, spec, protocol, seed)
    if not (folder / RUN_FILE).exists():
        raise FileNotFoundError(f"no run in {folder}: run notebook 03 (`make train`) first")
    payload = json.loads((folder / RUN_FILE).read_text())

    def by_fold(mapping: dict) -> dict:
        return {int(k): v for k, v in mapping.items()}

    return ProtocolRun(
        spec, protocol, seed, pd.read_csv(folder / "predictions.csv"),
        by_fold(payload["validation_uar"]), by_fold(payload["histories"]),
        by_fold(payload["seconds"]),
        pd.read_csv(folder / "validation.csv") if (folder / "validation.csv").exists() else None,
        by_fold(payload.get("trainings", {})),
    )  # fmt: skip


def write_trainings(record: dict, runs_dir: Path) -> Path:
    """Write ``trainings.json``: the trainings a run of notebook 03 read, and its stage times."""
    path = Path(runs_dir) / TRAININGS_FILE
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def read_trainings(runs_dir: Path) -> dict:
    """What :func:`write_trainings` wrote, or ``{}`` before a run that writes it."""
    path = Path(runs_dir) / TRAININGS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def clear_runs(runs_dir: Path) -> None:
    """Remove every run and record under ``runs_dir``: a run of notebook 03 writes them anew,
    so the folder holds exactly what the latest run read (the trainings stay in the cache)."""
    runs_dir = Path(runs_dir)
    if runs_dir.exists():
        shutil.rmtree(runs_dir)
    runs_dir.mkdir(parents=True)


def average_runs(runs: list[ProtocolRun], part: str = "predictions") -> pd.DataFrame:
    """The seed ensemble's predictions: every clip's class probabilities averaged over runs."""
    frames = [getattr(run, part).sort_values("clip_id", ignore_index=True) for run in runs]
    first = frames[0]
    assert all(f["clip_id"].equals(first["clip_id"]) for f in frames), "runs cover other clips"
    mean = np.mean([f[PROBABILITY_COLUMNS].to_numpy() for f in frames], axis=0)
    averaged = first[["clip_id", "fold", "emotion"]].copy()
    averaged["predicted"] = [EMOTION_NAMES[i] for i in mean.argmax(axis=1)]
    averaged[PROBABILITY_COLUMNS] = mean
    return averaged
