"""Everything notebook 04 reports, computed once: :func:`evaluate` builds ``metrics.json``'s tree.

It reads what notebook 03 wrote (``models/runs/``, ``models/`` and ``models/cnn/``),
scores every model on the test actors of the splits notebook 03 chose on, trains the
baselines on the same splits, re-checks the model folders from disk, and measures
calibration, robustness, TESS and speaker enrolment. Test actors are scored here once,
for the configurations notebook 03 chose on validation actors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ser.data.splits import protocol_splits
from ser.environment import versions
from ser.evaluation import encoder_results
from ser.evaluation.baselines import BASELINE_DESCRIPTIONS, BASELINE_NAMES, baseline_predictions
from ser.evaluation.robustness import held_out_robustness
from ser.evaluation.schema import (
    ConditionResult,
    EncoderResult,
    Metrics,
    ModelResult,
    ProtocolResult,
    RobustnessResult,
)
from ser.evaluation.shipped import evaluate_shipped
from ser.evaluation.tess_results import TessAnswers, TessResult, tess_evaluation
from ser.models.artifacts import read_metadata
from ser.models.calibration import evaluate_calibration
from ser.training.encoder_family import ENCODER_RUNS, FAMILY_FILE, load_encoder_run
from ser.training.fitting import progress
from ser.training.plan import BILSTM, CNN_RECIPE, MODEL_NAMES, Plan
from ser.training.runs import load_run

PROTOCOLS = ("speaker_independent", "random")


@dataclass
class Evaluation:
    """The typed results, and what notebook 04 shows beside them."""

    metrics: Metrics
    predictions: dict[str, pd.DataFrame]  # "<model>/<protocol>": every test clip
    calibration_curves: dict[str, tuple]  # model: raw and calibrated probabilities, targets
    robustness: pd.DataFrame  # UA per condition, a column per model folder (in words)
    tess: TessResult | None
    enrolment: pd.DataFrame | None  # UA per way of enrolling, per fold


def evaluate(
    index: pd.DataFrame, features: dict, plan: Plan, runs_dir: Path, models_dir: Path,
    cnn_dir: Path, *, states: np.ndarray | None = None, tess_root: Path | None = None,
) -> Evaluation:  # fmt: skip
    """Score and measure everything; ``states`` (the encoder's, for enrolment) and
    ``tess_root`` are optional."""
    actors = dict(zip(index["clip_id"], index["actor"].astype(int), strict=True))
    models, predictions = trained_models(plan, runs_dir, actors)
    encoder = None
    if (Path(runs_dir) / ENCODER_RUNS / FAMILY_FILE).exists():
        encoder, head, frames = encoder_results.family_result(index, runs_dir)
        models[head.name] = head
        predictions.update({f"{head.name}/{p}": frame for p, frame in frames.items()})
    baselines, baseline_frames = baseline_models(index, features, plan, actors)
    models.update(baselines)
    predictions.update(baseline_frames)
    progress("the model folders, re-checked from disk")
    shipped = evaluate_shipped(index, features, models_dir)
    cnn_check = evaluate_shipped(index, features, cnn_dir) if Path(cnn_dir).exists() else None
    calibration, curves = calibrations(plan, runs_dir, encoder)
    robustness_table, robustness = robustness_results(index, plan, models_dir, cnn_dir)
    tess = None
    if tess_root is not None:
        progress("TESS")
        tess = tess_evaluation(index, features, plan, runs_dir, cnn_dir, tess_root,
                               extra=encoder_tess_answers(encoder, plan, runs_dir))  # fmt: skip
    enrolment = None
    if encoder is not None and states is not None:
        progress("speaker enrolment")
        enrolment = encoder_results.enrolment(index, states, plan)
        encoder.enrolment = encoder_results.enrolment_results(enrolment)
    metrics = Metrics(
        models=models, ours=CNN_RECIPE.name, reference=BILSTM.name, shipped=shipped,
        plan=plan.as_dict(), versions=versions(), encoder=encoder, cnn_check=cnn_check,
        calibration=calibration, robustness=robustness,
        corpora=[tess.result()] if tess is not None else [],
    )  # fmt: skip
    return Evaluation(metrics, predictions, curves, robustness_table, tess, enrolment)


def trained_models(plan: Plan, runs_dir: Path, actors: dict) -> tuple[dict, dict]:
    """The BiLSTM and the CNN under both protocols, from notebook 03's runs."""
    models, predictions = {}, {}
    for spec, role in ((CNN_RECIPE, "cnn"), (BILSTM, "reference")):
        protocols, seconds = {}, {}
        for protocol in PROTOCOLS:
            run = load_run(runs_dir, spec.name, protocol, plan.seed)
            predictions[f"{spec.name}/{protocol}"] = run.predictions
            protocols[protocol] = ProtocolResult.from_predictions(run.predictions, protocol, actors)
            seconds[protocol] = float(sum(run.seconds.values()))
        models[spec.name] = ModelResult(spec.name, MODEL_NAMES[spec.name], role, spec.summary(),
                                        protocols, seconds)  # fmt: skip
    return models, predictions


def baseline_models(index: pd.DataFrame, features: dict, plan: Plan, actors: dict):
    """The baselines, fitted and scored on the same splits as every model."""
    results, frames, chosen_c = {}, {}, {}
    for protocol in PROTOCOLS:
        progress(f"baselines, {protocol.replace('_', '-')}")
        splits = protocol_splits(index, protocol, plan.seed, folds=plan.folds)
        egemaps = features["egemaps"].features if "egemaps" in features else None
        found, chosen_c[protocol] = baseline_predictions(
            index, features["mfcc"].features, egemaps, splits, plan.seed
        )
        for name, frame in found.items():
            frames[f"{name}/{protocol}"] = frame
            results.setdefault(name, {})[protocol] = ProtocolResult.from_predictions(
                frame, protocol, actors
            )
    models = {
        name: ModelResult(name, BASELINE_NAMES[name], "baseline", BASELINE_DESCRIPTIONS[name],
                          by_protocol, svm_c_per_fold=chosen_c if name == "egemaps_svm" else {})
        for name, by_protocol in results.items()
    }  # fmt: skip
    return models, frames


def calibrations(plan: Plan, runs_dir: Path, encoder: EncoderResult | None):
    """Each fold's temperature and threshold fitted on its validation actors and judged on its
    test actors, for the encoder's best head and the CNN; and the curves for the plots."""
    found, curves = {}, {}
    cnn = load_run(runs_dir, CNN_RECIPE.name, "speaker_independent", plan.seed)
    result, *curves[CNN_RECIPE.name] = evaluate_calibration(cnn.validation, cnn.predictions)
    found[CNN_RECIPE.name] = result
    if encoder is not None:
        result, *curves[encoder.model] = encoder_results.calibration(runs_dir, encoder.model)
        found[encoder.model] = result
    return found, curves


def robustness_results(index: pd.DataFrame, plan: Plan, models_dir: Path, cnn_dir: Path):
    """The shipped model's and the CNN's model's UA per condition: a table whose columns are
    the models in words, and the typed results."""
    folders = [(Path(models_dir), True)]
    shipped_name = read_metadata(models_dir)["model"]
    if Path(cnn_dir).exists() and read_metadata(cnn_dir)["model"] != shipped_name:
        folders.append((Path(cnn_dir), False))
    columns, results = {}, []
    for folder, shipped in folders:
        name = read_metadata(folder)["model"]
        label = MODEL_NAMES.get(name, name) + (" (shipped)" if shipped else "")
        uar = held_out_robustness(index, folder, plan.seed)
        columns[label] = uar
        conditions = {c: ConditionResult(float(u), float(uar["clean"] - u)) for c, u in uar.items()}
        results.append(RobustnessResult(name, label, shipped, conditions))
    return pd.DataFrame(columns), results


def encoder_tess_answers(encoder: EncoderResult | None, plan: Plan, runs_dir: Path) -> dict:
    """The encoder's best head of the shipped fold on TESS, as notebook 03 kept its answers."""
    if encoder is None:
        return {}
    run = load_encoder_run(runs_dir, encoder.model, "speaker_independent")
    answers = run.tess_answers.get(plan.shipped_fold)
    if not answers:
        return {}
    label = f"{MODEL_NAMES.get(encoder.model, encoder.model)} (fold {plan.shipped_fold})"
    return {encoder.model: TessAnswers(label, "encoder", answers)}
