"""A content-keyed store of trainings: each (spec, split, seed) is trained once.

A *training* is one model spec fitted on one split with one seed. Its entry,
``<cache>/<key>/``, holds what later steps read: the test and validation
clips' probabilities (``test.csv``, ``validation.csv``), the curves, seconds and
validation UA (``training.json``, written last: an entry without it is
incomplete and ignored), and the model (``model.keras``). Results derived from
the model (the robustness scores of notebook 03) are kept beside it under keys
of their own.

The key is a hash of everything that can change the result (:func:`key_ingredients`):
the spec's fields (not its name or description), the feature kind and its
parameters, a digest of the feature values of the split's clips, the split's
training, validation and test clip ids, the seed, the epoch cap, the
TensorFlow, Keras and NumPy versions, and a digest of the code a training runs
(:data:`TRAINING_CODE` and what it imports, comments and docstrings aside: see
:func:`ser.environment.source_digest`). A change to any of them is a miss: that training
runs again, the others are reused, and an interrupted run resumes where it stopped.

The cache lives in ``data/cache/trainings/`` (``$SER_TRAINING_CACHE`` moves
it); it is never committed, so a fresh clone trains everything. ``$SER_FRESH=1``
(``make report FRESH=1``) ignores it: every training runs and replaces its entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import DATA_DIR
from ser.environment import source_digest

# The modules whose code a training runs, with everything of the package they import.
TRAINING_CODE = ("ser.training.fitting", "ser.features.waveform_bank")
CACHE_ENV_VAR = "SER_TRAINING_CACHE"
FRESH_ENV_VAR = "SER_FRESH"
DEFAULT_CACHE_DIR = DATA_DIR / "cache" / "trainings"
ENTRY_FILE = "training.json"
MODEL_FILE = "model.keras"
KEY_LENGTH = 24


def cache_dir() -> Path:
    """Where the trainings are kept: ``$SER_TRAINING_CACHE`` or ``data/cache/trainings``."""
    override = os.environ.get(CACHE_ENV_VAR, "").strip()
    return Path(override).expanduser().resolve() if override else DEFAULT_CACHE_DIR


def fresh() -> bool:
    """Whether ``$SER_FRESH`` asks to ignore the cache (train everything again)."""
    return os.environ.get(FRESH_ENV_VAR, "").strip().lower() in ("1", "true", "yes")


def _digest(payload: bytes | str) -> str:
    if isinstance(payload, str):
        payload = payload.encode()
    return hashlib.sha256(payload).hexdigest()


def library_versions() -> dict[str, str]:
    """The versions of the libraries that compute a training."""
    import keras
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__}


def key_ingredients(
    spec, feature_params, features: np.ndarray, clip_ids, split, *, seed: int,
    epoch_cap: int | None, versions: dict[str, str] | None = None,
) -> dict:  # fmt: skip
    """Everything that can change a training's result, as a JSON-ready dict.

    ``spec`` is the spec as trained (epochs already capped); ``features`` the
    feature matrix of every clip and ``clip_ids`` their ids, in index order.
    """
    clip_ids = np.asarray(clip_ids)
    spec_fields = {f.name: getattr(spec, f.name) for f in fields(spec)}
    for label_only in ("name", "description"):  # renaming a spec does not change its training
        spec_fields.pop(label_only, None)
    parts = {part: getattr(split, part) for part in ("train", "validation", "test")}
    used = np.concatenate(list(parts.values()))
    return {
        "spec": json.loads(json.dumps(spec_fields)),  # tuples as lists, as they are read back
        "features": asdict(feature_params),
        "features_digest": _digest(
            np.ascontiguousarray(features[used], dtype=np.float32).tobytes()
        ),
        "clips": {part: _digest("\n".join(clip_ids[rows])) for part, rows in parts.items()},
        "protocol": split.protocol,
        "fold": int(split.fold),
        "seed": int(seed),
        "epoch_cap": epoch_cap,
        "versions": versions if versions is not None else library_versions(),
        "code": source_digest(*TRAINING_CODE),
    }


def training_key(ingredients: dict) -> str:
    """The entry's name: a hash of :func:`key_ingredients`."""
    return _digest(json.dumps(ingredients, sort_keys=True))[:KEY_LENGTH]


@dataclass
class Training:
    """One cache entry: a trained spec's predictions, curves and provenance."""

    key: str
    folder: Path
    test: pd.DataFrame
    validation: pd.DataFrame
    history: dict[str, list[float]]
    validation_uar: float
    seconds: float
    provenance: dict  # spec name, cpu, commit and time of the training
    reused: bool = False

    def load_model(self):
        """The trained Keras model, in safe mode."""
        from ser.models.artifacts import load_keras_file

        path = self.folder / MODEL_FILE
        if not path.exists():
            raise FileNotFoundError(
                f"training {self.key} has no model ({path}); run notebook 03 again "
                "(`make train FRESH=1` retrains everything)"
            )
        return load_keras_file(path)

    def record(self) -> dict:
        """What a run keeps about this training: its key, reuse and provenance."""
        return {"key": self.key, "reused": self.reused, "seconds": self.seconds, **self.provenance}


