"""What notebook 04 assembles: every saved run scored, the baselines, the shipped model.

Reads what notebook 03 left in ``models/runs/`` (the runs, the plan, the
selection) and in ``models/`` (the shipped model), trains the baselines on the
same splits, and returns the :class:`ser.evaluation.tables.Metrics` that
``metrics.json`` holds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ser.data.splits import protocol_splits
from ser.environment import versions
from ser.evaluation.baselines import BASELINE_DESCRIPTIONS, baseline_predictions
from ser.evaluation.encoder_results import family_result
from ser.evaluation.tables import (
    RANDOM_ROLE,
    Metrics,
    ModelResult,
    ProtocolResult,
    SeedSpread,
    ShippedResult,
    summarise,
)
from ser.models import artifacts
from ser.training.encoder_family import ENCODER_RUNS, FAMILY_FILE
from ser.training.experiments import ensemble_name, read_selection
from ser.training.fitting import progress
from ser.training.plan import BILSTM, RANDOM_SPLIT_SUFFIX, SPECS, Plan
from ser.training.runs import ProtocolRun, average_runs, load_run


def assemble_metrics(
    index: pd.DataFrame,
    features: dict,
    plan: Plan,
    runs_dir: Path,
    models_dir: Path,
    cnn_dir: Path | None = None,
) -> tuple[Metrics, dict[str, pd.DataFrame]]:
    """Score every saved run and the baselines; return the metrics and the predictions by model.

    Predictions are keyed ``"<model>/<protocol>"`` (the plan's seed), for the
    per-class tables, confusion matrices and group accuracies. ``models_dir`` holds the
    shipped model; ``cnn_dir`` the CNN's own model when the shipped one is the encoder's.
    """
    actors = dict(zip(index["clip_id"], index["actor"].astype(int), strict=True))
    selection = read_selection(runs_dir)
    recipe = selection["recipe"]
    predictions: dict[str, pd.DataFrame] = {}

    runs: dict[tuple[str, str, int], ProtocolRun] = {}  # (model, protocol, seed), each read once

    def result(name: str, protocol: str, seed: int) -> ProtocolResult:
        run = runs[name, protocol, seed] = load_run(runs_dir, name, protocol, seed)
        if seed == plan.seed:
            predictions[f"{name}/{protocol}"] = run.predictions
        return ProtocolResult.from_predictions(run.predictions, protocol, actors)

    def averaged(name: str, protocol: str, key: str) -> ProtocolResult:
        """The seeds' probabilities of ``name`` averaged: a seed ensemble, kept as ``key``."""
        predictions[f"{key}/{protocol}"] = average_runs(
            [runs[name, protocol, seed] for seed in plan.seeds_for(protocol)]
        )
        return ProtocolResult.from_predictions(predictions[f"{key}/{protocol}"], protocol, actors)

    models: dict[str, ModelResult] = {}
    si = "speaker_independent"
    by_seed = [result(recipe, si, seed) for seed in plan.seeds]
    spread = SeedSpread.from_results(plan.seeds, by_seed)
    # The speaker-independent recipe under the random split too (seed plan.seed: it is
    # one of the random split's candidates), for the gap between the protocols.
    single = {
        si: by_seed[plan.seeds.index(plan.seed)],
        "random": result(recipe, "random", plan.seed),
    }
    if selection["ensemble"]:
        ours = ensemble_name(recipe)
        models[ours] = ModelResult(
            ours, "ours", f"{SPECS[recipe].summary()}; class probabilities averaged over "
            f"{len(plan.seeds)} seeds", {si: averaged(recipe, si, ours)}, {si: spread},
        )  # fmt: skip
        models[recipe] = ModelResult(
            recipe, "ablation", f"a single model (seed {plan.seed}) instead of the seed ensemble",
            single,
        )  # fmt: skip
    else:
        ours = recipe
        models[recipe] = ModelResult(recipe, "ours", SPECS[recipe].summary(), single, {si: spread})
    random_recipe = selection.get("random_recipe", recipe)
    random_ensemble = bool(selection.get("random_ensemble"))
    random_model = random_model_name(random_recipe, random_ensemble)
    seeds = plan.seeds_for("random")
    random_seeds = [result(random_recipe, "random", seed) for seed in seeds]
    if random_ensemble:
        random_result = averaged(random_recipe, "random", random_model)
        summary = f"{SPECS[random_recipe].summary()}; averaged over {len(seeds)} seeds"
    else:
        predictions[f"{random_model}/random"] = predictions[f"{random_recipe}/random"]
        random_result = random_seeds[seeds.index(plan.seed)]
        summary = SPECS[random_recipe].summary()
    models[random_model] = ModelResult(
        random_model, RANDOM_ROLE, f"chosen for the random split on its validation clips: "
        f"{summary}", {"random": random_result},
        {"random": SeedSpread.from_results(seeds, random_seeds)},
    )  # fmt: skip
    protocols = (si, "random")
    models[BILSTM.name] = ModelResult(
        BILSTM.name, "reference", BILSTM.description,
        {p: result(BILSTM.name, p, plan.seed) for p in protocols},
    )  # fmt: skip
    baseline_results: dict[str, dict[str, ProtocolResult]] = {}
    chosen_c = {}
    for protocol in protocols:
        splits = protocol_splits(index, protocol, plan.seed, folds=plan.folds)
        egemaps = features["egemaps"].features if "egemaps" in features else None
        found, chosen_c[protocol] = baseline_predictions(
            index, features["mfcc"].features, egemaps, splits, plan.seed
        )
        for name, frame in found.items():
            predictions[f"{name}/{protocol}"] = frame
            baseline_results.setdefault(name, {})[protocol] = ProtocolResult.from_predictions(
                frame, protocol, actors
            )
    for name, results in baseline_results.items():
        notes = {"svm_c_per_fold": chosen_c} if name == "egemaps_svm" else {}
        models[name] = ModelResult(
            name, "baseline", BASELINE_DESCRIPTIONS[name], results, notes=notes
        )
    for (name, protocol, seed), run in runs.items():
        spent = float(sum(run.seconds.values()))
        owners = [name] if seed == plan.seed and name in models else []
        if name == recipe and ours != recipe and protocol == si:
            owners.append(ours)  # the ensemble costs every seed's training
        if (
            name == random_recipe
            and protocol == "random"
            and (random_ensemble or seed == plan.seed)
        ):
            owners.append(random_model)
        for owner in owners:
            by_protocol = models[owner].notes.setdefault("training_seconds", {})
            by_protocol[protocol] = by_protocol.get(protocol, 0.0) + spent
    encoder = None
    if (Path(runs_dir) / ENCODER_RUNS / FAMILY_FILE).exists():
        encoder, result, frames = family_result(index, runs_dir)
        models[result.name] = result
        predictions.update({f"{result.name}/{p}": frame for p, frame in frames.items()})
    shipped = evaluate_shipped(index, features, models_dir)
    cnn_check = None
    if cnn_dir is not None and Path(cnn_dir).exists():
        cnn_check = evaluate_shipped(index, features, cnn_dir)
    metrics = Metrics(
        models=models, ours=ours, recipe=recipe, reference=BILSTM.name,
        selection=selection["candidates"],
        shipped=shipped, plan=plan.as_dict(), versions=versions(),
        clean_choice=selection["clean_choice"],
        robustness_selection=selection.get("robustness", []), random_model=random_model,
        random_selection=selection.get("random_candidates", []),
        encoder=encoder, cnn_check=cnn_check,
    )  # fmt: skip
    return metrics, predictions


def random_model_name(random_recipe: str, ensemble: bool = False) -> str:
    """The random split's own model in ``metrics.json`` (its recipe may also be an ablation)."""
    return f"{ensemble_name(random_recipe) if ensemble else random_recipe}{RANDOM_SPLIT_SUFFIX}"


def our_runs(plan: Plan, runs_dir: Path) -> list[ProtocolRun]:
    """The speaker-independent runs behind our model: every seed if it is the ensemble."""
    selection = read_selection(runs_dir)
    seeds = plan.seeds if selection["ensemble"] else [plan.seed]
    return [load_run(runs_dir, selection["recipe"], "speaker_independent", s) for s in seeds]


def calibration_evaluation(plan: Plan, runs_dir: Path):
    """Our model's calibration on held-out actors: each fold's temperature and "unsure"
    threshold fitted on that fold's validation actors (see :func:`ser.models.calibration.evaluate_calibration`)."""
    from ser.models.calibration import evaluate_calibration

    runs = our_runs(plan, runs_dir)
    return evaluate_calibration(average_runs(runs, "validation"), average_runs(runs, "predictions"))


def robustness_evaluation(
    index: pd.DataFrame, plan: Plan, models_dir: Path, label: str = "shipped"
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """UA per robustness condition on the held-out actors of the model in ``models_dir`` (ONNX,
    through the demo's predictor), as a one-column table named ``label: model``; and its table
    of every measure."""
    from ser.evaluation.robustness import damage_clips, score
    from ser.inference.predict import Predictor

    predictor = Predictor(models_dir)
    name = f"{label}: {predictor.metadata['model']}"
    held_out = predictor.metadata["held_out_actors"]
    trained_on = predictor.metadata["trained_on_actors"]
    progress(f"robustness of {name} on held-out actors {held_out}")
    damaged = damage_clips(predictor, index, held_out, trained_on, seed=plan.seed, progress=False)
    table, _ = score(predictor, damaged)
    return pd.DataFrame({name: table["UA"]}), {name: table}


def evaluate_shipped(index: pd.DataFrame, features: dict, model_dir: Path) -> ShippedResult:
    """Re-score a model folder on the actors it never saw: a Keras model with its ONNX export,
    or an encoder model (ONNX only) through the predictor, recording by recording."""
    if (Path(model_dir) / artifacts.MODEL_FILE).exists():
        return evaluate_shipped_model(index, features, model_dir)
    return evaluate_shipped_onnx(index, model_dir)


def evaluate_shipped_onnx(index: pd.DataFrame, model_dir: Path) -> ShippedResult:
    """The ONNX model through :class:`ser.inference.predict.Predictor` (what the demo and the command
    line run) on every clip of its held-out actors."""
    import onnx

    from ser.inference.predict import Predictor

    predictor = Predictor(model_dir)
    info = predictor.metadata
    held_out = info["held_out_actors"]
    clips = index[index["actor"].isin(held_out)]
    progress(f"the shipped model on actors {held_out}, recording by recording")
    predicted = [predictor.predict(path).emotion or "no speech found" for path in clips["path"]]
    graph = onnx.load(str(Path(model_dir) / artifacts.ONNX_FILE)).graph
    parameters = int(sum(np.prod(t.dims) for t in graph.initializer))
    return ShippedResult(
        model=info["model"], scores=summarise(clips["emotion"], predicted, test_actors=held_out),
        trained_on_actors=info["trained_on_actors"], validation_actors=info["validation_actors"],
        seed=info["seed"], epochs_trained=0, parameters=parameters, labels=predictor.labels,
    )  # fmt: skip


def evaluate_shipped_model(index: pd.DataFrame, features: dict, model_dir: Path) -> ShippedResult:
    """Re-score the saved model, loaded from disk, on the actors it never saw (from its metadata)."""
    from ser.training.fitting import predict_proba

    model, labels, info = artifacts.load_model(model_dir)
    held_out = info["held_out_actors"]
    positions = np.flatnonzero(index["actor"].isin(held_out).to_numpy())
    probabilities = predict_proba(model, features[info["spec"]["features"]].features[positions])
    predicted = [labels[i] for i in probabilities.argmax(axis=1)]
    scores = summarise(index["emotion"].to_numpy()[positions], predicted, test_actors=held_out)
    onnx = None
    if (Path(model_dir) / artifacts.ONNX_FILE).exists():
        from ser.inference.predict import Predictor

        runtime = Predictor(model_dir).window_probabilities(
            features[info["spec"]["features"]].features[positions]
        )
        onnx = float(np.abs(runtime - probabilities).max())
    return ShippedResult(
        model=info["model"], scores=scores, trained_on_actors=info["trained_on_actors"],
        validation_actors=info["validation_actors"], seed=info["seed"],
        epochs_trained=info["epochs_trained"], parameters=int(model.count_params()), labels=labels,
        onnx_max_difference=onnx,
    )  # fmt: skip
