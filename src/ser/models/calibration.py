"""Honest confidence: temperature scaling, calibration error and the "unsure" threshold.

Everything here is fitted on a model's *validation* actors and judged on its
held-out actors:

- :func:`fit_temperature` finds the one number ``T`` that makes the model's
  probabilities match how often it is right (lowest negative log-likelihood of
  ``softmax(log p / T)`` on validation clips). ``T > 1`` softens an
  over-confident model; the predicted class never changes.
- :func:`expected_calibration_error` (ECE): the gap between confidence and
  accuracy, averaged over 10 equal-width confidence bins weighted by clip count.
- :func:`choose_threshold`: the lowest confidence at which the clips answered
  reach :data:`TARGET_ANSWERED_ACCURACY` on validation clips; below it the demo
  and the CLI say the model is unsure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ser.config import EMOTION_NAMES

N_BINS = 10
# Answer only where the model is right at least this often; say "unsure" otherwise.
TARGET_ANSWERED_ACCURACY = 0.8
TEMPERATURE_BOUNDS = (0.05, 20.0)


def emotion_indices(emotions) -> np.ndarray:
    """Class indices of emotion names (the model's output order)."""
    return np.array([EMOTION_NAMES.index(e) for e in emotions], dtype=int)


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)`` row by row: the calibrated probabilities."""
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, None))
    scaled = logits / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """Mean ``-log p(true class)``."""
    chosen = np.asarray(probabilities)[np.arange(len(targets)), targets]
    return float(-np.mean(np.log(np.clip(chosen, 1e-12, None))))


def fit_temperature(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """The temperature with the lowest negative log-likelihood on these (validation) clips."""
    from scipy.optimize import minimize_scalar

    targets = np.asarray(targets, dtype=int)
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(
            apply_temperature(probabilities, float(np.exp(log_t))), targets
        ),
        bounds=tuple(np.log(TEMPERATURE_BOUNDS)), method="bounded",
    )  # fmt: skip
    return float(np.exp(result.x))


def reliability_table(probabilities: np.ndarray, targets: np.ndarray, n_bins: int = N_BINS):
    """Per confidence bin: clips, mean confidence and accuracy (a pandas DataFrame)."""
    import pandas as pd

    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(targets)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        inside = bins == b
        rows.append({
            "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "low": edges[b], "high": edges[b + 1],
            "clips": int(inside.sum()),
            "confidence": float(confidence[inside].mean()) if inside.any() else np.nan,
            "accuracy": float(correct[inside].mean()) if inside.any() else np.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)


def expected_calibration_error(
    probabilities: np.ndarray, targets: np.ndarray, n_bins: int = N_BINS
) -> float:
    """ECE: ``sum_bins (clips / total) * |accuracy - confidence|`` over equal-width bins."""
    table = reliability_table(probabilities, targets, n_bins).dropna()
    weights = table["clips"] / table["clips"].sum()
    return float((weights * (table["accuracy"] - table["confidence"]).abs()).sum())


def coverage_curve(probabilities: np.ndarray, targets: np.ndarray):
    """For every threshold (each clip's confidence): share of clips answered and their accuracy."""
    import pandas as pd

    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == np.asarray(targets)).astype(float)
    order = np.argsort(-confidence, kind="stable")
    answered = np.arange(1, len(order) + 1)
    return pd.DataFrame({
        "threshold": confidence[order],
        "answered": answered / len(order),
        "accuracy": np.cumsum(correct[order]) / answered,
    })  # fmt: skip


def choose_threshold(
    probabilities: np.ndarray, targets: np.ndarray, target: float = TARGET_ANSWERED_ACCURACY
) -> float:
    """The lowest confidence threshold whose answered (validation) clips reach ``target`` accuracy.

    If no threshold reaches it, the threshold of the most accurate answered set is returned.
    """
    curve = coverage_curve(probabilities, targets)
    reaching = curve[curve["accuracy"] >= target]
    if len(reaching):
        return float(reaching["threshold"].iloc[-1])
    return float(curve.loc[curve["accuracy"].idxmax(), "threshold"])


