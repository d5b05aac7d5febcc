"""Training under the evaluation protocols: one model per split, out-of-split predictions.

Every model is trained on a split's training clips only. Its validation clips
(two training actors per speaker-independent fold, never test actors) serve
for early stopping where the recipe stops early, and for model selection; its
test clips get one prediction each.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.utils.class_weight import compute_sample_weight

from ser.features.extraction import FeatureParams
from ser.models.architectures import N_CLASSES, ModelSpec, build_model
from ser.scoring import unweighted_accuracy
from ser.training.runs import ProtocolRun, prediction_frame
from ser.training.training_cache import Training, TrainingCache, key_ingredients, training_key

# A new model per fold makes tf.function retrace predict; TensorFlow warns about
# that on every fold. Understood and harmless here, so only errors are shown.
tf.get_logger().setLevel("ERROR")

LOG_EVERY = 10  # one line every 10th epoch (and the last); the curves show all
VALIDATE_EVERY = 5  # fixed-schedule models: validation curve points every 5th epoch


def progress(line: str) -> None:
    """Print a progress line; inside a notebook kernel, also to the terminal running it.

    The kernel runs with fd capture off (see :mod:`ser.reporting.notebooks`), so the
    process's own stderr is the terminal of ``make report``: a reader there can
    see which model, fold and epoch is training.
    """
    print(line, flush=True)
    terminal = sys.__stderr__
    if terminal is not None and terminal is not sys.stderr:
        terminal.write(line + "\n")
        terminal.flush()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic ops.

    Determinism holds for the same machine, versions and thread counts; other
    CPUs or library versions may round differently.
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def predict_proba(model, features: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities, ``(n, n_classes)``, in inference mode.

    Uses the model's compiled predict step batch by batch: ``model.predict``
    builds a new input pipeline on every call, and calling the model eagerly
    runs the BiLSTM's 174 time steps in Python (1.3 s against 0.12 s for 120
    clips, ``bench/epoch_cost.py``).
    """
    features = np.asarray(features, dtype=np.float32)
    if len(features) == 0:
        return np.zeros((0, N_CLASSES), np.float32)
    batches = [
        np.asarray(model.predict_on_batch(features[i : i + batch_size]))
        for i in range(0, len(features), batch_size)
    ]
    return np.concatenate(batches)


class ValidationUA(keras.callbacks.Callback):
    """Scores the validation clips every ``every`` epochs (and after the last).

    Adds ``val_uar`` and ``val_loss`` (cross-entropy) to those epochs' logs, for
    early stopping, and keeps them with their epoch numbers in ``self.record``.
    """

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, every: int = 1):
        super().__init__()
        self.x_val, self.y_val, self.every = x_val, y_val, every
        self.record: dict[str, list[float]] = {"val_epoch": [], "val_uar": [], "val_loss": []}

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if logs is None or not len(self.y_val):
            return
        if done % self.every and done != self.params.get("epochs"):
            return
        probabilities = predict_proba(self.model, self.x_val)
        chosen = probabilities[np.arange(len(self.y_val)), self.y_val]
        logs["val_uar"] = unweighted_accuracy(self.y_val, probabilities.argmax(axis=1))
        logs["val_loss"] = float(-np.mean(np.log(np.clip(chosen, 1e-7, 1.0))))
        for key, value in (("val_epoch", done), ("val_uar", logs["val_uar"]),
                           ("val_loss", logs["val_loss"])):  # fmt: skip
            self.record[key].append(float(value))


class EpochLine(keras.callbacks.Callback):
    """A compact line every ``every`` epochs, with the time left for this model."""

    def __init__(self, label: str = "", every: int = LOG_EVERY):
        super().__init__()
        self.label, self.every = label, every

    def on_train_begin(self, logs=None):
        self.total, self.start = self.params.get("epochs"), time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if done % self.every and done != self.total:
            return
        logs = logs or {}
        elapsed = time.perf_counter() - self.start
        progress(
            f"{self.label}epoch {done:3d}/{self.total}  loss {logs.get('loss', math.nan):.3f}  "
            f"acc {logs.get('accuracy', math.nan):.3f}  val_uar {logs.get('val_uar', math.nan):.3f}  "
            f"{elapsed:.0f}s, at most {elapsed / done * (self.total - done):.0f}s left"
        )


