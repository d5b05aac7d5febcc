"""Your own recordings: a head trained on a corpus's encoder states, checked, and written.

The corpus is read by :mod:`ser.data.own_corpus`. :func:`train_own_model` extracts the
pooled Whisper encoder states (cached, :mod:`ser.features.encoder_states`), scores a head by
cross-validation grouped by speaker (by clip when no speakers are given, which is
optimistic for new speakers), calibrates it on the out-of-fold answers, fits it on all
the clips and writes a model folder in the shipped model's format: ONNX,
``labels.json`` with the corpus's labels, and a model card.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ser.data.own_corpus import Corpus, CorpusError, ravdess_corpus, read_corpus


@dataclass
class CrossValidation:
    """Out-of-fold answers of a head on a corpus, and how they were grouped."""

    grouped_by: str  # "speaker" or "clip"
    folds: int
    labels: list[str]
    truth: np.ndarray
    probabilities: np.ndarray
    fold_of_clip: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        return np.array(self.labels)[self.probabilities.argmax(1)]

    @property
    def ua(self) -> float:
        from ser.scoring import unweighted_accuracy

        return unweighted_accuracy(self.truth, self.predicted)

    def recall(self) -> dict[str, float]:
        from ser.scoring import per_class_recall

        return per_class_recall(self.truth, self.predicted, self.labels)

    def confusion(self) -> pd.DataFrame:
        from sklearn.metrics import confusion_matrix

        matrix = confusion_matrix(self.truth, self.predicted, labels=self.labels)
        return pd.DataFrame(matrix, index=pd.Index(self.labels, name="true"),
                            columns=pd.Index(self.labels, name="predicted"))  # fmt: skip

    def report(self) -> str:
        lines = [
            f"cross-validated UA {self.ua:.3f} ({self.folds} folds grouped by {self.grouped_by})"
        ]
        if self.grouped_by == "clip":
            lines.append(
                "note: no speakers given, so clips of one speaker can be in training and test: "
                "this score is optimistic for speakers the model has never heard"
            )
        lines.append(
            "recall per label: " + ", ".join(f"{k} {v:.2f}" for k, v in self.recall().items())
        )
        lines.append("confusion matrix (rows: true, columns: predicted):")
        lines.append(self.confusion().to_string())
        return "\n".join(lines)


@dataclass
class Base:
    """Clips of another corpus trained on beside the user's, for the labels the two share."""

    name: str
    states: np.ndarray
    labels: np.ndarray

    def shared(self, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
        keep = np.isin(self.labels, labels)
        return self.states[keep], self.labels[keep]


def load_base(name: str, *, progress: bool = True) -> Base:
    """The base corpus for ``--base``: ``ravdess`` (all 1,440 clips, from ``RAVDESS_DIR``)."""
    from ser.data.dataset import DatasetError
    from ser.features.encoder_states import load_encoder_states

    if name != "ravdess":
        raise CorpusError(f"unknown base {name!r}: the base corpus is 'ravdess'")
    try:
        corpus = ravdess_corpus()
    except DatasetError as error:
        raise CorpusError(f"--base ravdess needs RAVDESS: {error}") from None
    states = load_encoder_states(corpus.clips, progress=progress).states
    return Base(name, states, corpus.clips["label"].to_numpy())


def fit_with_base(head: str, states, labels, classes, base: Base | None, *, seed: int):
    """Fit ``head`` on the user's clips and, with a base, on the base's clips of the same
    labels too; the user's clips then weigh as much in total as the base's (each at least 1)."""
    from ser.models.heads import fit_head

    if base is None:
        return fit_head(head, states, labels, classes=classes, seed=seed)
    base_states, base_labels = base.shared(classes)
    weight = max(1.0, len(base_labels) / max(1, len(labels)))
    return fit_head(
        head, np.concatenate([states, base_states]), np.concatenate([labels, base_labels]),
        classes=classes, seed=seed,
        sample_weight=np.r_[np.full(len(labels), weight), np.ones(len(base_labels))],
    )  # fmt: skip


def cross_validate(
    states: np.ndarray, corpus: Corpus, *, head: str = "linear_all", folds: int = 5, seed: int = 42,
    base: Base | None = None,
) -> CrossValidation:  # fmt: skip
    """Out-of-fold probabilities of ``head``: folds grouped by speaker when speakers are
    given (scikit-learn's StratifiedGroupKFold), else stratified by clip. A ``base`` corpus
    joins every training fold (never a test fold)."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    labels, truth = corpus.labels, corpus.clips["label"].to_numpy()
    counts = corpus.clips["label"].value_counts()
    if corpus.has_speakers:
        speakers = corpus.clips["speaker"].to_numpy()
        n_speakers = len(set(speakers))
        if n_speakers < 2:
            raise CorpusError(
                f"{corpus.source}: one speaker only ({speakers[0]}): a check grouped by speaker "
                "needs two or more; leave out --speaker-column to score by clip (optimistic for "
                "new speakers)"
            )
        folds = min(folds, n_speakers)
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
        splits = splitter.split(states, truth, groups=speakers)
        grouped_by = "speaker"
    else:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
        splits = splitter.split(states, truth)
        grouped_by = "clip"
    too_few = counts[counts < folds]
    if len(too_few):
        raise CorpusError(
            f"{corpus.source}: {folds} folds need at least {folds} clips of every label; "
            + ", ".join(f"{label!r} has {n}" for label, n in too_few.items())
            + " (add clips, merge or drop those labels, or lower --folds)"
        )
    probabilities = np.zeros((len(truth), len(labels)))
    fold_of_clip = np.zeros(len(truth), int)
    for fold, (train, test) in enumerate(splits):
        fitted = fit_with_base(head, states[train], truth[train], labels, base, seed=seed + fold)
        probabilities[test] = fitted.predict_proba(states[test])
        fold_of_clip[test] = fold
    return CrossValidation(grouped_by, folds, labels, truth, probabilities, fold_of_clip)


@dataclass
class OwnModel:
    """What :func:`train_own_model` wrote and measured."""

    folder: Path
    cross_validation: CrossValidation
    seconds: dict[str, float]
    head: object = None  # the head fitted on every clip (a ser.models.heads.FittedHead)
    states: np.ndarray | None = None  # the corpus's pooled states it was fitted on


def train_own_model(
    corpus: Corpus,
    out: str | Path,
    *,
    head: str = "linear_all",
    folds: int = 5,
    seed: int = 42,
    force: bool = False,
    progress: bool = True,
    cache_dir: Path | None = None,
    scheduler: str | None = None,
    base: str | None = None,
    log=print,
) -> OwnModel:
    """Extract states, cross-validate, calibrate, fit on everything, write the model folder.

    ``scheduler``: extract the states on that Dask cluster; the head trains here.
    ``base``: also train on that corpus's clips of the labels it shares (``ravdess``).
    """
    from ser.models.artifacts import LABELS_FILE, ONNX_FILE

    out = Path(out)
    if ((out / ONNX_FILE).exists() or (out / LABELS_FILE).exists()) and not force:
        raise CorpusError(f"{out} already holds a model; choose another --out or pass --force")
    for path, reason in corpus.skipped:
        log(f"skipped {path}: {reason}")
    seconds = {}
    start = time.perf_counter()
    from ser.config import FEATURES_DIR
    from ser.features.encoder_states import load_encoder_states

    states = load_encoder_states(
        corpus.clips, cache_dir=cache_dir or FEATURES_DIR, progress=progress
    )
    seconds["encoder states"] = time.perf_counter() - start
    log(f"encoder states of {len(corpus.clips)} clips: "
        f"{'from the cache' if states.from_cache else 'extracted'} in {seconds['encoder states']:.1f} s")  # fmt: skip
    base_corpus = load_base(base, progress=progress) if base else None
    if base_corpus is not None:
        shared = sorted(set(base_corpus.labels) & set(corpus.labels))
        log(f"base {base}: its clips of {', '.join(shared) or 'no shared label'} join the training")
    start = time.perf_counter()
    cv = cross_validate(states.states, corpus, head=head, folds=folds, seed=seed, base=base_corpus)
    seconds["cross-validation"] = time.perf_counter() - start
    log(cv.report())
    start = time.perf_counter()
    fitted = _write_model(states.states, corpus, cv, out, head=head, seed=seed, base=base_corpus)
    seconds["fit and export"] = time.perf_counter() - start
    log(f"wrote {out}")
    return OwnModel(out, cv, seconds, fitted, states.states)


def _write_model(states, corpus: Corpus, cv: CrossValidation, out: Path, *, head, seed, base=None):
    """Calibrate on the out-of-fold answers, fit on every clip, write the folder; the fitted head."""
    from ser.inference.encoder_model import encoder_metadata, export_encoder_model, head_as_keras
    from ser.models.artifacts import LABELS_FILE, ONNX_FILE
    from ser.models.calibration import calibrate, expected_calibration_error
    from ser.models.whisper_encoder import load_encoder_weights

    targets = np.array([cv.labels.index(t) for t in cv.truth])
    calibration = calibrate(cv.probabilities, targets,
                            f"out-of-fold clips of {cv.folds}-fold cross-validation by {cv.grouped_by}")  # fmt: skip
    fitted = fit_with_base(head, states, cv.truth, cv.labels, base, seed=seed)
    weights = load_encoder_weights()
    out.mkdir(parents=True, exist_ok=True)
    for stale in (ONNX_FILE, LABELS_FILE):  # --force: never leave a mix of two models
        (out / stale).unlink(missing_ok=True)
    export_encoder_model(head_as_keras(fitted, weights.n_states, weights.width), out, weights)
    metadata = {
        "index_to_emotion": dict(enumerate(cv.labels)),
        "model": f"whisper_{head}",
        "description": f"Whisper {weights.folder.name} encoder (every layer, mean and std over time) "
        f"with the head {head!r}, trained on {corpus.source}"
        + (f" and the {base.name} clips of the labels it shares" if base is not None else ""),
        **encoder_metadata(weights),
        "calibration": calibration.as_dict(),
        "cross_validation": {
            "grouped_by": cv.grouped_by,
            "folds": cv.folds,
            "ua": cv.ua,
            "recall": cv.recall(),
            "ece_before": expected_calibration_error(cv.probabilities, targets),
            "ece_after": expected_calibration_error(calibration.apply(cv.probabilities), targets),
        },  # fmt: skip
        "data": corpus.summary(),
        "seed": seed,
    }
    (out / LABELS_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    (out / "model_card.md").write_text(_model_card(metadata, cv))
    return fitted


def _model_card(metadata: dict, cv: CrossValidation) -> str:
    data = metadata["data"]
    lines = [
        f"# Model card: {metadata['model']}",
        "",
        metadata["description"] + ".",
        "",
        "## Data",
        f"- {data['clips']} clips from {data['source']}"
        + (f", {data['speakers']} speakers" if data["speakers"] else ", no speakers given")
        + (
            f"; {data['skipped']} listed clips were skipped (missing or unreadable)"
            if data["skipped"]
            else ""
        ),
        "- clips per label: " + ", ".join(f"{k} {v}" for k, v in data["labels"].items()),
        "",
        "## Cross-validated (before the final fit on every clip)",
        f"- UA {cv.ua:.3f} over {cv.folds} folds grouped by {cv.grouped_by}"
        + (
            " (optimistic for new speakers: no speakers were given)"
            if cv.grouped_by == "clip"
            else ""
        ),
        "- recall per label: " + ", ".join(f"{k} {v:.2f}" for k, v in cv.recall().items()),
        f"- calibration (temperature {metadata['calibration']['temperature']:.2f}): ECE "
        f"{metadata['cross_validation']['ece_before']:.3f} before, "
        f"{metadata['cross_validation']['ece_after']:.3f} after",
        "",
        "## Encoder",
        f"- {metadata['encoder']['origin']}; {metadata['encoder']['layers']} layers of width "
        f"{metadata['encoder']['width']}, weights SHA-256 {metadata['encoder']['weights_sha256'][:16]}…",
        "",
    ]
    return "\n".join(lines)


def main_train(args) -> int:
    """``python -m ser train``: see :func:`train_own_model`."""
    try:
        corpus = read_corpus(args.source, label_column=args.label_column,
                             speaker_column=args.speaker_column, path_column=args.path_column)  # fmt: skip
        train_own_model(corpus, args.out, head=args.head, folds=args.folds, seed=args.seed,
                        force=args.force, progress=not args.quiet,
                        scheduler=args.scheduler, base=args.base)  # fmt: skip
    except CorpusError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
