"""How the report states its numbers, shared by notebook 04, the model card and the index page."""

from __future__ import annotations

import pandas as pd

from ser.evaluation.schema import Metrics
from ser.models.calibration import CalibrationResult


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def comparison_rows(metrics: Metrics) -> pd.DataFrame:
    """Model (in words), protocol, mean UA and std over folds, for the headline figure."""
    rows = [
        {"model": model.label, "protocol": protocol.replace("_", "-"),
         "uar": result.mean["uar"], "std": result.std["uar"]}
        for model in metrics.models.values()
        for protocol, result in model.protocols.items()
    ]  # fmt: skip
    return pd.DataFrame(rows)


def shipped_calibration(metrics: Metrics) -> CalibrationResult | None:
    """Held-out calibration of the shipped model's family."""
    return metrics.calibration.get(metrics.shipped_family())