class VersionDraws(keras.utils.PyDataset):
    """Batches from a bank of versions of every training clip (``(clips, versions, ...)``):
    each epoch draws one version per clip and shuffles, so an epoch costs what one pass
    over the clips costs. ``weights`` (one per clip) are returned as sample weights."""

    def __init__(self, bank: np.ndarray, targets: np.ndarray, batch_size: int, seed: int,
                 weights: np.ndarray | None = None):  # fmt: skip
        super().__init__()
        self.bank, self.targets, self.batch_size = bank, targets, batch_size
        self.weights = weights
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return math.ceil(self.bank.shape[0] / self.batch_size)

    def on_epoch_end(self) -> None:
        n = self.bank.shape[0]
        self.order = self.rng.permutation(n)
        self.version = self.rng.integers(0, self.bank.shape[1], size=n)

    def __getitem__(self, batch: int):
        clips = self.order[batch * self.batch_size : (batch + 1) * self.batch_size]
        x, y = self.bank[clips, self.version[clips]], self.targets[clips]
        if self.weights is not None:
            return x, y, self.weights[clips]
        return x, y


def train_model(
    spec: ModelSpec, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray,
    y_val: np.ndarray, *, seed: int, label: str = "",
):  # fmt: skip
    """Train a fresh model of ``spec``; return (model, history).

    ``x_train`` is one array of clips, or a bank ``(clips, versions, frames, features)``
    whose version 0 is the clean clip (:class:`VersionDraws`).

    The history has ``loss`` and ``accuracy`` per epoch and ``val_uar`` and
    ``val_loss`` at the epochs listed in ``val_epoch``.

    With ``spec.patience`` training stops once validation UA has not improved for
    that many epochs and the best epoch's weights are kept; without it the
    model trains for exactly ``spec.epochs`` epochs of its schedule.
    """
    seed_everything(seed)
    bank = x_train if x_train.ndim == 4 else None
    clean = bank[:, 0] if bank is not None else x_train
    steps = math.ceil(len(clean) / spec.batch_size)
    model = build_model(
        spec, clean.shape[1], clean.shape[2], steps_per_epoch=steps, adapt_on=clean, seed=seed,
    )  # fmt: skip
    # Early stopping needs the validation score every epoch; a fixed schedule only
    # needs it for the curves, so it is computed every VALIDATE_EVERY epochs.
    validation = ValidationUA(x_val, y_val, every=1 if spec.patience else VALIDATE_EVERY)
    callbacks = [validation, EpochLine(label)]
    if spec.patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_uar", mode="max", patience=spec.patience, restore_best_weights=True
            )
        )
    targets = keras.utils.to_categorical(y_train, N_CLASSES)
    # every class weighs the same in the loss, as in unweighted accuracy
    weights = (
        compute_sample_weight("balanced", y_train).astype(np.float32)
        if spec.balanced_classes else None
    )  # fmt: skip
    if bank is not None:
        draws = VersionDraws(bank, targets, spec.batch_size, seed, weights)
        history = model.fit(draws, epochs=spec.epochs, callbacks=callbacks, verbose=0)
    else:
        history = model.fit(
            x_train, targets, epochs=spec.epochs, batch_size=spec.batch_size, shuffle=True,
            callbacks=callbacks, verbose=0, sample_weight=weights,
        )  # fmt: skip
    curves = {
        k: [float(v) for v in vs] for k, vs in history.history.items() if not k.startswith("val_")
    }
    return model, {**curves, **validation.record}


@dataclass
class TrainedSplit:
    """One split's trained model, its curves, and its validation probabilities."""

    model: object
    history: dict[str, list[float]]
    validation_probabilities: np.ndarray
    validation_uar: float
    seconds: float


def clean_clips(features: np.ndarray) -> np.ndarray:
    """The clean clips' features: version 0 of a bank, or the features themselves."""
    return features[:, 0] if features.ndim == 4 else features


