"""Your own recordings: a corpus as a manifest, a head trained on its encoder states, checked.

A corpus is a CSV manifest (a path column, a label column and, optionally, a speaker
column; relative paths are read from the manifest's folder) or a folder laid out as
``DIR/<label>/*.wav``. Any labels, two or more. :func:`train_own_model` extracts the
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import AUDIO_SUFFIXES

MIN_CLIPS_TO_TRAIN = 10


class CorpusError(ValueError):
    """A manifest or folder that cannot be trained on, with what is wrong and what to do."""


@dataclass
class Corpus:
    """The clips of a corpus that can be used, and those that cannot (with the reason)."""

    clips: pd.DataFrame  # path, clip_id, label, speaker (None when not given)
    source: str
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def labels(self) -> list[str]:
        return sorted(self.clips["label"].unique().tolist())

    @property
    def has_speakers(self) -> bool:
        return self.clips["speaker"].notna().all()

    def head(self, n: int) -> Corpus:
        """The first ``n`` clips of each speaker and label (a smoke run's corpus)."""
        keys = ["speaker", "label"] if self.has_speakers else ["label"]
        clips = self.clips.groupby(keys, sort=False).head(n).reset_index(drop=True)
        return Corpus(clips, self.source, self.skipped)

    def summary(self) -> dict:
        return {
            "source": self.source,
            "clips": len(self.clips),
            "skipped": len(self.skipped),
            "labels": {
                k: int(v) for k, v in self.clips["label"].value_counts().sort_index().items()
            },
            "speakers": int(self.clips["speaker"].nunique()) if self.has_speakers else None,
        }


def _clean_label(value) -> str:
    return " ".join(str(value).split()).lower()


def read_corpus(
    source: str | Path,
    *,
    label_column: str = "label",
    speaker_column: str | None = None,
    path_column: str = "path",
    check_audio: bool = True,
) -> Corpus:
    """Read a manifest CSV or a ``DIR/<label>/*`` folder; see the module's docstring.

    Labels are stripped and lower-cased (``" Happy"`` and ``"happy"`` are one class).
    Missing or unreadable files are skipped and listed; duplicate paths, missing
    columns, empty labels and fewer than two classes raise :class:`CorpusError`.
    """
    source = Path(source)
    if source.is_dir():
        rows = [
            {"path": str(p), "label": p.parent.name, "speaker": None}
            for p in sorted(source.glob("*/*"))
            if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
        ]  # fmt: skip
        if not rows:
            raise CorpusError(
                f"{source}: no audio files in DIR/<label>/ subfolders "
                f"(suffixes {', '.join(AUDIO_SUFFIXES)}); or pass a manifest CSV"
            )
        table = pd.DataFrame(rows)
    elif source.is_file():
        table = _read_manifest(source, label_column, speaker_column, path_column)
    else:
        raise CorpusError(f"{source}: no such manifest file or folder")
    return _corpus_of(table, str(source), lambda p: _clip_id(p, source), check_audio)


def _corpus_of(table: pd.DataFrame, source: str, clip_id, check_audio: bool) -> Corpus:
    """The checks every corpus goes through, from a ``path, label, speaker`` table."""
    table = table.assign(label=[_clean_label(v) for v in table["label"]])
    given = ("label", "speaker") if table["speaker"].notna().any() else ("label",)
    for column in given:
        empty = table[column].fillna("").astype(str).str.strip() == ""
        if empty.any():
            raise CorpusError(
                f"{source}: {int(empty.sum())} rows have no {column}, "
                f"e.g. {table.loc[empty, 'path'].iloc[0]}"
            )
    duplicated = table["path"].map(lambda p: str(Path(p).resolve())).duplicated(keep=False)
    if duplicated.any():
        names = sorted(set(table.loc[duplicated, "path"]))
        raise CorpusError(
            f"{source}: {len(names)} paths appear more than once: {', '.join(names[:5])}"
        )
    skipped = []
    usable = []
    for path in table["path"]:
        reason = _unusable(Path(path), check_audio)
        if reason:
            skipped.append((path, reason))
        usable.append(reason is None)
    clips = table[np.array(usable, bool)].reset_index(drop=True)
    clips.insert(1, "clip_id", [clip_id(p) for p in clips["path"]])
    corpus = Corpus(clips, source, skipped)
    if len(clips) < MIN_CLIPS_TO_TRAIN:
        listed = "; ".join(f"{p}: {r}" for p, r in skipped[:10])
        raise CorpusError(
            f"{source}: only {len(clips)} usable clips (at least {MIN_CLIPS_TO_TRAIN} needed)"
            + (f"; unusable: {listed}" if listed else "")
        )
    if len(corpus.labels) < 2:
        raise CorpusError(
            f"{source}: one label only ({corpus.labels[0]!r}); two or more are needed"
        )
    return corpus


def _read_manifest(path: Path, label_column, speaker_column, path_column) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise CorpusError(f"{path}: not a readable CSV manifest ({error})") from None
    wanted = [c for c in (path_column, label_column, speaker_column) if c]
    missing = [c for c in wanted if c not in table.columns]
    if missing:
        raise CorpusError(
            f"{path}: no column {', '.join(repr(c) for c in missing)}; the manifest has "
            f"{', '.join(repr(c) for c in table.columns)} (choose with --label-column, "
            "--speaker-column)"
        )
    folder = path.parent
    return pd.DataFrame({
        "path": [str(p if Path(p).is_absolute() else folder / p) for p in table[path_column]],
        "label": table[label_column],
        "speaker": table[speaker_column].str.strip() if speaker_column else None,
    })  # fmt: skip


def _unusable(path: Path, check_audio: bool) -> str | None:
    if not path.is_file():
        return "no such file"
    if not check_audio:
        return None
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as error:
        return f"not readable audio ({error})"
    return None if info.frames > 0 else "no audio frames"


def _clip_id(path: str, root: Path) -> str:
    """A clip's id: its path below the corpus's folder, without the suffix."""
    base = root if root.is_dir() else root.parent
    try:
        relative = Path(path).resolve().relative_to(base.resolve())
    except ValueError:
        relative = Path(path)
    return str(relative.with_suffix(""))


def ravdess_corpus(root=None) -> Corpus:
    """RAVDESS through the same layer: a manifest generated from its file names."""
    from ser.data.dataset import build_index

    index = build_index(root)
    table = pd.DataFrame({"path": index["path"], "label": index["emotion"],
                          "speaker": index["actor"].map(lambda a: f"actor_{a:02d}")})  # fmt: skip
    return _corpus_of(table, "RAVDESS", lambda p: Path(p).stem, check_audio=False)


def tess_corpus(root) -> Corpus:
    """TESS through the same layer: its manifest's emotion (in RAVDESS's names) and speaker."""
    from ser.data.tess import tess_index

    index = tess_index(root)
    table = pd.DataFrame(
        {"path": index["path"], "label": index["emotion"], "speaker": index["speaker"]}
    )
    return _corpus_of(table, "TESS", lambda p: Path(p).stem, check_audio=False)


# --- Cross-validation and training ----------------------------------------------------


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
