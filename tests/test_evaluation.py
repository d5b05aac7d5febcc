import numpy as np
import pandas as pd
import pytest

from ser.evaluation import (
    confusion,
    fold_summary,
    per_class_table,
    summarise,
    target_checks,
    top_confusions,
)

LABELS = ["a", "b", "c"]


def test_summarise_on_a_hand_computed_example():
    y_true = ["a", "a", "a", "a", "b", "b", "c", "c"]
    y_pred = ["a", "a", "a", "b", "b", "c", "c", "c"]
    result = summarise(y_true, y_pred, labels=LABELS)
    assert result["accuracy"] == pytest.approx(6 / 8)
    # recalls: a 3/4, b 1/2, c 2/2 -> UA = (0.75 + 0.5 + 1) / 3
    assert result["per_class_recall"] == pytest.approx({"a": 0.75, "b": 0.5, "c": 1.0})
    assert result["uar"] == pytest.approx(0.75)
    # precisions: a 3/3, b 1/2, c 2/3; F1 = 2PR/(P+R)
    f1 = [2 * 1 * 0.75 / 1.75, 2 * 0.5 * 0.5 / 1.0, 2 * (2 / 3) * 1 / (2 / 3 + 1)]
    assert result["macro_f1"] == pytest.approx(np.mean(f1))


def test_per_class_table_and_confusion():
    y_true = ["a", "a", "b", "c"]
    y_pred = ["a", "b", "b", "a"]
    table = per_class_table(y_true, y_pred, labels=LABELS)
    assert table.loc["a", "precision"] == pytest.approx(0.5) and table.loc[
        "a", "recall"
    ] == pytest.approx(0.5)
    assert table.loc["c", "support"] == 1 and table.loc["c", "f1"] == 0
    matrix = confusion(y_true, y_pred, labels=LABELS)
    assert matrix.loc["a"].tolist() == [0.5, 0.5, 0.0] and matrix.loc["c", "a"] == 1.0
    assert confusion(y_true, y_pred, labels=LABELS, normalise=False).to_numpy().sum() == 4
    top = top_confusions(matrix, 1)
    assert (top.loc[0, "true"], top.loc[0, "predicted"]) == ("c", "a")


def test_fold_summary_mean_and_std():
    predictions = pd.DataFrame({
        "fold": [1, 1, 2, 2],
        "emotion": ["neutral", "calm", "neutral", "calm"],
        "predicted": ["neutral", "calm", "neutral", "neutral"],
    })  # fmt: skip
    block = fold_summary(predictions)
    assert [f["accuracy"] for f in block["folds"]] == [1.0, 0.5]
    assert block["mean"]["accuracy"] == pytest.approx(0.75)
    assert block["std"]["accuracy"] == pytest.approx(0.25)  # population std of (1, 0.5)
    assert block["pooled"]["accuracy"] == pytest.approx(0.75)


def test_target_checks_pass_and_fail():
    block = {"accuracy": 0.85, "macro_f1": 0.79, "per_class_recall": {"a": 0.9, "b": 0.74}}
    table = target_checks({"random": block}).reset_index().set_index("target")["result"]
    assert table.iloc[0] == "pass" and table.iloc[1] == "fail" and table.iloc[2] == "fail"
    assert "lowest: b" in table.index[2]
