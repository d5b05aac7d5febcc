"""The BiLSTM classifier: architecture, standardisation, training and saved artifacts.

The architecture is the original project's, unchanged:
Input(174, 40) -> Bidirectional(LSTM 128, sequences) -> Dropout 0.5 -> LSTM 64
-> Dropout 0.5 -> Dense 64 relu -> Dense 8 softmax (259,912 parameters).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up chatter

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

# A new model per fold makes tf.function retrace predict; TensorFlow warns about
# that on every fold. Understood and harmless here, so only errors are shown.
tf.get_logger().setLevel("ERROR")

from ser.config import EMOTION_NAMES, N_FRAMES, N_MFCC  # noqa: E402

MODEL_FILE = "ser_bilstm.keras"
LOG_EVERY = 5  # run_protocol prints every 5th epoch (and the last); the curves show all
LABELS_FILE = "labels.json"
SCALER_FILE = "scaler.json"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic ops.

    Determinism holds for the same machine, versions and thread counts; other
    CPUs or library versions may round differently.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def build_model(
    n_frames: int = N_FRAMES, n_mfcc: int = N_MFCC, n_classes: int = len(EMOTION_NAMES)
):
    """The original BiLSTM, compiled with Adam and sparse categorical cross-entropy."""
    model = keras.Sequential(
        [
            keras.Input(shape=(n_frames, n_mfcc), name="mfcc"),
            keras.layers.Bidirectional(
                keras.layers.LSTM(128, return_sequences=True), name="bilstm"
            ),
            keras.layers.Dropout(0.5, name="dropout_1"),
            keras.layers.LSTM(64, name="lstm"),
            keras.layers.Dropout(0.5, name="dropout_2"),
            keras.layers.Dense(64, activation="relu", name="dense"),
            keras.layers.Dense(n_classes, activation="softmax", name="emotion"),
        ],
        name="ser_bilstm",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@dataclass
class Standardizer:
    """Per-coefficient mean and standard deviation, fitted on training clips only."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray) -> Standardizer:
        flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
        std = flat.std(axis=0)
        return cls(
            flat.mean(axis=0).astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32)
        )

    def transform(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.std).astype(np.float32)

    def to_json(self, path: Path) -> None:
        payload = {"mean": self.mean.tolist(), "std": self.std.tolist(), "axis": "mfcc coefficient"}
        Path(path).write_text(json.dumps(payload, indent=1) + "\n")

    @classmethod
    def from_json(cls, path: Path) -> Standardizer:
        payload = json.loads(Path(path).read_text())
        return cls(np.asarray(payload["mean"], np.float32), np.asarray(payload["std"], np.float32))


class EpochLine(keras.callbacks.Callback):
    """One compact line per epoch instead of Keras' progress bars."""

    def __init__(self, label: str = "", every: int = 1):
        super().__init__()
        self.label, self.every = label, every

    def on_train_begin(self, logs=None):
        self.total = self.params.get("epochs")

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every and epoch + 1 != self.total:
            return
        logs = logs or {}
        print(
            f"{self.label}epoch {epoch + 1:3d}/{self.total}  "
            f"loss {logs.get('loss', float('nan')):.3f}  acc {logs.get('accuracy', float('nan')):.3f}  "
            f"val_loss {logs.get('val_loss', float('nan')):.3f}  "
            f"val_acc {logs.get('val_accuracy', float('nan')):.3f}  "
            f"{time.perf_counter() - self.start:.1f}s",
            flush=True,
        )


def train_model(
    x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, *,
    epochs: int, batch_size: int, seed: int, patience: int, label: str = "", log_every: int = 1,
):  # fmt: skip
    """Train a fresh model with early stopping on the validation set; return (model, history).

    The weights of the epoch with the lowest validation loss are kept: Keras
    checkpoints them in memory and restores them when training stops.
    """
    seed_everything(seed)
    model = build_model(x_train.shape[1], x_train.shape[2])
    callbacks = [
        EpochLine(label, every=log_every),
        keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=patience, restore_best_weights=True
        ),
    ]
    history = model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
        shuffle=True, callbacks=callbacks, verbose=0,
    )  # fmt: skip
    return model, history.history


