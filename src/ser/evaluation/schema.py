"""The typed results tree that ``metrics.json`` holds, defined once.

:class:`Metrics` holds a :class:`ModelResult` per model (its role and its name
in words are fields), each with a :class:`ProtocolResult` per protocol, each
with a :class:`Scores` per fold; the shipped model re-checked from disk
(:class:`ShippedResult`); calibration per model; robustness per model
(:class:`RobustnessResult`); each other corpus (:class:`CorpusResult`); and the
pretrained-encoder family (:class:`EncoderResult`). It is built in one place,
:func:`ser.evaluation.assembly.evaluate`, written by :meth:`Metrics.write` and
read back, typed, by :meth:`Metrics.read`; no module indexes the JSON by hand.

UA (unweighted accuracy, "uar") is the mean of per-class recall, so neutral,
with half the clips of the other emotions, counts as much as any of them.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from ser.config import EMOTION_NAMES
from ser.models.calibration import CalibrationResult
from ser.scoring import per_class_recall, unweighted_accuracy

SCHEMA_VERSION = 2
HEADLINE = ("accuracy", "uar", "macro_f1")
ROLES = ("encoder", "cnn", "reference", "baseline")  # ModelResult.role


class SchemaError(ValueError):
    """A ``metrics.json`` written by another version of this code."""


@dataclass
class Scores:
    """Accuracy, UA, macro-F1 and per-class recall of one set of predictions."""

    n_clips: int
    accuracy: float
    uar: float
    macro_f1: float
    per_class_recall: dict[str, float]
    fold: int = 0
    test_actors: list[int] = field(default_factory=list)


def summarise(y_true, y_pred, labels=EMOTION_NAMES, *, fold: int = 0, test_actors=()) -> Scores:
    """Score predictions: accuracy, UA (mean per-class recall), macro-F1, per-class recall."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    recall = per_class_recall(y_true, y_pred, labels)
    return Scores(
        n_clips=int(len(y_true)),
        accuracy=float(np.mean(y_true == y_pred)),
        uar=unweighted_accuracy(y_true, y_pred),
        macro_f1=float(f1_score(y_true, y_pred, labels=list(recall), average="macro",
                                zero_division=0)),
        per_class_recall=recall,
        fold=int(fold),
        test_actors=sorted(int(a) for a in test_actors),
    )  # fmt: skip


@dataclass
class ProtocolResult:
    """One model under one protocol: a :class:`Scores` per fold, their mean and std, pooled.

    The random protocol has a single "fold" (0); its std is 0.
    """

    protocol: str
    folds: list[Scores]
    pooled: Scores
    mean: dict[str, float]
    std: dict[str, float]
    mean_class_recall: dict[str, float]

    @classmethod
    def from_predictions(cls, predictions: pd.DataFrame, protocol: str, actors=None):
        """Score a predictions frame (clip_id, fold, emotion, predicted) fold by fold.

        ``actors`` maps clip_id to actor, so each fold records its test actors.
        """
        folds = []
        for fold, part in predictions.groupby("fold", sort=True):
            held = part["clip_id"].map(actors).unique() if actors is not None else ()
            folds.append(summarise(part["emotion"], part["predicted"], fold=fold, test_actors=held))
        return cls(
            protocol=protocol, folds=folds,
            pooled=summarise(predictions["emotion"], predictions["predicted"]),
            mean={k: float(np.mean([getattr(f, k) for f in folds])) for k in HEADLINE},
            std={k: float(np.std([getattr(f, k) for f in folds])) for k in HEADLINE},
            mean_class_recall={
                label: float(np.mean([f.per_class_recall[label] for f in folds]))
                for label in folds[0].per_class_recall
            },
        )  # fmt: skip


@dataclass
class ModelResult:
    """One model under its protocols."""

    name: str  # its identifier: run folders, model folders
    label: str  # its name in words, for readers
    role: str  # one of ROLES
    description: str
    protocols: dict[str, ProtocolResult]
    training_seconds: dict[str, float] = field(default_factory=dict)  # per protocol
    svm_c_per_fold: dict[str, dict[int, float]] = field(default_factory=dict)  # the SVM's C


@dataclass
class ShippedResult:
    """A model folder re-scored from disk on the actors it never saw."""

    model: str
    scores: Scores
    trained_on_actors: list[int]
    validation_actors: list[int]
    seed: int
    epochs_trained: int
    parameters: int
    labels: list[str]
    onnx_max_difference: float | None = None  # the ONNX export against Keras, these clips


