"""How the report names models and states their numbers, shared by notebook 04, the card and the index page."""

from __future__ import annotations

import pandas as pd

from ser.evaluation.tables import Metrics, is_seed_ensemble  # fmt: skip
from ser.training.plan import MODEL_NAMES as PLAN_MODEL_NAMES
from ser.training.plan import RANDOM_SPLIT_SUFFIX, Plan
from ser.training.plan import model_name as plan_model_name


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def display_name(metrics: Metrics, name: str) -> str:
    """A model's name in words: our specs from :func:`ser.training.plan.model_name`, the baselines'
    from :data:`BASELINE_LABELS`, the encoder heads' from :data:`ser.training.plan.MODEL_NAMES`."""
    if name in BASELINE_LABELS:
        return BASELINE_LABELS[name]
    if name in PLAN_MODEL_NAMES:
        return PLAN_MODEL_NAMES[name]
    if name == metrics.ours:
        return plan_model_name(name, metrics.members)
    protocol = "random" if name.endswith(RANDOM_SPLIT_SUFFIX) else "speaker_independent"
    seeds = len(Plan.from_dict(metrics.plan).seeds_for(protocol)) or None
    return plan_model_name(name, seeds if is_seed_ensemble(name) else None)


BASELINE_LABELS = {
    "majority": "the majority class",
    "logistic_regression": "a logistic regression on MFCC statistics",
    "egemaps_svm": "eGeMAPS functionals with an SVM",
}


def comparison_rows(metrics: Metrics) -> pd.DataFrame:
    """Model, protocol, mean UA and std over folds, for the headline figure."""
    rows = []
    for name, model in metrics.models.items():
        if model.role == "ablation":
            continue
        for protocol, result in model.protocols.items():
            rows.append({"model": display_name(metrics, name), "protocol": protocol.replace("_", "-"),
                         "uar": result.mean["uar"], "std": result.std["uar"]})  # fmt: skip
    return pd.DataFrame(rows)


def shipped_name(metrics: Metrics) -> str:
    """The name in ``metrics.models`` of the shipped model's family row."""
    if metrics.encoder is None or metrics.encoder.shipped not in metrics.models:
        return metrics.ours
    return metrics.encoder.shipped


def shipped_calibration(metrics: Metrics) -> dict:
    """Held-out calibration of the shipped model's family."""
    encoder = metrics.encoder
    if encoder is not None and encoder.shipped == encoder.model:
        return encoder.calibration
    return metrics.calibration


def shipped_robustness(metrics: Metrics) -> dict:
    """The shipped model's robustness rows (``metrics.json`` sorts the models by name)."""
    return next(rows for name, rows in metrics.robustness.items() if name.startswith("shipped"))
