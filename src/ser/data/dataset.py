"""The RAVDESS speech index: file names parsed into a table, and a tree audit.

File names are ``MM-VC-EE-II-SS-RR-AA``: modality, vocal channel, emotion,
intensity, statement, repetition, actor (odd = male, even = female).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import soundfile as sf

from ser.config import (
    AUDIO_SUFFIXES,
    CLIPS_PER_ACTOR,
    EMOTIONS,
    INTENSITIES,
    N_ACTORS,
    N_CLIPS,
    STATEMENTS,
    ravdess_dir,
)

_NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
_ACTOR_FOLDER = re.compile(r"^Actor_(\d{2})$")

INDEX_COLUMNS = [
    "path", "clip_id", "modality", "vocal_channel", "emotion_code", "emotion",
    "intensity", "statement", "repetition", "actor", "gender",
]  # fmt: skip


class DatasetError(RuntimeError):
    """The RAVDESS folder is missing or does not look like the official release."""


def parse_filename(name: str | Path) -> dict:
    """Parse one RAVDESS file name (with or without folder and suffix) into its fields.

    Raises ``ValueError`` naming the file when it does not follow the scheme.
    """
    stem = Path(name).stem
    match = _NAME.match(stem)
    if not match:
        raise ValueError(f"{Path(name).name}: not a RAVDESS name (expected MM-VC-EE-II-SS-RR-AA)")
    modality, channel, emotion, intensity, statement, repetition, actor = map(int, match.groups())
    problems = []
    if modality != 3:
        problems.append(f"modality {modality:02d} is not audio-only (03)")
    if channel != 1:
        problems.append(f"vocal channel {channel:02d} is not speech (01)")
    if emotion not in EMOTIONS:
        problems.append(f"emotion {emotion:02d} is not 01-08")
    if intensity not in INTENSITIES:
        problems.append(f"intensity {intensity:02d} is not 01-02")
    elif emotion == 1 and intensity == 2:
        problems.append("neutral has no strong intensity")
    if statement not in STATEMENTS:
        problems.append(f"statement {statement:02d} is not 01-02")
    if repetition not in (1, 2):
        problems.append(f"repetition {repetition:02d} is not 01-02")
    if not 1 <= actor <= N_ACTORS:
        problems.append(f"actor {actor:02d} is not 01-{N_ACTORS}")
    if problems:
        raise ValueError(f"{Path(name).name}: " + "; ".join(problems))
    return {
        "clip_id": stem,
        "modality": modality,
        "vocal_channel": channel,
        "emotion_code": emotion,
        "emotion": EMOTIONS[emotion],
        "intensity": INTENSITIES[intensity],
        "statement": statement,
        "repetition": repetition,
        "actor": actor,
        "gender": "male" if actor % 2 else "female",
    }


@dataclass
class TreeAudit:
    """What a RAVDESS tree holds, and what is wrong with it (by file name)."""

    root: Path
    clips: list[Path] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    misplaced: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    actor_counts: dict[int, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """One readable line per kind of problem; empty when the tree is complete."""
        lines = []
        for label, names in [
            ("malformed RAVDESS names", self.malformed),
            ("files that are not RAVDESS audio", self.foreign),
            ("duplicate clips", self.duplicates),
            ("clips in the wrong Actor_NN folder", self.misplaced),
            ("missing clips", self.missing),
        ]:
            if names:
                shown = ", ".join(names[:20]) + (
                    f", ... ({len(names)} in all)" if len(names) > 20 else ""
                )
                lines.append(f"{len(names)} {label}: {shown}")
        short = {a: n for a, n in sorted(self.actor_counts.items()) if n != CLIPS_PER_ACTOR}
        if short:
            lines.append(
                f"actors without {CLIPS_PER_ACTOR} clips: "
                + ", ".join(f"Actor_{a:02d} has {n}" for a, n in short.items())
            )
        if len(self.clips) != N_CLIPS:
            lines.append(f"{len(self.clips)} clips found, {N_CLIPS} expected")
        return lines

    @property
    def ok(self) -> bool:
        return not self.problems


def expected_clip_ids() -> set[str]:
    """Every clip id of the official speech release (1440)."""
    ids = set()
    for actor in range(1, N_ACTORS + 1):
        for emotion in EMOTIONS:
            for intensity in (1,) if emotion == 1 else (1, 2):
                for statement in STATEMENTS:
                    for repetition in (1, 2):
                        ids.add(
                            f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{repetition:02d}-{actor:02d}"
                        )
    return ids


def audit_tree(root: str | Path | None = None) -> TreeAudit:
    """Walk a RAVDESS tree and sort every file into clips or named problems."""
    root = Path(root) if root is not None else ravdess_dir()
    if not root.is_dir():
        raise DatasetError(
            f"RAVDESS folder not found: {root}. Set RAVDESS_DIR to the "
            "Audio_Speech_Actors_01-24 folder, or run `make data` to download it."
        )
    audit = TreeAudit(root=root)
    seen: dict[str, Path] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if path.name.startswith(".") or path.suffix.lower() not in AUDIO_SUFFIXES:
            audit.foreign.append(relative)
            continue
        try:
            fields = parse_filename(path)
        except ValueError:
            audit.malformed.append(relative)
            continue
        folder = _ACTOR_FOLDER.match(path.parent.name)
        if folder is None or int(folder.group(1)) != fields["actor"]:
            audit.misplaced.append(relative)
        if fields["clip_id"] in seen:
            audit.duplicates.append(
                f"{relative} (also {seen[fields['clip_id']].relative_to(root).as_posix()})"
            )
            continue
        seen[fields["clip_id"]] = path
        audit.clips.append(path)
    audit.actor_counts = dict(Counter(parse_filename(p)["actor"] for p in audit.clips))
    audit.missing = sorted(expected_clip_ids() - set(seen))
    return audit


def build_index(root: str | Path | None = None, *, strict: bool = True) -> pd.DataFrame:
    """Index every clip of a RAVDESS tree as a table (one row per clip, sorted by id).

    With ``strict`` (the default) an incomplete or polluted tree raises
    :class:`DatasetError` listing every offending file; otherwise the clips that
    parse are indexed and the problems are left to the caller (``audit_tree``).
    """
    audit = audit_tree(root)
    if strict and not audit.ok:
        raise DatasetError(
            f"RAVDESS tree at {audit.root} is not the complete release:\n- "
            + "\n- ".join(audit.problems)
        )
    if not audit.clips:
        raise DatasetError(f"no RAVDESS clips found under {audit.root}")
    rows = [{"path": str(p), **parse_filename(p)} for p in audit.clips]
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    return index.sort_values(["actor", "clip_id"], ignore_index=True)


def add_audio_info(index: pd.DataFrame) -> pd.DataFrame:
    """Add each file's sample rate, channels, frames, duration (s) and sample format."""
    infos = [sf.info(path) for path in index["path"]]
    return index.assign(
        sample_rate=[i.samplerate for i in infos],
        channels=[i.channels for i in infos],
        frames=[i.frames for i in infos],
        duration_s=[i.frames / i.samplerate for i in infos],
        subtype=[i.subtype for i in infos],
    )


