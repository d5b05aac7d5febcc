import numpy as np
import pandas as pd
import pytest

from ser.data.splits import Split
from ser.evaluation.baselines import svm_with_validated_c
from ser.evaluation.tables import (
    ProtocolResult,
    confusion,
    per_class_table,
    summarise,
    top_confusions,
)
from ser.training.experiments import choose, selection_table
from ser.training.runs import ProtocolRun

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
    assert ProtocolResult.from_dict(__import__("dataclasses").asdict(result)) == result


def _run(name, validation, test_accuracy):
    """A run whose validation UA per fold is given and whose test predictions are all right or wrong."""
    predictions = pd.DataFrame({"clip_id": ["c"], "fold": [1], "emotion": ["calm"],
                                "predicted": ["calm" if test_accuracy else "sad"]})  # fmt: skip
    return ProtocolRun(name, "speaker_independent", 1, predictions, validation, {}, {})


def test_selection_reads_validation_scores_only():
    runs = {
        "cnn": _run("cnn", {1: 0.5, 2: 0.7}, test_accuracy=1),
        "cnn_no_augmentation": _run("cnn_no_augmentation", {1: 0.7, 2: 0.6}, test_accuracy=0),
    }
    table = selection_table(runs)
    assert table.loc["cnn_no_augmentation", "validation UA"] == pytest.approx(0.65)
    assert not [c for c in table.columns if "test" in c.lower()]
    # the better test score does not win: the better validation score does
    assert choose(table) == "cnn_no_augmentation"
    tie = selection_table(
        {
            "cnn": _run("cnn", {1: 0.6}, 0),
            "cnn_no_augmentation": _run("cnn_no_augmentation", {1: 0.6}, 1),
        }
    )
    assert choose(tie) == "cnn"  # one fold: no measure of noise, the first listed wins


def test_the_simpler_candidate_wins_within_the_noise_and_loses_beyond_it():
    def table(cnn, plain):
        return selection_table({"cnn": _run("cnn", cnn, 0),
                                "cnn_no_augmentation": _run("cnn_no_augmentation", plain, 0)})  # fmt: skip

    # cnn leads by 0.02 on average, but the folds disagree: within the noise
    noisy = table({1: 0.70, 2: 0.60, 3: 0.72}, {1: 0.62, 2: 0.66, 3: 0.68})
    assert noisy.loc["cnn_no_augmentation", "behind the best"] == pytest.approx(0.02)
    assert noisy.loc["cnn_no_augmentation", "noise (1 SE)"] > 0.02
    assert choose(noisy) == "cnn_no_augmentation"  # no SpecAugment: one ingredient fewer
    # cnn leads by the same 0.02 on every fold: beyond the noise, the better one wins
    steady = table({1: 0.70, 2: 0.60, 3: 0.72}, {1: 0.68, 2: 0.58, 3: 0.70})
    assert steady.loc["cnn_no_augmentation", "noise (1 SE)"] == pytest.approx(0.0, abs=1e-12)
    assert choose(steady) == "cnn"
    # the simpler one ahead: it wins on its score alone
    assert choose(table({1: 0.6, 2: 0.6}, {1: 0.7, 2: 0.65})) == "cnn_no_augmentation"


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
    from ser.evaluation.tables import target_rows

    from .conftest import make_metrics

    rows = {(r["model"], r["target"].split(" (")[0]): r for r in target_rows(make_metrics(0.63))}
    # the random targets judge the model chosen for the random split, over its seeds
    assert rows[("cnn_random_split", "random split: accuracy ≥ 85%")]["result"] == "pass"
    assert ("cnn", "random split: accuracy ≥ 85%") not in rows
    assert rows[("bilstm", "random split: accuracy ≥ 85%")]["result"] == "fail"
    assert rows[("cnn", "speaker-independent UA ≥ 0.63")]["result"] == "pass"
    assert rows[("cnn", "speaker-independent UA ≥ 0.65")]["result"] == "fail"
    margin = rows[("cnn", "speaker-independent UA above egemaps_svm by ≥ 0.10")]
    assert margin["value"] == pytest.approx(0.13) and margin["result"] == "pass"
    assert not [key for key in rows if "majority" in key[1]]


def test_metrics_file_round_trips(tmp_path):
    from ser.evaluation.tables import Metrics

    from .conftest import make_metrics

    metrics = make_metrics()
    path = metrics.write(tmp_path / "metrics.json")
    again = Metrics.read(path)
    assert again.ours == "cnn" and again.si("cnn").folds[1].test_actors == [2, 12]
    assert again.shipped.scores.test_actors == [1, 11, 20, 21]
    assert again.models["cnn"].seeds["speaker_independent"].std["uar"] == pytest.approx(0.0123)


def test_average_runs_and_the_ensemble_rule():
    from ser.training.experiments import ENSEMBLE_COLUMN, choose_ensemble
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
    table = pd.DataFrame({"seed 1": [0.5, 0.6], "seed 2": [0.6, 0.7], ENSEMBLE_COLUMN: [0.6, 0.7]})
    table.loc["mean"] = table.mean()
    assert choose_ensemble(table)  # 0.65 > mean of singles 0.6
    table[ENSEMBLE_COLUMN] = [0.5, 0.6, 0.55]
    assert not choose_ensemble(table)
    assert not choose_ensemble(table[["seed 1", ENSEMBLE_COLUMN]])  # one seed: nothing to average


def test_a_seed_ensemble_for_the_random_split_is_judged_as_it_is():
    from dataclasses import replace

    from ser.evaluation.tables import target_rows

    from .conftest import make_metrics

    metrics = make_metrics(ours_random=0.80)
    name = "cnn_ensemble_random_split"
    ensemble = replace(metrics.models.pop("cnn_random_split"), name=name)
    ensemble.protocols["random"].mean["accuracy"] = 0.86  # the ensemble's own, not the seeds'
    metrics.models[name], metrics.random_model = ensemble, name
    rows = {r["target"]: r for r in target_rows(metrics) if r["model"] == name}
    accuracy = rows["random split: accuracy ≥ 85% (seed ensemble)"]
    assert accuracy["value"] == pytest.approx(0.86) and accuracy["result"] == "pass"


def test_ua_per_fold_scores_each_fold_on_its_own_clips():
    from ser.scoring import ua_per_fold

    frame = pd.DataFrame({
        "fold": [1, 1, 1, 2, 2],
        "emotion": ["sad", "sad", "angry", "sad", "angry"],
        "predicted": ["sad", "angry", "angry", "angry", "angry"],
    })  # fmt: skip
    assert ua_per_fold(frame) == {1: pytest.approx(0.75), 2: pytest.approx(0.5)}
