"""Beyond RAVDESS: the models judged on TESS, two other speakers, other sentences, another studio.

``TESS_DIR`` points at a TESS folder with ``manifest.csv`` (see
``../shared/tess/README.md``). TESS is never training data: the shipped model,
the BiLSTM of the shipped fold and the baselines trained on that fold's RAVDESS
actors are scored on it. TESS has seven of RAVDESS's eight emotions (no calm),
so each model's answer is the most probable of those seven, and UA is the mean
recall over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES
from ser.data.tess import TESS_EMOTIONS, quick_subset, seven_way, tess_index
from ser.evaluation.schema import CorpusModelResult, CorpusResult
from ser.scoring import per_class_recall, unweighted_accuracy


@dataclass
class TessAnswers:
    """One model's answers on every TESS clip, and who the model is."""

    label: str  # its name in words
    role: str  # ser.evaluation.schema.ROLES
    answers: list[str]


@dataclass
class TessResult:
    """Each model's answers on TESS (by model name) and their scores."""

    models: dict[str, TessAnswers]
    truth: list[str]
    speakers: list[str]

    def ua(self, name: str) -> float:
        return unweighted_accuracy(self.truth, self.models[name].answers)

    def recall(self, name: str) -> dict[str, float]:
        return per_class_recall(self.truth, self.models[name].answers, TESS_EMOTIONS)

    def table(self) -> pd.DataFrame:
        """UA, each speaker's UA and per-class recall, one row per model (by its label)."""
        rows = {}
        truth, speakers = np.asarray(self.truth), np.asarray(self.speakers)
        for name, model in self.models.items():
            predicted = np.asarray(model.answers)
            row = {"UA (7 emotions)": self.ua(name)}
            for speaker in sorted(set(self.speakers)):
                mine = speakers == speaker
                row[f"UA {speaker}"] = unweighted_accuracy(truth[mine], predicted[mine])
            row.update({f"recall {e}": r for e, r in self.recall(name).items()})
            rows[model.label] = row
        return pd.DataFrame(rows).T

    def confusions(self, names: list[str]) -> dict[str, pd.DataFrame]:
        """Row-normalised confusion matrices over the seven emotions, titled by model."""
        from ser.evaluation.tables import confusion

        return {
            f"{self.models[name].label}, TESS": confusion(
                self.truth, self.models[name].answers, TESS_EMOTIONS
            )
            for name in names
        }

    def result(self) -> CorpusResult:
        """What metrics.json keeps: UA and per-class recall per model."""
        return CorpusResult("TESS", len(self.truth), list(TESS_EMOTIONS), [
            CorpusModelResult(name, model.label, model.role, self.ua(name), self.recall(name))
            for name, model in self.models.items()
        ])  # fmt: skip


def tess_evaluation(
    ravdess_index: pd.DataFrame, ravdess_features: dict, plan, runs_dir: Path, cnn_dir: Path,
    root: Path, extra: dict[str, TessAnswers] | None = None,
) -> TessResult:  # fmt: skip
    """The CNN's model of ``cnn_dir``, the BiLSTM of the shipped fold (seed ``plan.seed``) and
    the baselines fitted on that fold's RAVDESS actors, each scored on every TESS clip;
    ``extra`` adds other models' answers (in :func:`ser.data.tess.tess_index` order)."""
    from ser.data.splits import protocol_splits
    from ser.evaluation.baselines import (
        BASELINE_NAMES,
        baseline_inputs,
        class_scores,
        fit_baselines,
    )
    from ser.features.cache import load_features
    from ser.inference.predict import Predictor
    from ser.training.plan import MODEL_NAMES

    index = tess_index(root)
    if plan.quick:
        index = quick_subset(index)
    features = load_features(index, kinds=("mfcc", "logmel", "egemaps"), progress=False)
    models = dict(extra or {})
    cnn = Predictor(cnn_dir)
    # TESS clips last 1.3-2.8 s: one analysis window each, padded as in training.
    probabilities = cnn.window_probabilities(features[cnn.params.kind].features)
    name = cnn.metadata["model"]
    models[name] = TessAnswers(MODEL_NAMES.get(name, name), "cnn",
                               seven_way(probabilities, cnn.labels))  # fmt: skip
    split = next(
        s for s in protocol_splits(ravdess_index, "speaker_independent", plan.seed, folds=plan.folds)
        if s.fold == plan.shipped_fold
    )  # fmt: skip
    bilstm = _bilstm_answers(features, plan, runs_dir)
    if bilstm is not None:
        models[bilstm[0]] = bilstm[1]
    egemaps = ravdess_features["egemaps"].features if "egemaps" in ravdess_features else None
    fitted, _ = fit_baselines(
        ravdess_index, ravdess_features["mfcc"].features, egemaps, split, plan.seed
    )
    inputs = baseline_inputs(features["mfcc"].features, features["egemaps"].features)
    for name, (model, input_kind) in fitted.items():
        scores, labels = class_scores(model, inputs[input_kind])
        models[name] = TessAnswers(f"{BASELINE_NAMES[name]} (fold {plan.shipped_fold})",
                                   "baseline", seven_way(scores, labels))  # fmt: skip
    return TessResult(models, index["emotion"].tolist(), index["speaker"].tolist())


def _bilstm_answers(features: dict, plan, runs_dir: Path) -> tuple[str, TessAnswers] | None:
    """The BiLSTM of the shipped fold from the training cache (None if the cache was emptied)."""
    from ser.training.fitting import predict_proba
    from ser.training.plan import BILSTM, MODEL_NAMES
    from ser.training.runs import load_run
    from ser.training.training_cache import TrainingCache

    run = load_run(runs_dir, BILSTM.name, "speaker_independent", plan.seed)
    training = (run.trainings or {}).get(plan.shipped_fold)
    try:
        model = TrainingCache().entry(training["key"]).load_model() if training else None
    except FileNotFoundError:  # the training cache was emptied since notebook 03 ran
        return None
    if model is None:
        return None
    answers = seven_way(predict_proba(model, features[BILSTM.features].features), EMOTION_NAMES)
    label = f"{MODEL_NAMES[BILSTM.name]} (fold {plan.shipped_fold}, seed {plan.seed})"
    return BILSTM.name, TessAnswers(label, "reference", answers)
