from pathlib import Path

import pytest

from ser.config import CLIPS_PER_ACTOR, N_CLIPS
from ser.data.dataset import (
    DatasetError,
    audit_tree,
    build_index,
    expected_clip_ids,
    parse_filename,
)

from .conftest import make_tree


def test_parse_filename_reads_every_field():
    fields = parse_filename("Actor_12/03-01-06-02-01-02-12.wav")
    assert fields == {
        "clip_id": "03-01-06-02-01-02-12",
        "modality": 3,
        "vocal_channel": 1,
        "emotion_code": 6,
        "emotion": "fearful",
        "intensity": "strong",
        "statement": 1,
        "repetition": 2,
        "actor": 12,
        "gender": "female",
    }
    assert parse_filename("03-01-01-01-02-01-07.flac")["gender"] == "male"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("03-01-09-01-01-01-01.wav", "emotion 09"),
        ("03-01-01-02-01-01-01.wav", "neutral has no strong"),
        ("03-02-03-01-01-01-01.wav", "vocal channel 02"),
        ("01-01-03-01-01-01-01.wav", "modality 01"),
        ("03-01-03-01-01-01-25.wav", "actor 25"),
        ("03-01-03-01-03-01-01.wav", "statement 03"),
        ("03-01-03-01-01-01.wav", "not a RAVDESS name"),
        ("notes.wav", "not a RAVDESS name"),
    ],
)
def test_parse_filename_rejects_malformed_names(name, reason):
    with pytest.raises(ValueError, match=reason) as info:
        parse_filename(name)
    assert name in str(info.value)


def test_expected_ids_match_the_release_layout():
    ids = expected_clip_ids()
    assert len(ids) == N_CLIPS
    assert sum(i.endswith("-01") for i in ids) == CLIPS_PER_ACTOR


def test_complete_synthetic_tree_indexes(synthetic_tree: Path):
    index = build_index(synthetic_tree)
    assert len(index) == N_CLIPS
    assert index["actor"].nunique() == 24
    assert (index.groupby("actor").size() == CLIPS_PER_ACTOR).all()
    assert index["emotion"].value_counts()["neutral"] == 96
    assert set(index["gender"]) == {"male", "female"}


def test_audit_names_missing_duplicate_foreign_and_misplaced(synthetic_tree: Path):
    (synthetic_tree / "Actor_03" / "03-01-05-02-01-01-03.flac").unlink()
    (synthetic_tree / "Actor_04" / "03-01-05-02-01-01-04.wav").touch()  # same clip as .flac
    (synthetic_tree / "Actor_05" / "readme.txt").touch()
    misplaced = "03-01-02-01-01-01-07.flac"
    (synthetic_tree / "Actor_07" / misplaced).rename(synthetic_tree / "Actor_06" / misplaced)
    audit = audit_tree(synthetic_tree)
    assert audit.missing == ["03-01-05-02-01-01-03"]
    assert len(audit.duplicates) == 1 and "03-01-05-02-01-01-04" in audit.duplicates[0]
    assert audit.foreign == ["Actor_05/readme.txt"]
    assert audit.misplaced == ["Actor_06/03-01-02-01-01-01-07.flac"]
    assert audit.actor_counts[3] == CLIPS_PER_ACTOR - 1
    with pytest.raises(DatasetError) as info:
        build_index(synthetic_tree)
    message = str(info.value)
    for expected in ["03-01-05-02-01-01-03", "readme.txt", "Actor_03 has 59", "duplicate"]:
        assert expected in message


def test_malformed_names_are_listed(synthetic_tree: Path):
    (synthetic_tree / "Actor_01" / "03-01-09-01-01-01-01.wav").touch()
    (synthetic_tree / "Actor_02" / "03-01-01-02-01-01-02.wav").touch()
    with pytest.raises(DatasetError) as info:
        build_index(synthetic_tree)
    assert "2 malformed RAVDESS names" in str(info.value)
    assert "Actor_01/03-01-09-01-01-01-01.wav" in str(info.value)
    assert "Actor_02/03-01-01-02-01-01-02.wav" in str(info.value)


def test_non_strict_index_keeps_what_parses(tmp_path: Path):
    root = make_tree(tmp_path / "subset", ids=[i for i in expected_clip_ids() if i.endswith("-01")])
    index = build_index(root, strict=False)
    assert len(index) == CLIPS_PER_ACTOR and set(index["actor"]) == {1}
    assert not audit_tree(root).ok


def test_missing_folder_says_what_to_do(tmp_path: Path):
    with pytest.raises(DatasetError, match="RAVDESS_DIR"):
        build_index(tmp_path / "nowhere")


def test_real_tree_is_complete(ravdess_root: Path):
    audit = audit_tree(ravdess_root)
    assert audit.ok, audit.problems
    index = build_index(ravdess_root)
    assert len(index) == N_CLIPS and index["actor"].nunique() == 24
