"""What training leaves on disk: the shipped model with its metadata, the runs and the plan.

- ``models/emotion_model.keras`` with ``models/labels.json``: the label mapping
  and everything a reader (or the predictor) needs to know about the model:
  its spec, its feature parameters, the actors it was trained on, validated
  on and never saw, its seed and validation score. JSON only, no pickle; the
  model loads in Keras safe mode.
- ``models/runs/``: the runs notebook 03 read (see :mod:`ser.training.runs`), the plan
  (``plan.json``), the selection (``selection.json``) and the list of trainings
  with their provenance (``trainings.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

from ser.config import EMOTION_NAMES

MODEL_FILE = "emotion_model.keras"
ONNX_FILE = "emotion_model.onnx"  # what the predictor runs (onnxruntime, no TensorFlow)
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


def require_files(folder: Path, *names: str) -> None:
    """Raise a FileNotFoundError that says how to make the model if ``folder`` lacks any file."""
    missing = [name for name in (*names, LABELS_FILE) if not (Path(folder) / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"model folder {folder} lacks {', '.join(missing)}; run `make train` (or `make report`)."
        )


def read_metadata(folder: Path) -> dict:
    """The shipped model's ``labels.json``: mapping, spec, features, actors, calibration."""
    return json.loads((Path(folder) / LABELS_FILE).read_text())


def label_list(metadata: dict) -> list[str]:
    """Class index -> emotion, from ``labels.json``'s mapping."""
    mapping = metadata["index_to_emotion"]
    return [mapping[str(i)] for i in range(len(mapping))]


def update_metadata(folder: Path, **fields) -> dict:
    """Add or replace fields of ``labels.json``."""
    metadata = {**read_metadata(folder), **fields}
    (Path(folder) / LABELS_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def export_onnx(model, folder: Path) -> Path:
    """Write ``model`` as ONNX beside its ``.keras`` file, for the TensorFlow-free predictor."""
    import warnings

    import numpy as np

    path = Path(folder) / ONNX_FILE
    # Keras exports called models only; a free time axis (the encoder model's) gets 4 s.
    example = [400 if size is None else size for size in model.input_shape[1:]]
    model(np.zeros((1, *example), np.float32))
    import tf2onnx.utils

    # tf2onnx numbers the ops it inserts with one counter per process: reset, one model
    # gives the same file whatever was exported before it.
    tf2onnx.utils.INTERNAL_NAME = 1
    with warnings.catch_warnings():  # tf2onnx probes np.object, which NumPy 2 warns about
        warnings.simplefilter("ignore", FutureWarning)
        model.export(str(path), format="onnx", verbose=False)
    return path


def load_keras_file(path: Path):
    """A ``.keras`` file loaded in Keras safe mode, with the project's custom layers."""
    import keras

    import ser.models.architectures  # noqa: F401  (registers the custom layers for loading)

    return keras.saving.load_model(path, compile=False, safe_mode=True)


def load_model(folder: Path):
    """Load (model, labels, metadata) written by :func:`save_model`, in Keras safe mode."""
    folder = Path(folder)
    require_files(folder, MODEL_FILE)
    model = load_keras_file(folder / MODEL_FILE)
    metadata = read_metadata(folder)
    return model, label_list(metadata), metadata


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
