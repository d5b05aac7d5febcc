"""Unweighted accuracy (UA), computed here and nowhere else, and the noise of a judge.

UA is the mean of per-class recall over the classes present in the true
labels (scikit-learn's balanced accuracy): neutral, with half the clips of the
other emotions, counts as much as each of them.
"""

from __future__ import annotations

import numpy as np


def per_class_recall(y_true, y_pred, labels=None) -> dict:
    """Recall of each class in ``labels`` (default: the classes present in ``y_true``)
    that occurs in ``y_true``, in that order."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    present = set(y_true.tolist())
    order = sorted(present) if labels is None else [label for label in labels if label in present]
    return {label: float(np.mean(y_pred[y_true == label] == label)) for label in order}


def unweighted_accuracy(y_true, y_pred) -> float:
    """UA: the mean of per-class recall (``y_pred`` are labels, not probabilities)."""
    recall = per_class_recall(y_true, y_pred)
    return float(np.mean(list(recall.values()))) if recall else float("nan")


def ua_per_fold(predictions) -> dict[int, float]:
    """UA of each fold of a prediction frame (columns ``fold``, ``emotion``, ``predicted``)."""
    return {
        int(fold): unweighted_accuracy(part["emotion"], part["predicted"])
        for fold, part in predictions.groupby("fold")
    }


def paired_standard_error(a, b) -> float:
    """The standard error of the mean of the paired differences ``a - b`` (the same folds,
    or the same clips, scored for two candidates): how far apart their means can land
    by the luck of the validation data alone. NaN with fewer than two pairs."""
    differences = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if differences.size < 2:
        return float("nan")
    return float(np.std(differences, ddof=1) / np.sqrt(differences.size))
