"""The evaluation's tables: the comparison, per fold, per class, confusions, groups, robustness.

Each reads the typed results (:mod:`ser.evaluation.schema`) or prediction frames;
notebook 04 displays them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from ser.config import EMOTION_NAMES
from ser.evaluation.schema import HEADLINE, Metrics, ProtocolResult

CHANCE_UA = 1 / len(EMOTION_NAMES)  # UA of any constant or random guess


def per_class_table(y_true, y_pred, labels=EMOTION_NAMES) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(labels, name="emotion"),
    )


def confusion_matrices(
    metrics: Metrics, predictions: dict[str, pd.DataFrame], models,
    protocols=("speaker_independent", "random"),
) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Row-normalised confusion matrices from ``<model>/<protocol>`` predictions, titled by the
    model's name in words and the protocol."""
    return {
        f"{metrics.label(name)}, {protocol.replace('_', '-')}": confusion(
            frame["emotion"], frame["predicted"]
        )
        for name in models
        for protocol in protocols
        if f"{name}/{protocol}" in predictions  # a model chosen for one protocol has only that
        for frame in [predictions[f"{name}/{protocol}"]]
    }


def confusion(y_true, y_pred, labels=EMOTION_NAMES, normalise: bool = True) -> pd.DataFrame:
    """Confusion matrix (rows: true emotion), row-normalised to recall by default."""
    matrix = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
    if normalise:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    return pd.DataFrame(
        matrix, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted")
    )


def top_confusions(matrix: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """The ``k`` largest off-diagonal cells of a row-normalised confusion matrix."""
    pairs = matrix.stack().rename("share of true class").reset_index()
    pairs = pairs[pairs["true"] != pairs["predicted"]]
    return pairs.sort_values("share of true class", ascending=False).head(k).reset_index(drop=True)


def group_accuracy(predictions: pd.DataFrame, index: pd.DataFrame, by: str) -> pd.DataFrame:
    """Accuracy (and clip count) per value of an index column: actor, gender, intensity, ..."""
    merged = predictions.merge(index[["clip_id", by]], on="clip_id", how="left")
    merged["correct"] = merged["emotion"] == merged["predicted"]
    return merged.groupby(by)["correct"].agg(accuracy="mean", clips="size").reset_index()


def side_by_side(tables: dict[str, pd.DataFrame], by: str) -> pd.DataFrame:
    """Group accuracies of several models or protocols as columns."""
    return pd.concat({p: t.set_index(by)["accuracy"] for p, t in tables.items()}, axis=1)


def _mean_std(result: ProtocolResult, key: str) -> str:
    if len(result.folds) > 1:
        return f"{result.mean[key]:.3f} ± {result.std[key]:.3f}"
    return f"{result.mean[key]:.3f}"


def comparison_table(metrics: Metrics) -> pd.DataFrame:
    """UA, accuracy and macro-F1 of each model per protocol (mean ± std over folds)."""
    rows = []
    for model in metrics.models.values():
        for protocol, result in model.protocols.items():
            rows.append({"model": model.label, "role": model.role, "protocol": protocol,
                         **{k: _mean_std(result, k) for k in HEADLINE}})  # fmt: skip
    return (
        pd.DataFrame(rows)
        .set_index(["protocol", "model"])
        .sort_index(level=0, sort_remaining=False)
    )


def fold_table(result: ProtocolResult) -> pd.DataFrame:
    """One row per fold: its held-out actors and headline metrics."""
    rows = [
        {"fold": f.fold, "test actors": ", ".join(map(str, f.test_actors)), "clips": f.n_clips,
         **{k: round(getattr(f, k), 3) for k in HEADLINE}}
        for f in result.folds
    ]  # fmt: skip
    return pd.DataFrame(rows).set_index("fold")


def robustness_display(table: pd.DataFrame) -> pd.DataFrame:
    """UA and the drop from clean per condition, for each model; drops over 15 points marked."""
    shown = {}
    for model in table.columns:
        drop = table.loc["clean", model] - table[model]
        shown[(model, "UA")] = table[model].map("{:.3f}".format)
        shown[(model, "drop")] = [f"{d:.3f}" + (" ⚠" if d > 0.15 else "") for d in drop]
    return pd.DataFrame(shown, index=table.index)
