"""Beyond RAVDESS: the models judged on TESS, two other speakers, other sentences, another studio.

``TESS_DIR`` points at a TESS folder with ``manifest.csv`` (see
``../shared/tess/README.md``). TESS is never training data: the shipped model,
the BiLSTM of the shipped fold and the baselines trained on that fold's RAVDESS
actors are scored on it. TESS has seven of RAVDESS's eight emotions (no calm),
so each model's answer is the most probable of those seven, and UA is the mean
recall over them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES
from ser.data.tess import TESS_EMOTIONS, quick_subset, seven_way, tess_index
from ser.scoring import per_class_recall, unweighted_accuracy


@dataclass
class TessResult:
    """Each model's answers on TESS and their scores."""

    predictions: dict[str, list[str]]
    truth: list[str]
    speakers: list[str]
    ua: dict[str, float] = field(default_factory=dict)
    recall: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self):
        for name, predicted in self.predictions.items():
            self.ua[name] = unweighted_accuracy(self.truth, predicted)
            self.recall[name] = per_class_recall(self.truth, predicted, TESS_EMOTIONS)

    def table(self) -> pd.DataFrame:
        """UA, each speaker's UA and per-class recall, one row per model."""
        rows = {}
        truth, speakers = np.asarray(self.truth), np.asarray(self.speakers)
        for name, predicted in self.predictions.items():
            predicted = np.asarray(predicted)
            row = {"UA (7 emotions)": self.ua[name]}
            for speaker in sorted(set(self.speakers)):
                mine = speakers == speaker
                row[f"UA {speaker}"] = unweighted_accuracy(truth[mine], predicted[mine])
            row.update({f"recall {e}": r for e, r in self.recall[name].items()})
            rows[name] = row
        return pd.DataFrame(rows).T

    def confusions(self, names: list[str]) -> dict[str, pd.DataFrame]:
        """Row-normalised confusion matrices over the seven emotions, titled by model."""
        from ser.evaluation.tables import confusion

        return {f"{name}, TESS": confusion(self.truth, self.predictions[name], TESS_EMOTIONS)
                for name in names}  # fmt: skip

    def record(self) -> dict:
        """What metrics.json keeps: UA and per-class recall per model."""
        return {"clips": len(self.truth), "emotions": TESS_EMOTIONS, "ua": self.ua,
                "recall": self.recall}  # fmt: skip


def tess_evaluation(
    ravdess_index: pd.DataFrame, ravdess_features: dict, plan, runs_dir: Path, models_dir: Path,
    root: Path, label: str, extra: dict[str, list[str]] | None = None,
) -> TessResult:  # fmt: skip
    """The model of ``models_dir`` (named ``label``), the BiLSTM of the shipped fold (seed
    ``plan.seed``) and the baselines fitted on that fold's RAVDESS actors, each scored on every
    TESS clip; ``extra`` adds other models' answers (in :func:`tess_index` order)."""
    from ser.data.splits import protocol_splits
    from ser.evaluation.baselines import baseline_inputs, class_scores, fit_baselines
    from ser.features.extraction import load_features
    from ser.inference.predict import Predictor
    from ser.training.fitting import Standardizer, predict_proba
    from ser.training.plan import BILSTM, SPECS
    from ser.training.runs import load_run
    from ser.training.training_cache import TrainingCache

    index = tess_index(root)
    if plan.quick:
        index = quick_subset(index)
    features = load_features(index, kinds=("mfcc", "logmel", "egemaps"), progress=False)
    predictions = dict(extra or {})
    shipped = Predictor(models_dir)
    # TESS clips last 1.3-2.8 s: one analysis window each, padded as in training.
    probabilities = shipped.window_probabilities(features[shipped.params.kind].features)
    predictions[f"{label}: {shipped.metadata['model']}"] = seven_way(probabilities, shipped.labels)
    split = next(
        s for s in protocol_splits(ravdess_index, "speaker_independent", plan.seed, folds=plan.folds)
        if s.fold == plan.shipped_fold
    )  # fmt: skip
    run = load_run(runs_dir, BILSTM.name, "speaker_independent", plan.seed)
    training = (run.trainings or {}).get(plan.shipped_fold)
    try:
        model = TrainingCache().entry(training["key"]).load_model() if training else None
    except FileNotFoundError:  # the training cache was emptied since notebook 03 ran
        model = None
    if model is not None:
        kind = SPECS[BILSTM.name].features
        x = features[kind].features
        if SPECS[BILSTM.name].normalisation == "scaler":  # as in training: fitted on its clips
            x = Standardizer.fit(ravdess_features[kind].features[split.train]).transform(x)
        predictions[f"reference: {BILSTM.name} (fold {plan.shipped_fold}, seed {plan.seed})"] = (
            seven_way(predict_proba(model, x), list(EMOTION_NAMES))
        )
    egemaps = ravdess_features["egemaps"].features if "egemaps" in ravdess_features else None
    models, _ = fit_baselines(
        ravdess_index, ravdess_features["mfcc"].features, egemaps, split, plan.seed
    )
    inputs = baseline_inputs(features["mfcc"].features, features["egemaps"].features)
    for name, (model, input_kind) in models.items():
        scores, labels = class_scores(model, inputs[input_kind])
        predictions[f"baseline: {name} (fold {plan.shipped_fold})"] = seven_way(scores, labels)
    return TessResult(predictions, index["emotion"].tolist(), index["speaker"].tolist())
