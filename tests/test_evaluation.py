import numpy as np
import pandas as pd
import pytest

from ser.data.splits import Split
from ser.evaluation.baselines import svm_with_validated_c
from ser.evaluation.schema import ProtocolResult, summarise, typed
from ser.evaluation.tables import confusion, per_class_table, top_confusions
from ser.training.runs import ProtocolRun
from ser.training.selection import INGREDIENTS, choose, with_noise

LABELS = ["a", "b", "c"]


def test_summarise_on_a_hand_computed_example():
    y_true = ["a", "a", "a", "a", "b", "b", "c", "c"]
    y_pred = ["a", "a", "a", "b", "b", "c", "c", "c"]
    result = summarise(y_true, y_pred, labels=LABELS)
    assert result.accuracy == pytest.approx(6 / 8)
    # recalls: a 3/4, b 1/2, c 2/2 -> UA = (0.75 + 0.5 + 1) / 3
    assert result.per_class_recall == pytest.approx({"a": 0.75, "b": 0.5, "c": 1.0})
    assert result.uar == pytest.approx(0.75)
    # precisions: a 3/3, b 1/2, c 2/3; F1 = 2PR/(P+R)
    f1 = [2 * 1 * 0.75 / 1.75, 2 * 0.5 * 0.5 / 1.0, 2 * (2 / 3) * 1 / (2 / 3 + 1)]
    assert result.macro_f1 == pytest.approx(np.mean(f1))


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


def test_protocol_result_mean_std_and_test_actors():
    predictions = pd.DataFrame({
        "clip_id": ["w", "x", "y", "z"], "fold": [1, 1, 2, 2],
        "emotion": ["neutral", "calm", "neutral", "calm"],
        "predicted": ["neutral", "calm", "neutral", "neutral"],
    })  # fmt: skip
    result = ProtocolResult.from_predictions(
        predictions, "speaker_independent", {"w": 3, "x": 5, "y": 2, "z": 2}
    )
    assert [f.accuracy for f in result.folds] == [1.0, 0.5]
    assert [f.test_actors for f in result.folds] == [[3, 5], [2]]
    assert result.mean["accuracy"] == pytest.approx(0.75)
    assert result.std["accuracy"] == pytest.approx(0.25)  # population std of (1, 0.5)
    assert result.pooled.accuracy == pytest.approx(0.75)
    assert typed(ProtocolResult, __import__("dataclasses").asdict(result)) == result


def _run(name, validation, test_accuracy):
    """A run whose validation UA per fold is given and whose test predictions are all right or wrong."""
    predictions = pd.DataFrame({"clip_id": ["c"], "fold": [1], "emotion": ["calm"],
                                "predicted": ["calm" if test_accuracy else "sad"]})  # fmt: skip
    return ProtocolRun(name, "speaker_independent", 1, predictions, validation, {}, {})


def selection_table(per_fold: dict[str, dict[int, float]], ingredients: dict[str, int]):
    """A selection table as notebook 03 builds one: validation UA per candidate and fold."""
    table = pd.DataFrame(
        [{"candidate": name, "validation UA": float(np.mean(list(uar.values()))),
          INGREDIENTS: ingredients[name]} for name, uar in per_fold.items()]
    ).set_index("candidate")  # fmt: skip
    return with_noise(table, {n: list(u.values()) for n, u in per_fold.items()}, "validation UA")


SIMPLER = {"bank": 2, "plain": 1}


def test_the_better_validation_score_wins_and_the_first_listed_breaks_a_tie():
    assert choose(selection_table({"bank": {1: 0.5, 2: 0.7}, "plain": {1: 0.7, 2: 0.65}},
                                  SIMPLER)) == "plain"  # fmt: skip
    tie = selection_table({"bank": {1: 0.6}, "plain": {1: 0.6}}, {"bank": 1, "plain": 1})
    assert choose(tie) == "bank"  # one fold: no measure of noise, the first listed wins


def test_the_simpler_candidate_wins_within_the_noise_and_loses_beyond_it():
    def table(bank, plain):
        return selection_table({"bank": bank, "plain": plain}, SIMPLER)

    # bank leads by 0.02 on average, but the folds disagree: within the noise
    noisy = table({1: 0.70, 2: 0.60, 3: 0.72}, {1: 0.62, 2: 0.66, 3: 0.68})
    assert noisy.loc["plain", "behind the best"] == pytest.approx(0.02)
    assert noisy.loc["plain", "noise (1 SE)"] > 0.02
    assert choose(noisy) == "plain"  # one ingredient fewer
    # bank leads by the same 0.02 on every fold: beyond the noise, the better one wins
    steady = table({1: 0.70, 2: 0.60, 3: 0.72}, {1: 0.68, 2: 0.58, 3: 0.70})
    assert steady.loc["plain", "noise (1 SE)"] == pytest.approx(0.0, abs=1e-12)
    assert choose(steady) == "bank"


def test_paired_standard_error():
    from ser.scoring import paired_standard_error

    assert paired_standard_error([0.7, 0.6], [0.6, 0.7]) == pytest.approx(0.1)
    assert np.isnan(paired_standard_error([0.7], [0.6]))