@dataclass(frozen=True)
class Calibration:
    """What the predictor needs: the temperature and the "unsure" threshold, and their origin."""

    temperature: float
    threshold: float
    target_accuracy: float
    fitted_on: str  # e.g. "validation actors 4, 17 (120 clips)"

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        return apply_temperature(probabilities, self.temperature)

    def as_dict(self) -> dict:
        return asdict(self)


def calibrate(probabilities: np.ndarray, targets: np.ndarray, fitted_on: str) -> Calibration:
    """Fit the temperature, then the threshold on the calibrated probabilities (validation clips)."""
    temperature = fit_temperature(probabilities, targets)
    threshold = choose_threshold(apply_temperature(probabilities, temperature), targets)
    return Calibration(temperature, threshold, TARGET_ANSWERED_ACCURACY, fitted_on)


@dataclass
class CalibrationResult:
    """Calibration judged on held-out actors: each fold's model calibrated on its validation actors."""

    ece_before: float
    ece_after: float
    nll_before: float
    nll_after: float
    temperature: dict[int, float]  # per fold
    threshold: dict[int, float]  # per fold
    target_accuracy: float
    accuracy: float  # every held-out clip
    answered_share: float  # clips at or above their fold's threshold
    answered_accuracy: float
    unsure_accuracy: float  # the clips the model would call unsure


def calibrate_fold(validation, fold: int) -> Calibration:
    """Calibrate one fold's model on that fold's rows of a validation prediction frame."""
    fitted = validation[validation["fold"] == fold]
    columns = [f"p_{name}" for name in EMOTION_NAMES]
    actors = sorted({int(clip[-2:]) for clip in fitted["clip_id"]})
    return calibrate(
        fitted[columns].to_numpy(), emotion_indices(fitted["emotion"]),
        f"validation actors {', '.join(map(str, actors))} ({len(fitted)} clips)",
    )  # fmt: skip


def evaluate_calibration(validation, test):
    """Fit each fold's temperature and threshold on its validation clips; judge them on its test clips.

    ``validation`` and ``test`` are prediction frames (``fold``, ``emotion`` and one
    probability column per emotion). Returns the result, and the test clips' raw
    and calibrated probabilities and true class indices (in ``test``'s row order).
    """
    columns = [f"p_{name}" for name in EMOTION_NAMES]
    raw = test[columns].to_numpy(dtype=np.float64)
    calibrated = np.empty_like(raw)
    answered = np.zeros(len(test), dtype=bool)
    temperature, threshold = {}, {}
    for fold in sorted(test["fold"].unique()):
        found = calibrate_fold(validation, fold)
        rows = (test["fold"] == fold).to_numpy()
        calibrated[rows] = found.apply(raw[rows])
        answered[rows] = calibrated[rows].max(axis=1) >= found.threshold
        temperature[int(fold)], threshold[int(fold)] = found.temperature, found.threshold
    targets = emotion_indices(test["emotion"])
    correct = calibrated.argmax(axis=1) == targets
    result = CalibrationResult(
        ece_before=expected_calibration_error(raw, targets),
        ece_after=expected_calibration_error(calibrated, targets),
        nll_before=negative_log_likelihood(raw, targets),
        nll_after=negative_log_likelihood(calibrated, targets),
        temperature=temperature, threshold=threshold, target_accuracy=TARGET_ANSWERED_ACCURACY,
        accuracy=float(correct.mean()), answered_share=float(answered.mean()),
        answered_accuracy=float(correct[answered].mean()) if answered.any() else float("nan"),
        unsure_accuracy=float(correct[~answered].mean()) if (~answered).any() else float("nan"),
    )  # fmt: skip
    return result, raw, calibrated, targets


def calibration_by_fold(result: CalibrationResult):
    """Each fold's temperature and threshold (fitted on its validation actors)."""
    import pandas as pd

    return pd.DataFrame(
        {"temperature": result.temperature, "unsure below": result.threshold}
    ).rename_axis("fold")