def one_clip_per_emotion(index: pd.DataFrame, actor: int | None = None) -> pd.DataFrame:
    """One clip per emotion (normal intensity, statement 1, repetition 1), in class order.

    With ``actor`` the clips come from that actor, so differences are emotion,
    not voice.
    """
    rows = index[
        (index["intensity"] == "normal") & (index["statement"] == 1) & (index["repetition"] == 1)
    ]
    if actor is not None:
        rows = rows[rows["actor"] == actor]
    picked = rows.groupby("emotion_code", sort=True).head(1)
    return picked.sort_values("emotion_code", ignore_index=True)


def summarise_inventory(index: pd.DataFrame) -> pd.DataFrame:
    """A one-column table: clips, actors, emotions, total and median duration."""
    summary = {
        "clips": len(index),
        "actors": index["actor"].nunique(),
        "male / female actors": f"{index.loc[index.gender == 'male', 'actor'].nunique()} / "
        f"{index.loc[index.gender == 'female', 'actor'].nunique()}",
        "emotions": index["emotion"].nunique(),
        "statements": index["statement"].nunique(),
    }
    if "duration_s" in index:
        summary["total duration (min)"] = round(index["duration_s"].sum() / 60, 1)
        summary["median duration (s)"] = round(index["duration_s"].median(), 2)
        summary["duration range (s)"] = (
            f"{index['duration_s'].min():.2f} - {index['duration_s'].max():.2f}"
        )
    return pd.DataFrame({"value": summary})


def format_audit(index: pd.DataFrame) -> pd.DataFrame:
    """Clips per (sample rate, channels, sample format) combination."""
    return (
        index.groupby(["sample_rate", "channels", "subtype"]).size().rename("clips").reset_index()
    )