def test_svm_c_is_chosen_on_validation_clips_not_test():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    labels = np.where(x[:, 0] > 0, "a", "b")
    split = Split("speaker_independent", 1, np.arange(0, 60), np.arange(60, 90), np.arange(90, 120))
    flipped = labels.copy()
    flipped[90:] = np.where(labels[90:] == "a", "b", "a")  # test labels cannot matter
    _, c1, scores1 = svm_with_validated_c(x, labels, split, seed=0)
    _, c2, scores2 = svm_with_validated_c(x, flipped, split, seed=0)
    assert c1 == c2 and scores1 == scores2
    assert scores1[c1] == max(scores1.values())


def test_targets_pass_and_fail_from_the_numbers():
    from ser.evaluation.targets import target_rows

    from .conftest import make_metrics

    rows = {(r["model"], r["target"].split(" (")[0]): r for r in target_rows(make_metrics(0.63))}
    assert rows[("cnn", "random split: accuracy ≥ 85%")]["result"] == "pass"
    assert rows[("bilstm", "random split: accuracy ≥ 85%")]["result"] == "fail"
    assert rows[("cnn", "speaker-independent UA ≥ 0.63")]["result"] == "pass"
    assert rows[("cnn", "speaker-independent UA ≥ 0.65")]["result"] == "fail"
    margin = rows[("cnn", "speaker-independent UA above eGeMAPS functionals with an SVM by ≥ 0.10")]
    assert margin["value"] == pytest.approx(0.13) and margin["result"] == "pass"
    time = rows[("cnn", "time: every fold's training ≤ 8 min")]  # 300 s: at most is a pass
    assert time["value"] == pytest.approx(5.0) and time["result"] == "pass"
    assert not [key for key in rows if "majority" in key[1]]
    assert not [key for key in rows if key[0] == "whisper_all_layers"]  # no encoder, no rows


def test_metrics_file_round_trips_typed(tmp_path):
    from ser.evaluation.schema import Metrics
    from ser.models.calibration import CalibrationResult

    from .conftest import make_metrics, with_encoder

    metrics = with_encoder(make_metrics())
    path = metrics.write(tmp_path / "metrics.json")
    again = Metrics.read(path)
    assert again == Metrics.read(path) and again.ours == "cnn"
    assert again.si("cnn").folds[1].test_actors == [2, 12]
    assert again.shipped.scores.test_actors == [1, 11, 20, 21]
    assert isinstance(again.calibration["cnn"], CalibrationResult)
    assert again.calibration["cnn"].temperature == {1: 1.5, 2: 1.4}  # fold numbers, not strings
    assert again.shipped_robustness().conditions["babble 10 dB"].drop == pytest.approx(0.2)
    assert again.corpus("TESS").of("cnn").uar == pytest.approx(0.55)
    assert again.encoder.enrolment[0].per_fold == {1: 0.84, 2: 0.86}
    assert again.models["egemaps_svm"].svm_c_per_fold["speaker_independent"] == {1: 1.0, 2: 10.0}


def test_an_older_metrics_file_is_refused_with_its_schema_version(tmp_path):
    import json

    from ser.evaluation.schema import SCHEMA_VERSION, Metrics, SchemaError

    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"models": {}, "ours": "cnn", "recipe": "cnn"}))
    with pytest.raises(
        SchemaError, match=f"schema version 1; this code reads version {SCHEMA_VERSION}"
    ):
        Metrics.read(path)


def test_average_runs_averages_the_seeds_probabilities():
    from ser.training.runs import PROBABILITY_COLUMNS, average_runs

    def run(seed, calm_probability):
        frame = pd.DataFrame({"clip_id": ["b", "a"], "fold": [1, 1], "emotion": ["calm", "sad"]})
        probabilities = np.zeros((2, len(PROBABILITY_COLUMNS)))
        probabilities[:, 1], probabilities[:, 3] = calm_probability, 1 - calm_probability
        frame["predicted"] = ["calm" if calm_probability > 0.5 else "sad"] * 2
        frame[PROBABILITY_COLUMNS] = probabilities
        return ProtocolRun("cnn", "speaker_independent", seed, frame, {1: 0.5}, {}, {})

    averaged = average_runs([run(1, 0.9), run(2, 0.2)])
    assert averaged["clip_id"].tolist() == ["a", "b"]
    assert averaged["p_calm"].tolist() == pytest.approx([0.55, 0.55])
    assert averaged["predicted"].tolist() == ["calm", "calm"]


def test_ua_per_fold_scores_each_fold_on_its_own_clips():
    from ser.scoring import ua_per_fold

    frame = pd.DataFrame({
        "fold": [1, 1, 1, 2, 2],
        "emotion": ["sad", "sad", "angry", "sad", "angry"],
        "predicted": ["sad", "angry", "angry", "angry", "angry"],
    })  # fmt: skip
    assert ua_per_fold(frame) == {1: pytest.approx(0.75), 2: pytest.approx(0.5)}