def fit_split(
    spec: ModelSpec, features: np.ndarray, labels: np.ndarray, split, *, seed: int, label: str = ""
) -> TrainedSplit:
    """Train ``spec`` on a split's training clips and score its validation clips.

    ``features`` is ``(clips, frames, features)``, or a bank ``(clips, versions, frames,
    features)`` whose version 0 is the clean clip (validated and tested on)."""
    start = time.perf_counter()
    x_val = clean_clips(features)[split.validation]
    model, history = train_model(
        spec, features[split.train], labels[split.train], x_val, labels[split.validation],
        seed=seed, label=label,
    )  # fmt: skip
    probabilities = predict_proba(model, x_val)
    uar = unweighted_accuracy(labels[split.validation], probabilities.argmax(axis=1))
    return TrainedSplit(model, history, probabilities, uar, time.perf_counter() - start)


def predict_test_clips(trained: TrainedSplit, index: pd.DataFrame, features, split) -> pd.DataFrame:
    """The test clips of ``split`` as a :func:`prediction_frame`."""
    probabilities = predict_proba(trained.model, clean_clips(features)[split.test])
    return prediction_frame(index, split.test, split.fold, probabilities)


def cached_training(
    spec: ModelSpec, index: pd.DataFrame, features: np.ndarray, split, *, seed: int,
    cache: TrainingCache, epoch_cap: int | None = None, label: str = "",
) -> Training:  # fmt: skip
    """The training of ``spec`` on ``split`` with ``seed``: from the cache if its key is
    there, else trained now (test and validation clips predicted) and saved."""
    ingredients = key_ingredients(
        spec, FeatureParams.of(spec.features), features, index["clip_id"].to_numpy(), split,
        seed=seed, epoch_cap=epoch_cap,
    )  # fmt: skip
    key = training_key(ingredients)
    found = cache.load(key)
    if found is not None:
        progress(f"{label}reused training {key} ({found.provenance['cpu']}, commit "
                 f"{found.provenance['commit']}, {found.seconds:.0f}s then)")  # fmt: skip
        return found
    progress(f"{label}train {len(split.train)} clips, validate {len(split.validation)}, "
             f"test {len(split.test)}")  # fmt: skip
    labels = index["emotion_code"].to_numpy() - 1
    trained = fit_split(spec, features, labels, split, seed=seed, label=label)
    entry = cache.save(
        key, ingredients, test=predict_test_clips(trained, index, features, split),
        validation=prediction_frame(index, split.validation, split.fold,
                                    trained.validation_probabilities),
        history=trained.history, validation_uar=trained.validation_uar,
        seconds=trained.seconds, spec_name=spec.name, model=trained.model,
    )  # fmt: skip
    progress(f"{label}{len(trained.history['loss'])} epochs, validation UA "
             f"{trained.validation_uar:.3f}, {trained.seconds:.0f}s")  # fmt: skip
    keras.backend.clear_session()
    return entry


def run_protocol(
    spec: ModelSpec, index: pd.DataFrame, features: np.ndarray, splits: list, *, seed: int,
    cache: TrainingCache, epoch_cap: int | None = None,
) -> ProtocolRun:  # fmt: skip
    """``spec`` once per split (seed ``seed + fold``), each training from the cache or
    trained now: the test and validation clips' predictions of every split."""
    trainings = {}
    for split in splits:
        tag = f"[{spec.name} {split.protocol}" + (f" fold {split.fold}" if split.fold else "")
        tag += f" seed {seed}] "
        trainings[split.fold] = cached_training(
            spec, index, features, split, seed=seed + split.fold, cache=cache,
            epoch_cap=epoch_cap, label=tag,
        )  # fmt: skip
    return ProtocolRun(
        spec.name, splits[0].protocol, seed,
        pd.concat([t.test for t in trainings.values()], ignore_index=True),
        {fold: t.validation_uar for fold, t in trainings.items()},
        {fold: t.history for fold, t in trainings.items()},
        {fold: t.seconds for fold, t in trainings.items()},
        pd.concat([t.validation for t in trainings.values()], ignore_index=True),
        {fold: t.record() for fold, t in trainings.items()},
    )  # fmt: skip