class TrainingCache:
    """The store of :class:`Training` entries in one folder."""

    def __init__(self, folder: Path | None = None, *, ignore_existing: bool | None = None):
        self.folder = Path(folder) if folder is not None else cache_dir()
        self.ignore_existing = fresh() if ignore_existing is None else ignore_existing

    def entry_folder(self, key: str) -> Path:
        return self.folder / key

    def load(self, key: str) -> Training | None:
        """The complete entry under ``key``, or None (also when the cache is ignored)."""
        if self.ignore_existing or not (self.entry_folder(key) / ENTRY_FILE).exists():
            return None
        return self._read(key)

    def _read(self, key: str) -> Training:
        folder = self.entry_folder(key)
        payload = json.loads((folder / ENTRY_FILE).read_text())
        return Training(
            key, folder, pd.read_csv(folder / "test.csv"), pd.read_csv(folder / "validation.csv"),
            payload["history"], payload["validation_uar"], payload["seconds"],
            payload["provenance"], reused=True,
        )  # fmt: skip

    def save(
        self, key: str, ingredients: dict, *, test: pd.DataFrame, validation: pd.DataFrame,
        history: dict, validation_uar: float, seconds: float, spec_name: str, model=None,
    ) -> Training:  # fmt: skip
        """Write an entry atomically: into a temporary folder, renamed into place when whole."""
        from ser.environment import cpu_name, git_commit

        provenance = {
            "spec": spec_name, "cpu": cpu_name(), "commit": git_commit(),
            "trained_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f".staging-{key}-{os.getpid()}-{time.monotonic_ns()}"
        staging.mkdir()
        test.to_csv(staging / "test.csv", index=False)
        validation.to_csv(staging / "validation.csv", index=False)
        if model is not None:
            model.save(staging / MODEL_FILE)
        payload = {
            "key": key, "ingredients": ingredients, "history": history,
            "validation_uar": float(validation_uar), "seconds": float(seconds),
            "provenance": provenance,
        }  # fmt: skip
        (staging / ENTRY_FILE).write_text(json.dumps(payload, indent=1) + "\n")
        final = self.entry_folder(key)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        # read back, so a run that trains sees exactly the numbers a run that reuses will
        return replace(self._read(key), reused=False)

    def entry(self, key: str) -> Training:
        """The entry under ``key`` even when the cache is being ignored (this run wrote or
        read it)."""
        if not (self.entry_folder(key) / ENTRY_FILE).exists():
            raise FileNotFoundError(
                f"training {key} is not in the cache {self.folder}; run notebook 03 again"
            )
        return self._read(key)

    def derived(self, key: str, name: str, ingredients: dict, compute) -> pd.DataFrame:
        """A table computed from entry ``key``'s model (e.g. its robustness scores), kept in
        the entry under a hash of ``ingredients`` and recomputed when they change."""
        folder = self.entry_folder(key) / "derived"
        path = folder / f"{name}-{training_key(ingredients)}.csv"
        if path.exists() and not self.ignore_existing:
            return pd.read_csv(path)
        table = compute()
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".partial-{os.getpid()}")
        table.to_csv(partial, index=False)
        partial.rename(path)
        return table


def describe_trainings(records: list[dict]) -> dict:
    """How many trainings a run reused and ran, and where and when the reused ones were trained.

    ``records`` are :meth:`Training.record` dicts (one per training the run read).
    """
    reused = [r for r in records if r.get("reused")]
    origins = sorted({(r.get("cpu", "?"), r.get("commit", "?")) for r in reused})
    return {
        "trainings": len(records),
        "reused": len(reused),
        "ran": len(records) - len(reused),
        "reused_from": [{"cpu": cpu, "commit": commit} for cpu, commit in origins],
        "seconds_reused": float(sum(r.get("seconds", 0.0) for r in reused)),
    }


def describe_reuse(summary: dict) -> str:
    """The cache's part in a run, in one sentence."""
    text = f"{summary['ran']} of {summary['trainings']} trainings ran in this run"
    if summary["reused"]:
        origins = "; ".join(f"{o['cpu']}, commit {o['commit']}" for o in summary["reused_from"])
        text += (
            f"; {summary['reused']} were reused from the training cache (trained on {origins}; "
            f"{summary['seconds_reused'] / 60:.1f} min of training saved)"
        )
    return text + "."
