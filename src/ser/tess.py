"""Beyond RAVDESS: the models judged on TESS, two other speakers, other sentences, another studio.

``TESS_DIR`` points at a TESS folder with ``manifest.csv`` (see
``../shared/tess/README.md``). TESS is never training data: the shipped model,
the BiLSTM of the shipped fold and the baselines trained on that fold's RAVDESS
actors are scored on it. TESS has seven of RAVDESS's eight emotions (no calm),
so each model's answer is the most probable of those seven, and UA is the mean
recall over them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES
from ser.scoring import per_class_recall, unweighted_accuracy

TESS_EMOTIONS = [e for e in EMOTION_NAMES if e != "calm"]


def tess_root() -> Path | None:
    """The TESS folder named by ``TESS_DIR``, or None when it is not set."""
    value = os.environ.get("TESS_DIR", "").strip()
    return Path(value) if value else None


def tess_index(root: Path) -> pd.DataFrame:
    """One row per TESS clip (path, clip_id, speaker, word, emotion in RAVDESS's names)."""
    manifest = Path(root) / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"TESS_DIR={root}: no manifest.csv there (see the TESS README)")
    index = pd.read_csv(manifest)
    index["path"] = [str(Path(root) / p) for p in index["path"]]
    index["clip_id"] = [Path(p).stem for p in index["path"]]
    missing = [p for p in index["path"] if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(
            f"TESS_DIR={root}: {len(missing)} clips of manifest.csv are missing, e.g. {missing[0]}"
        )
    return index[["path", "clip_id", "speaker", "word", "emotion"]]


def seven_way(probabilities: np.ndarray, labels: list[str]) -> list[str]:
    """The most probable of TESS's seven emotions for each row of ``probabilities``."""
    columns = [labels.index(e) for e in TESS_EMOTIONS]
    return [TESS_EMOTIONS[i] for i in np.asarray(probabilities)[:, columns].argmax(axis=1)]


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
        from ser.evaluation import confusion

        return {f"{name}, TESS": confusion(self.truth, self.predictions[name], TESS_EMOTIONS)
                for name in names}  # fmt: skip

    def record(self) -> dict:
        """What metrics.json keeps: UA and per-class recall per model."""
        return {"clips": len(self.truth), "emotions": TESS_EMOTIONS, "ua": self.ua,
                "recall": self.recall}  # fmt: skip


QUICK_CLIPS_PER_GROUP = 10  # per speaker and emotion, in a quick run


def quick_subset(index: pd.DataFrame) -> pd.DataFrame:
    """A smoke run's TESS: the first few clips of each speaker and emotion."""
    return index.groupby(["speaker", "emotion"]).head(QUICK_CLIPS_PER_GROUP).reset_index(drop=True)


def tess_clips(quick: bool = False) -> pd.DataFrame | None:
    """TESS's index from ``TESS_DIR`` (a smoke run's subset when ``quick``); None when unset."""
    root = tess_root()
    if root is None:
        return None
    return quick_subset(tess_index(root)) if quick else tess_index(root)


def tess_evaluation(
    ravdess_index: pd.DataFrame, ravdess_features: dict, plan, runs_dir: Path, models_dir: Path,
    root: Path, label: str, extra: dict[str, list[str]] | None = None,
) -> TessResult:  # fmt: skip
    """The model of ``models_dir`` (named ``label``), the BiLSTM of the shipped fold (seed
    ``plan.seed``) and the baselines fitted on that fold's RAVDESS actors, each scored on every
    TESS clip; ``extra`` adds other models' answers (in :func:`tess_index` order)."""
    from ser.baselines import baseline_inputs, class_scores, fit_baselines
    from ser.features import load_features
    from ser.plan import BILSTM, SPECS
    from ser.predict import Predictor
    from ser.runs import load_run
    from ser.splits import protocol_splits
    from ser.training import Standardizer, predict_proba
    from ser.training_cache import TrainingCache

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
