"""Your own recordings as a corpus: a CSV manifest or a folder of ``<label>/`` folders, checked.

A manifest has a path column, a label column and, optionally, a speaker column;
relative paths are read from the manifest's folder. Any labels, two or more. Clips
that cannot be read are reported with the reason, never silently dropped.
"""

from __future__ import annotations

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
