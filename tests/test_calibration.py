"""Temperature scaling, calibration error and the "unsure" threshold."""

import numpy as np
import pandas as pd
import pytest

from ser.config import EMOTION_NAMES
from ser.models.calibration import (
    apply_temperature,
    choose_threshold,
    coverage_curve,
    evaluate_calibration,
    expected_calibration_error,
    fit_temperature,
)


def sampled(temperature: float, n: int = 4000, seed: int = 0):
    """Clips whose true class is drawn from softmax(logits); the model reports softmax(logits * T)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, size=(n, 8))
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    targets = np.array([rng.choice(8, p=p) for p in truth])
    reported = np.exp(logits * temperature)
    return reported / reported.sum(axis=1, keepdims=True), targets, truth


def test_temperature_recovers_how_overconfident_a_model_is():
    reported, targets, truth = sampled(temperature=2.0)  # twice as sharp as the truth
    fitted = fit_temperature(reported, targets)
    assert fitted == pytest.approx(2.0, rel=0.1)
    calibrated = apply_temperature(reported, fitted)
    assert expected_calibration_error(calibrated, targets) < 0.03
    assert expected_calibration_error(reported, targets) > 0.1
    # The predicted class never changes.
    np.testing.assert_array_equal(calibrated.argmax(axis=1), reported.argmax(axis=1))


def test_ece_is_the_weighted_gap_between_confidence_and_accuracy():
    # Two clips at confidence 0.9, one right and one wrong: |0.5 - 0.9| in one bin.
    p = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert expected_calibration_error(p, np.array([0, 1])) == pytest.approx(0.4)


def test_threshold_is_the_lowest_confidence_reaching_the_target():
    # Confidence 0.9, 0.8, 0.7, 0.6 with right, right, wrong, right.
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]])
    targets = np.array([0, 0, 1, 0])
    curve = coverage_curve(p, targets)
    assert curve["accuracy"].round(3).tolist() == [1.0, 1.0, 0.667, 0.75]
    assert choose_threshold(p, targets, target=0.75) == pytest.approx(0.6)
    assert choose_threshold(p, targets, target=0.8) == pytest.approx(0.8)


def test_each_fold_is_calibrated_on_its_own_validation_clips():
    def frame(probabilities, targets, fold):
        f = pd.DataFrame(probabilities, columns=[f"p_{e}" for e in EMOTION_NAMES])
        f.insert(0, "clip_id", [f"03-01-01-01-01-01-{13 + i % 2:02d}" for i in range(len(f))])
        f.insert(1, "fold", fold)
        f.insert(2, "emotion", [EMOTION_NAMES[t] for t in targets])
        return f

    sharp, sharp_targets, _ = sampled(3.0, 2000, seed=1)
    soft, soft_targets, _ = sampled(0.5, 2000, seed=2)
    validation = pd.concat([frame(sharp, sharp_targets, 1), frame(soft, soft_targets, 2)])
    test_sharp, t1, _ = sampled(3.0, 1000, seed=3)
    test_soft, t2, _ = sampled(0.5, 1000, seed=4)
    test = pd.concat([frame(test_sharp, t1, 1), frame(test_soft, t2, 2)], ignore_index=True)
    result, raw, calibrated, targets = evaluate_calibration(validation, test)
    assert result.temperature[1] == pytest.approx(3.0, rel=0.15)
    assert result.temperature[2] == pytest.approx(0.5, rel=0.15)
    assert result.ece_after < result.ece_before / 2
    assert 0 < result.answered_share < 1 and result.answered_accuracy > result.accuracy
    np.testing.assert_array_equal(targets, np.r_[t1, t2])
