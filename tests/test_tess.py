"""TESS, the second corpus: its index, the seven-way answer and its scores."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ser.config import EMOTION_NAMES
from ser.data.tess import TESS_EMOTIONS, seven_way, tess_index
from ser.evaluation.tess_results import TessAnswers, TessResult


def test_seven_way_never_answers_calm():
    labels = list(EMOTION_NAMES)
    probabilities = np.full((2, 8), 0.01)
    probabilities[0, labels.index("calm")] = 0.9  # calm first, sad second
    probabilities[0, labels.index("sad")] = 0.05
    probabilities[1, labels.index("angry")] = 0.5
    assert seven_way(probabilities, labels) == ["sad", "angry"]
    assert "calm" not in TESS_EMOTIONS and len(TESS_EMOTIONS) == 7


def test_scores_per_model_speaker_and_class():
    truth = ["angry", "angry", "sad", "sad"]
    result = TessResult(
        {"a": TessAnswers("model A", "cnn", ["angry", "sad", "sad", "sad"]),
         "b": TessAnswers("model B", "baseline", ["angry"] * 4)},
        truth,
        ["OAF", "YAF", "OAF", "YAF"],
    )  # fmt: skip
    assert result.ua("a") == pytest.approx(0.75) and result.ua("b") == pytest.approx(0.5)
    assert result.recall("a") == {"angry": 0.5, "sad": 1.0}
    table = result.table()
    assert table.loc["model A", "UA OAF"] == 1.0 and table.loc["model A", "UA YAF"] == 0.5
    matrix = result.confusions(["a"])["model A, TESS"]
    assert list(matrix.index) == TESS_EMOTIONS and matrix.loc["angry", "sad"] == 0.5
    record = result.result()
    assert record.of("b").role == "baseline" and record.of("a").uar == pytest.approx(0.75)


def test_index_from_the_manifest_and_missing_clips(tmp_path):
    (tmp_path / "OAF_sad").mkdir()
    (tmp_path / "OAF_sad" / "OAF_bean_sad.flac").touch()
    pd.DataFrame({"path": ["OAF_sad/OAF_bean_sad.flac"], "speaker": ["OAF"], "word": ["bean"],
                  "emotion_label": ["sad"], "sample_rate": [24414], "seconds": [1.5],
                  "emotion": ["sad"]}).to_csv(tmp_path / "manifest.csv", index=False)  # fmt: skip
    index = tess_index(tmp_path)
    assert index.loc[0, "clip_id"] == "OAF_bean_sad" and Path(index.loc[0, "path"]).is_file()
    (tmp_path / "OAF_sad" / "OAF_bean_sad.flac").unlink()
    with pytest.raises(FileNotFoundError, match="1 clips of manifest.csv are missing"):
        tess_index(tmp_path)
    with pytest.raises(FileNotFoundError, match="no manifest.csv"):
        tess_index(tmp_path / "OAF_sad")


def test_the_shared_tess_folder_is_complete():
    root = os.environ.get("TESS_DIR")
    if not root:
        pytest.skip("TESS_DIR is not set")
    index = tess_index(Path(root))
    assert len(index) == 1399 and sorted(index["emotion"].unique()) == sorted(TESS_EMOTIONS)
    assert index["clip_id"].is_unique


def test_the_report_says_plainly_when_tess_is_missing():
    from ser.reporting.evaluation_text import tess_summary

    from .conftest import make_metrics

    metrics = make_metrics()
    assert "TESS was not evaluated in this run" not in tess_summary(metrics)
    metrics.corpora = []
    assert "TESS was not evaluated in this run" in tess_summary(metrics)