def predict_proba(model, features: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities, ``(n, n_classes)``, without Keras' progress output."""
    return np.asarray(model.predict(features, batch_size=batch_size, verbose=0))


def save_artifacts(
    model, standardizer: Standardizer, folder: Path, extra: dict | None = None
) -> Path:
    """Write the model (.keras), ``labels.json`` and ``scaler.json`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / MODEL_FILE)
    labels = {"index_to_emotion": dict(enumerate(EMOTION_NAMES)), **(extra or {})}
    (folder / LABELS_FILE).write_text(json.dumps(labels, indent=2) + "\n")
    standardizer.to_json(folder / SCALER_FILE)
    return folder


def load_artifacts(folder: Path):
    """Load (model, labels, standardizer) saved by :func:`save_artifacts`, safely."""
    folder = Path(folder)
    missing = [
        name for name in (MODEL_FILE, LABELS_FILE, SCALER_FILE) if not (folder / name).exists()
    ]
    if missing:
        raise FileNotFoundError(
            f"model folder {folder} lacks {', '.join(missing)}; run `make train` (or `make report`)."
        )
    model = keras.saving.load_model(folder / MODEL_FILE, compile=False, safe_mode=True)
    mapping = json.loads((folder / LABELS_FILE).read_text())["index_to_emotion"]
    labels = [mapping[str(i)] for i in range(len(mapping))]
    return model, labels, Standardizer.from_json(folder / SCALER_FILE)


@dataclass
class ProtocolRun:
    """Out-of-split predictions of one protocol, with training histories and timings."""

    protocol: str
    predictions: pd.DataFrame  # one row per test clip: clip_id, fold, true/predicted, p_<emotion>
    histories: dict[int, dict[str, list[float]]]
    seconds: dict[int, float]


def run_protocol(
    index: pd.DataFrame, features: np.ndarray, splits: list, *, epochs: int, batch_size: int,
    seed: int, patience: int, shipped_fold: int | None = None, shipped_dir: Path | None = None,
) -> ProtocolRun:  # fmt: skip
    """Train one model per split (scaler fitted on its training clips) and predict its test clips.

    The model of split ``shipped_fold`` is saved with its labels and scaler to
    ``shipped_dir``.
    """
    labels = index["emotion_code"].to_numpy() - 1
    rows, histories, seconds = [], {}, {}
    for split in splits:
        start = time.perf_counter()
        scaler = Standardizer.fit(features[split.train])
        tag = f"[{split.protocol} fold {split.fold}] " if split.fold else f"[{split.protocol}] "
        print(f"{tag}train {len(split.train)} clips, validate {len(split.validation)}, "
              f"test {len(split.test)}", flush=True)  # fmt: skip
        model, history = train_model(
            scaler.transform(features[split.train]), labels[split.train],
            scaler.transform(features[split.validation]), labels[split.validation],
            epochs=epochs, batch_size=batch_size, seed=seed + split.fold, patience=patience,
            label=tag, log_every=LOG_EVERY,
        )  # fmt: skip
        probabilities = predict_proba(model, scaler.transform(features[split.test]))
        part = pd.DataFrame(probabilities, columns=[f"p_{e}" for e in EMOTION_NAMES])
        part.insert(0, "predicted", [EMOTION_NAMES[i] for i in probabilities.argmax(axis=1)])
        part.insert(0, "emotion", index["emotion"].to_numpy()[split.test])
        part.insert(0, "fold", split.fold)
        part.insert(0, "clip_id", index["clip_id"].to_numpy()[split.test])
        rows.append(part)
        histories[split.fold] = {k: [float(v) for v in vs] for k, vs in history.items()}
        if shipped_dir is not None and split.fold == shipped_fold:
            test_actors = sorted(int(a) for a in set(index["actor"].to_numpy()[split.test]))
            actors = index["actor"].to_numpy()
            save_artifacts(model, scaler, shipped_dir, extra={
                "held_out_actors": test_actors,
                "trained_on_actors": sorted({int(a) for a in actors[np.r_[split.train, split.validation]]}),
                "validation_actors": sorted({int(a) for a in actors[split.validation]}),
                "seed": seed + split.fold, "epochs_trained": len(history["loss"]),
            })  # fmt: skip
        seconds[split.fold] = time.perf_counter() - start
        accuracy = float((part["predicted"] == part["emotion"]).mean())
        best = int(np.argmin(history["val_loss"])) + 1
        print(f"{tag}stopped after {len(history['loss'])} epochs (weights of epoch {best} kept), "
              f"test accuracy {accuracy:.3f}, "
              f"{seconds[split.fold]:.0f}s", flush=True)  # fmt: skip
        keras.backend.clear_session()
    return ProtocolRun(splits[0].protocol, pd.concat(rows, ignore_index=True), histories, seconds)


def save_run(run: ProtocolRun, folder: Path) -> Path:
    """Write ``predictions.csv`` and ``training.json`` (histories, seconds) for one protocol."""
    folder = Path(folder) / run.protocol
    folder.mkdir(parents=True, exist_ok=True)
    run.predictions.to_csv(folder / "predictions.csv", index=False, float_format="%.6f")
    payload = {"histories": run.histories, "seconds": run.seconds}
    (folder / "training.json").write_text(json.dumps(payload, indent=1) + "\n")
    return folder


def load_run(folder: Path, protocol: str) -> ProtocolRun:
    """Read back what :func:`save_run` wrote."""
    folder = Path(folder) / protocol
    payload = json.loads((folder / "training.json").read_text())
    return ProtocolRun(
        protocol, pd.read_csv(folder / "predictions.csv"),
        {int(k): v for k, v in payload["histories"].items()},
        {int(k): v for k, v in payload["seconds"].items()},
    )  # fmt: skip


RUNS_FOLDER = "runs"


def resolve_training_plan(
    *, epochs: int, batch_size: int, seed: int, patience: int, protocols, quick: bool
) -> dict:
    """The effective training settings; ``quick`` caps epochs at 3 and uses 2 folds."""
    plan = {
        "epochs": min(int(epochs), 3) if quick else int(epochs),
        "batch_size": int(batch_size),
        "seed": int(seed),
        "patience": int(patience),
        "protocols": list(protocols),
        "folds": [1, 2] if quick else [1, 2, 3, 4, 5, 6],
        "quick": bool(quick),
    }
    return plan


def write_plan(plan: dict, runs_dir: Path) -> Path:
    """Record the training plan next to the runs, for the evaluation and the report."""
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    path = Path(runs_dir) / "plan.json"
    path.write_text(json.dumps(plan, indent=2) + "\n")
    return path


def read_plan(runs_dir: Path) -> dict:
    path = Path(runs_dir) / "plan.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run notebook 03 (`make train`) first")
    return json.loads(path.read_text())


def timing_table(runs: dict[str, ProtocolRun]) -> pd.DataFrame:
    """Epochs run and seconds spent per protocol and fold."""
    rows = [
        {"protocol": protocol, "fold": fold, "epochs": len(run.histories[fold]["loss"]),
         "seconds": round(run.seconds[fold], 1)}
        for protocol, run in runs.items() for fold in run.histories
    ]  # fmt: skip
    return pd.DataFrame(rows)