@dataclass
class ConditionResult:
    uar: float
    drop: float  # from clean


@dataclass
class RobustnessResult:
    """One model folder's UA per damage condition, on its held-out actors, through the predictor."""

    model: str
    label: str
    shipped: bool  # the model in models/
    conditions: dict[str, ConditionResult]  # "clean" included

    def worst(self, suffix: str = "") -> str:
        """The damaged condition (ending in ``suffix``) with the largest drop."""
        damaged = [c for c in self.conditions if c != "clean" and c.endswith(suffix)]
        return max(damaged, key=lambda c: self.conditions[c].drop)


@dataclass
class CorpusModelResult:
    model: str
    label: str
    role: str
    uar: float
    recall: dict[str, float]  # per emotion of the corpus


@dataclass
class CorpusResult:
    """Models scored on another corpus, never trained on (TESS)."""

    corpus: str
    clips: int
    emotions: list[str]
    models: list[CorpusModelResult]

    def of(self, model: str) -> CorpusModelResult | None:
        return next((m for m in self.models if m.model == model), None)


@dataclass
class EnrolmentResult:
    """Speaker-independent UA when each speaker is enrolled first (see ser.evaluation.encoder)."""

    condition: str
    uar: float
    std: float  # over folds
    per_fold: dict[int, float]


@dataclass
class EncoderResult:
    """The pretrained-encoder family: notebook 03's choice and speaker enrolment."""

    model: str  # the family's best head by the rule: its row in the comparison
    shipped: str  # the winner of the family table: what models/ holds
    rule: str
    selection: list[dict]  # the family table: validation actors only
    enrolment: list[EnrolmentResult] = field(default_factory=list)


@dataclass
class Metrics:
    """Everything ``metrics.json`` holds."""

    models: dict[str, ModelResult]
    ours: str  # our from-scratch CNN
    reference: str  # the original BiLSTM
    shipped: ShippedResult
    plan: dict
    versions: dict = field(default_factory=dict)
    encoder: EncoderResult | None = None
    cnn_check: ShippedResult | None = None  # the CNN's own model when the encoder ships
    calibration: dict[str, CalibrationResult] = field(default_factory=dict)  # per model
    robustness: list[RobustnessResult] = field(default_factory=list)
    corpora: list[CorpusResult] = field(default_factory=list)
    schema: int = SCHEMA_VERSION

    def si(self, name: str) -> ProtocolResult:
        return self.models[name].protocols["speaker_independent"]

    def label(self, name: str) -> str:
        return self.models[name].label if name in self.models else name

    def baselines(self) -> list[str]:
        return [n for n, m in self.models.items() if m.role == "baseline"]

    def shipped_family(self) -> str:
        """The name in :attr:`models` of the shipped model's family row."""
        if self.encoder is None or self.encoder.shipped not in self.models:
            return self.ours
        return self.encoder.shipped

    def shipped_robustness(self) -> RobustnessResult | None:
        return next((r for r in self.robustness if r.shipped), None)

    def corpus(self, name: str = "TESS") -> CorpusResult | None:
        return next((c for c in self.corpora if c.corpus == name), None)

    def write(self, path: Path) -> Path:
        """Write the file (sorted keys, floats rounded to 6 places)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(asdict(self))
        rounded = json.loads(text, parse_float=lambda value: round(float(value), 6))
        path.write_text(json.dumps(rounded, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def read(cls, path: Path) -> Metrics:
        record = json.loads(Path(path).read_text())
        found = record.get("schema", 1)
        if found != SCHEMA_VERSION:
            raise SchemaError(
                f"{path} has metrics schema version {found}; this code reads version "
                f"{SCHEMA_VERSION}. Run `make report` to write it again."
            )
        return typed(cls, record)


def typed(kind, value):
    """``value`` (parsed JSON) as ``kind``: dataclasses, lists, dicts and optionals, recursively."""
    if value is None:
        return None
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: typed(hints[k], v) for k, v in value.items() if k in known})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is list:
        return [typed(args[0], item) for item in value]
    if origin is dict:
        return {typed(args[0], k): typed(args[1], v) for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        return typed(next(a for a in args if a is not type(None)), value)
    if kind in (int, float, str, bool):
        return kind(value)
    return value
