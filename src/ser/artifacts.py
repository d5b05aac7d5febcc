"""What training leaves on disk: the shipped model with its metadata, the runs and the plan.

- ``models/emotion_model.keras`` with ``models/labels.json``: the label mapping
  and everything a reader (or the predictor) needs to know about the model:
  its spec, its feature parameters, the actors it was trained on, validated
  on and never saw, its seed and validation score. JSON only, no pickle; the
  model loads in Keras safe mode.
- ``models/runs/<spec>/<protocol>/seed_<n>/``: out-of-split predictions of the
  test clips (``predictions.csv``) and of the validation clips
  (``validation.csv``), and training curves and timings (``training.json``) of
  every model trained by notebook 03, for notebook 04.
- ``models/runs/plan.json``: the settings the run used.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import pandas as pd

import ser.architectures  # noqa: F401  (registers the custom layers for loading)
from ser.config import EMOTION_NAMES
from ser.training import ProtocolRun

MODEL_FILE = "emotion_model.keras"
LABELS_FILE = "labels.json"
PLAN_FILE = "plan.json"


def save_model(model, folder: Path, metadata: dict) -> Path:
    """Write the model (.keras) and ``labels.json`` (mapping plus ``metadata``) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / MODEL_FILE)
    labels = {"index_to_emotion": dict(enumerate(EMOTION_NAMES)), **metadata}
    (folder / LABELS_FILE).write_text(json.dumps(labels, indent=2) + "\n")
    return folder


def read_metadata(folder: Path) -> dict:
    """The shipped model's ``labels.json``: mapping, spec, features, actors, scores."""
    return json.loads((Path(folder) / LABELS_FILE).read_text())


def load_model(folder: Path):
    """Load (model, labels, metadata) written by :func:`save_model`, in Keras safe mode."""
    folder = Path(folder)
    missing = [name for name in (MODEL_FILE, LABELS_FILE) if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"model folder {folder} lacks {', '.join(missing)}; run `make train` (or `make report`)."
        )
    model = keras.saving.load_model(folder / MODEL_FILE, compile=False, safe_mode=True)
    metadata = read_metadata(folder)
    mapping = metadata["index_to_emotion"]
    return model, [mapping[str(i)] for i in range(len(mapping))], metadata


def run_folder(runs_dir: Path, spec: str, protocol: str, seed: int) -> Path:
    return Path(runs_dir) / spec / protocol / f"seed_{seed}"


def save_run(run: ProtocolRun, runs_dir: Path) -> Path:
    """Write ``predictions.csv`` and ``training.json`` of one run."""
    folder = run_folder(runs_dir, run.spec, run.protocol, run.seed)
    folder.mkdir(parents=True, exist_ok=True)
    run.predictions.to_csv(folder / "predictions.csv", index=False, float_format="%.6f")
    if run.validation is not None:
        run.validation.to_csv(folder / "validation.csv", index=False, float_format="%.6f")
    payload = {
        "histories": run.histories,
        "seconds": run.seconds,
        "validation_uar": run.validation_uar,
    }
    (folder / "training.json").write_text(json.dumps(payload, indent=1) + "\n")
    return folder


def load_run(runs_dir: Path, spec: str, protocol: str, seed: int) -> ProtocolRun:
    """Read back what :func:`save_run` wrote."""
    folder = run_folder(runs_dir, spec, protocol, seed)
    if not (folder / "training.json").exists():
        raise FileNotFoundError(f"no run in {folder}: run notebook 03 (`make train`) first")
    payload = json.loads((folder / "training.json").read_text())

    def by_fold(mapping: dict) -> dict:
        return {int(k): v for k, v in mapping.items()}

    return ProtocolRun(
        spec, protocol, seed, pd.read_csv(folder / "predictions.csv"),
        by_fold(payload["validation_uar"]), by_fold(payload["histories"]),
        by_fold(payload["seconds"]),
        pd.read_csv(folder / "validation.csv") if (folder / "validation.csv").exists() else None,
    )  # fmt: skip


def write_record(record: dict, runs_dir: Path, name: str) -> Path:
    """Write a JSON record (the plan, the selection) next to the runs, for later notebooks."""
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    path = Path(runs_dir) / name
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def read_record(runs_dir: Path, name: str) -> dict:
    """Read a record written by :func:`write_record`; say which notebook writes it if missing."""
    path = Path(runs_dir) / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run notebook 03 (`make train`) first")
    return json.loads(path.read_text())


def write_plan(plan: dict, runs_dir: Path) -> Path:
    """Record the training plan next to the runs, for the evaluation and the report."""
    return write_record(plan, runs_dir, PLAN_FILE)


def read_plan(runs_dir: Path) -> dict:
    return read_record(runs_dir, PLAN_FILE)
