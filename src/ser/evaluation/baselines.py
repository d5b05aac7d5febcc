"""The baselines: majority, MFCC-statistics logistic regression and eGeMAPS + SVM.

Each is trained on a split's training clips (the SVM's C chosen on its validation
clips) and predicts its test clips, on the same splits as the neural models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ser.scoring import unweighted_accuracy

SVM_C_GRID = (0.1, 1.0, 10.0, 100.0)


def clip_statistics(features: np.ndarray) -> np.ndarray:
    """Per-clip mean and standard deviation over frames: ``(n, 2 * n_features)``."""
    return np.concatenate([features.mean(axis=1), features.std(axis=1)], axis=1)


def _frame(index: pd.DataFrame, split, predicted) -> pd.DataFrame:
    return pd.DataFrame({
        "clip_id": index["clip_id"].to_numpy()[split.test], "fold": split.fold,
        "emotion": index["emotion"].to_numpy()[split.test], "predicted": predicted,
    })  # fmt: skip


def svm_with_validated_c(x, labels, split, seed: int, grid=SVM_C_GRID):
    """An RBF SVM whose C maximises UA on the split's validation clips, refitted on train + validation."""

    def svm(c):
        return make_pipeline(StandardScaler(), SVC(C=c, kernel="rbf", random_state=seed))

    scores = {}
    for c in grid:
        model = svm(c).fit(x[split.train], labels[split.train])
        scores[c] = unweighted_accuracy(
            labels[split.validation], model.predict(x[split.validation])
        )
    best = max(grid, key=lambda c: (scores[c], -c))  # ties: the smaller C
    train = np.r_[split.train, split.validation]
    return svm(best).fit(x[train], labels[train]), best, scores


def fit_baselines(
    index: pd.DataFrame, mfcc: np.ndarray, egemaps: np.ndarray | None, split, seed: int
) -> tuple[dict, float | None]:
    """Majority, MFCC-statistics logistic regression and eGeMAPS + SVM fitted on one split.

    The first two have nothing to tune and fit on all training clips of the split
    (training plus validation part); the SVM chooses C on the validation clips
    first. Returns ``{name: (model, input kind)}`` and the SVM's C.
    """
    labels = index["emotion"].to_numpy()
    statistics = clip_statistics(mfcc)
    train = np.r_[split.train, split.validation]
    models = {
        "majority": (DummyClassifier(strategy="most_frequent").fit(statistics[train], labels[train]),
                     "mfcc_statistics"),
        "logistic_regression": (make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed)
        ).fit(statistics[train], labels[train]), "mfcc_statistics"),
    }  # fmt: skip
    c = None
    if egemaps is not None:
        svm, c, _ = svm_with_validated_c(egemaps, labels, split, seed)
        models["egemaps_svm"] = (svm, "egemaps")
    return models, c


def baseline_inputs(mfcc: np.ndarray, egemaps: np.ndarray | None) -> dict[str, np.ndarray]:
    """What each baseline reads, by input kind."""
    return {"mfcc_statistics": clip_statistics(mfcc), "egemaps": egemaps}


def baseline_predictions(
    index: pd.DataFrame, mfcc: np.ndarray, egemaps: np.ndarray | None, splits: list, seed: int
) -> tuple[dict[str, pd.DataFrame], dict[int, float]]:
    """The baselines (:func:`fit_baselines`) on the given splits: each split's test clips.

    Returns the predictions per baseline and the SVM's chosen C per fold.
    """
    inputs = baseline_inputs(mfcc, egemaps)
    out: dict[str, list] = {}
    chosen_c = {}
    for split in splits:
        models, c = fit_baselines(index, mfcc, egemaps, split, seed)
        if c is not None:
            chosen_c[split.fold] = c
        for name, (model, kind) in models.items():
            predicted = model.predict(inputs[kind][split.test])
            out.setdefault(name, []).append(_frame(index, split, predicted))
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}, chosen_c


def class_scores(model, x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Per-class scores (probabilities, or the SVM's decision values) and their class names."""
    scores = (
        model.predict_proba(x) if hasattr(model, "predict_proba") else model.decision_function(x)
    )
    return np.asarray(scores), [str(c) for c in model.classes_]


BASELINE_DESCRIPTIONS = {
    "majority": "always the most frequent training emotion",
    "logistic_regression": "logistic regression on per-clip MFCC mean and std (80 numbers)",
    "egemaps_svm": "openSMILE eGeMAPS v02 functionals (88 numbers), RBF SVM, C chosen on validation actors",
}
# Their names in words, for readers.
BASELINE_NAMES = {
    "majority": "the majority class",
    "logistic_regression": "a logistic regression on MFCC statistics",
    "egemaps_svm": "eGeMAPS functionals with an SVM",
}
