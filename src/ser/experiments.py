"""What notebook 03 runs, and the decisions it makes: plan, candidates, selection, shipping.

1. The original BiLSTM under both protocols (the reference row).
2. Every candidate of our model on the six speaker-independent folds. Each is
   scored on its folds' *validation* actors (two training actors per fold).
3. The winner is the candidate with the highest mean validation UA; test actors
   play no part in the choice. Its fold-1 model ships.
4. The winner again with more seeds, and under the random split.

Test predictions of every candidate are kept too: notebook 04 shows them as an
ablation, after the choice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ser import artifacts
from ser.architectures import BILSTM, CNN, ModelSpec, average_models
from ser.calibration import Calibration, calibrate_fold
from ser.config import EMOTION_NAMES
from ser.environment import versions
from ser.evaluation import (
    BASELINE_DESCRIPTIONS,
    Metrics,
    ModelResult,
    ProtocolResult,
    SeedSpread,
    baseline_predictions,
    evaluate_shipped_model,
)
from ser.features import FeatureParams
from ser.splits import EMOBOX_FOLDS, SHIPPED_MODEL_FOLD, protocol_splits
from ser.training import PROBABILITY_COLUMNS, ProtocolRun, progress, run_protocol

# Our model and, one change each, the candidates it was chosen from. Every
# candidate differs from the first in one ingredient, so the same trainings
# serve as the selection (validation actors) and, after it, the ablation.
CANDIDATES: tuple[ModelSpec, ...] = (
    CNN,
    CNN.with_changes("cnn_mfcc", "features: 40 MFCCs instead of 64 log-mel bands", features="mfcc"),
    CNN.with_changes(
        "cnn_global_norm",
        "normalisation: one per-band mean and std fitted on the training clips (a Keras "
        "Normalization layer) instead of per utterance",
        normalisation="global",
    ),
    CNN.with_changes("cnn_no_augmentation", "augmentation: none", augmentation=False),
    CNN.with_changes(
        "cnn_average_pooling",
        "architecture: average pooling over time instead of statistics pooling",
        pooling="average",
    ),
)
# Stage two, after the choice on clean validation clips: the chosen candidate with
# and without channel augmentation (noise and band limits during training, see
# ser.architectures.ChannelAugment) and, when it uses SpecAugment, with channel
# augmentation instead of SpecAugment (both together underfit: training accuracy
# stayed near 0.6). Judged on validation clips under the robustness conditions of
# ser.robustness. Settings from bench/explore_models.py (validation actors only).
CHANNEL_AUGMENTATION = {
    "noise_probability": 0.6,
    "band_limit_probability": 0.4,
    "snr_db": (-5.0, 25.0),
}
ROBUST_SUFFIX = "_channel_augmentation"
INSTEAD_SUFFIX = "_channel_augmentation_only"


def robust_variants(spec: ModelSpec) -> list[ModelSpec]:
    """``spec`` trained with channel augmentation, and with it instead of SpecAugment."""
    variants = [
        spec.with_changes(
            f"{spec.name}{ROBUST_SUFFIX}", f"{spec.description}; with channel augmentation "
            "(added white or babble noise, band limits) during training", **CHANNEL_AUGMENTATION,
        )
    ]  # fmt: skip
    if spec.augmentation:
        variants.append(
            spec.with_changes(
                f"{spec.name}{INSTEAD_SUFFIX}", f"{spec.description}; channel augmentation "
                "instead of SpecAugment", augmentation=False, **CHANNEL_AUGMENTATION,
            )
        )  # fmt: skip
    return variants


SPECS = {
    spec.name: spec
    for spec in (BILSTM, *CANDIDATES, *(v for c in CANDIDATES for v in robust_variants(c)))
}
N_SEEDS = 3
QUICK_EPOCHS = 3
QUICK_FOLDS = (1, 2)


@dataclass
class Plan:
    """The settings of one run of notebook 03; quick caps epochs and folds (CI smoke run)."""

    seed: int
    quick: bool = False
    folds: list[int] = field(default_factory=lambda: sorted(EMOBOX_FOLDS))
    seeds: list[int] = field(default_factory=list)
    epoch_cap: int | None = None
    shipped_fold: int = SHIPPED_MODEL_FOLD

    @classmethod
    def resolve(cls, seed: int, quick: bool = False, epochs: int | None = None) -> Plan:
        """Full run: every fold, ``N_SEEDS`` seeds; quick: ``QUICK_FOLDS``, one seed, ``QUICK_EPOCHS``."""
        cap = QUICK_EPOCHS if quick else None
        if epochs:
            cap = min(int(epochs), cap or int(epochs))
        folds = list(QUICK_FOLDS) if quick else sorted(EMOBOX_FOLDS)
        seeds = [int(seed)] if quick else [int(seed) + i for i in range(N_SEEDS)]
        return cls(int(seed), bool(quick), folds, seeds, cap)

    def spec(self, name: str) -> ModelSpec:
        """The spec as this run trains it (epochs capped in a quick run)."""
        spec = SPECS[name]
        return replace(spec, epochs=min(spec.epochs, self.epoch_cap)) if self.epoch_cap else spec

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict) -> Plan:
        return cls(**record)

    @classmethod
    def read(cls, runs_dir: Path) -> Plan:
        """The plan notebook 03 saved next to its runs."""
        return cls.from_dict(artifacts.read_plan(runs_dir))


def describe_plan(plan: dict) -> str:
    """A plan in words, e.g. for the quick-run warnings: epochs cap, folds and seeds."""
    cap = f"at most {plan['epoch_cap']} epochs" if plan.get("epoch_cap") else "full epochs"
    folds, seeds = plan.get("folds", []), plan.get("seeds", [])
    return (
        f"{cap}, fold{'s' if len(folds) != 1 else ''} {', '.join(map(str, folds))}, "
        f"seed{'s' if len(seeds) != 1 else ''} {', '.join(map(str, seeds))}"
    )


def train_runs(
    spec_name: str, protocol: str, index: pd.DataFrame, features: dict, plan: Plan,
    runs_dir: Path, *, seed: int, keep=None,
) -> ProtocolRun:  # fmt: skip
    """Train one spec under one protocol with one seed and save its run."""
    spec = plan.spec(spec_name)
    splits = protocol_splits(index, protocol, plan.seed, folds=plan.folds)
    run = run_protocol(spec, index, features[spec.features].features, splits, seed=seed, keep=keep)
    artifacts.save_run(run, runs_dir)
    return run


def _keep_models(index: pd.DataFrame, plan: Plan, spec: ModelSpec, runs_dir: Path, seed: int,
                 every_fold: bool = False):  # fmt: skip
    """A ``keep`` hook that saves the shipped fold's model of a run beside the runs and, with
    ``every_fold``, every fold's model (for scoring its validation actors later)."""

    def keep(split, trained):
        if split.fold != plan.shipped_fold and not every_fold:
            return
        actors = index["actor"].to_numpy()
        metadata = {
            "model": spec.name, "description": spec.description, "spec": spec.as_dict(),
            "features": asdict(FeatureParams.of(spec.features)),
            "held_out_actors": sorted(int(a) for a in set(actors[split.test])),
            "trained_on_actors": sorted(int(a) for a in set(actors[split.train])),
            "validation_actors": sorted(int(a) for a in set(actors[split.validation])),
            "validation_uar": trained.validation_uar, "seed": seed + split.fold,
            "epochs_trained": len(trained.history["loss"]), "fold": split.fold,
        }  # fmt: skip
        if split.fold == plan.shipped_fold:
            artifacts.save_model(
                trained.model, shipped_fold_dir(runs_dir, spec.name, seed), metadata
            )
        if every_fold:
            artifacts.save_model(
                trained.model, fold_model_dir(runs_dir, spec.name, split.fold), metadata
            )

    return keep


def fold_model_dir(runs_dir: Path, name: str, fold: int) -> Path:
    """Where a candidate's model of each fold waits for the robustness stage (seed ``plan.seed``)."""
    return Path(runs_dir) / name / "fold_models" / f"fold_{fold}"


def shipped_fold_dir(runs_dir: Path, name: str, seed: int) -> Path:
    """Where a run keeps its model of the shipped fold (the candidates to ship)."""
    return Path(runs_dir) / name / "shipped_fold_model" / f"seed_{seed}"


def train_reference(index, features, plan: Plan, runs_dir: Path) -> dict[str, ProtocolRun]:
    """The original BiLSTM under both protocols, seed ``plan.seed``."""
    return {
        protocol: train_runs(BILSTM.name, protocol, index, features, plan, runs_dir, seed=plan.seed)
        for protocol in ("random", "speaker_independent")
    }


def train_candidates(index, features, plan: Plan, runs_dir: Path) -> dict[str, ProtocolRun]:
    """Every candidate on the speaker-independent folds, seed ``plan.seed``."""
    runs = {}
    for spec in CANDIDATES:
        keep = _keep_models(index, plan, plan.spec(spec.name), runs_dir, plan.seed, every_fold=True)
        runs[spec.name] = train_runs(
            spec.name, "speaker_independent", index, features, plan, runs_dir,
            seed=plan.seed, keep=keep,
        )  # fmt: skip
    return runs


def selection_table(runs: dict[str, ProtocolRun]) -> pd.DataFrame:
    """Validation UA (mean ± std over folds, and per fold) of each candidate. No test data."""
    rows = []
    for name, run in runs.items():
        scores = [run.validation_uar[fold] for fold in sorted(run.validation_uar)]
        rows.append({
            "candidate": name, "what changes": SPECS[name].description if name != CNN.name else "—",
            "validation UA": float(np.mean(scores)), "± std over folds": float(np.std(scores)),
            **{f"fold {fold}": run.validation_uar[fold] for fold in sorted(run.validation_uar)},
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("candidate")


SELECTION_RULE = (
    "the candidate with the highest validation UA, averaged over the folds' validation "
    "actors (the first listed wins a tie)"
)


def choose(selection: pd.DataFrame) -> str:
    """The rule: the highest mean validation UA (the first listed wins a tie)."""
    return str(selection["validation UA"].idxmax())


def train_robust_variants(
    chosen: str, index, features, plan: Plan, runs_dir: Path
) -> list[ProtocolRun]:
    """The chosen candidate's channel-augmentation variants, on the speaker-independent folds."""
    runs = []
    for variant in robust_variants(SPECS[chosen]):
        keep = _keep_models(
            index, plan, plan.spec(variant.name), runs_dir, plan.seed, every_fold=True
        )
        runs.append(train_runs(variant.name, "speaker_independent", index, features, plan,
                               runs_dir, seed=plan.seed, keep=keep))  # fmt: skip
    return runs


ROBUSTNESS_FILE = "validation_robustness.csv"


def validation_robustness(
    names: list[str], index: pd.DataFrame, plan: Plan, runs_dir: Path
) -> pd.DataFrame:
    """UA of each fold's model of ``names`` on its *validation* actors under every robustness
    condition (babble from its training actors): one row per model and fold. Saved per run."""
    from ser.predict import ModelPredictor
    from ser.robustness import robustness_table

    actors = index["actor"].to_numpy()
    frames = []
    for name in names:
        rows = []
        for split in protocol_splits(index, "speaker_independent", plan.seed, folds=plan.folds):
            progress(
                f"{name}: fold {split.fold}, validation actors under the robustness conditions"
            )
            model, _, _ = artifacts.load_model(fold_model_dir(runs_dir, name, split.fold))
            predictor = ModelPredictor(model, FeatureParams.of(SPECS[name].features))
            table, _ = robustness_table(
                predictor, index, sorted(set(actors[split.validation])),
                sorted(set(actors[split.train])), seed=plan.seed + split.fold, progress=False,
            )  # fmt: skip
            rows.append({"model": name, "fold": split.fold, **table["UA"].to_dict()})
        frame = pd.DataFrame(rows)
        frame.to_csv(artifacts.run_folder(runs_dir, name, "speaker_independent", plan.seed)
                     / ROBUSTNESS_FILE, index=False, float_format="%.6f")  # fmt: skip
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


DAMAGED_COLUMN = "mean of damaged"
ROBUSTNESS_COLUMN = "score: clean and damaged, half each"
ROBUSTNESS_RULE = (
    "of the chosen candidate and its channel-augmentation variants, the one with the highest "
    "validation score, where clean UA and the mean UA over the damaged conditions count half "
    "each (clean speech stays the first purpose; the first listed wins a tie)"
)


def robustness_selection_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Validation UA per condition (mean over folds), the damaged conditions' mean and the
    score of :data:`ROBUSTNESS_RULE`, one row per model."""
    table = frame.drop(columns="fold").groupby("model", sort=False).mean()
    table[DAMAGED_COLUMN] = table.drop(columns="clean").mean(axis=1)
    table[ROBUSTNESS_COLUMN] = (table["clean"] + table[DAMAGED_COLUMN]) / 2
    return table


def choose_robust(table: pd.DataFrame) -> str:
    """The rule (:data:`ROBUSTNESS_RULE`): the highest score, clean and damaged UA half each
    (the first row wins a tie)."""
    return str(table[ROBUSTNESS_COLUMN].idxmax())


def train_final(chosen: str, index, features, plan: Plan, runs_dir: Path) -> list[ProtocolRun]:
    """The chosen model with the remaining seeds (speaker-independent) and every seed (random)."""
    runs = []
    spec = plan.spec(chosen)
    for seed in plan.seeds:
        if seed != plan.seed:  # plan.seed's speaker-independent run is the candidate run
            keep = _keep_models(index, plan, spec, runs_dir, seed)
            runs.append(train_runs(chosen, "speaker_independent", index, features, plan,
                                   runs_dir, seed=seed, keep=keep))  # fmt: skip
        runs.append(train_runs(chosen, "random", index, features, plan, runs_dir, seed=seed))
    return runs


def average_runs(runs: list[ProtocolRun], part: str = "predictions") -> pd.DataFrame:
    """The seed ensemble's predictions: every clip's class probabilities averaged over runs."""
    frames = [getattr(run, part).sort_values("clip_id", ignore_index=True) for run in runs]
    first = frames[0]
    assert all(f["clip_id"].equals(first["clip_id"]) for f in frames), "runs cover other clips"
    mean = np.mean([f[PROBABILITY_COLUMNS].to_numpy() for f in frames], axis=0)
    averaged = first[["clip_id", "fold", "emotion"]].copy()
    averaged["predicted"] = [EMOTION_NAMES[i] for i in mean.argmax(axis=1)]
    averaged[PROBABILITY_COLUMNS] = mean
    return averaged


def ensemble_table(chosen: str, plan: Plan, runs_dir: Path) -> pd.DataFrame:
    """Validation UA per fold of each seed of the chosen model and of their average (ensemble)."""
    runs = [artifacts.load_run(runs_dir, chosen, "speaker_independent", s) for s in plan.seeds]
    columns = {f"seed {run.seed}": run.validation_uar for run in runs}
    averaged = ProtocolResult.from_predictions(
        average_runs(runs, "validation"), "speaker_independent"
    )
    columns[ENSEMBLE_COLUMN] = {score.fold: score.uar for score in averaged.folds}
    table = pd.DataFrame(columns).rename_axis("fold")
    table.loc["mean"] = table.mean()
    return table


ENSEMBLE_COLUMN = "seed ensemble"
ENSEMBLE_RULE = (
    "ship the seed ensemble if its mean validation UA is higher than the mean of the single "
    "seeds' validation UA"
)


def choose_ensemble(table: pd.DataFrame) -> bool:
    """The rule: the ensemble only if it beats the average single model on validation actors."""
    singles = [c for c in table.columns if c != ENSEMBLE_COLUMN]
    return (
        len(singles) > 1 and table.loc["mean", ENSEMBLE_COLUMN] > table.loc["mean", singles].mean()
    )


def ship(chosen: str, ensemble: bool, plan: Plan, runs_dir: Path, models_dir: Path) -> Path:
    """Write the shipped model into ``models_dir``: the chosen model of the shipped fold
    (seed ``plan.seed``), or the average of its seeds' models when ``ensemble``.

    Beside the ``.keras`` file go its ONNX export (what the predictor runs) and, in
    ``labels.json``, the calibration fitted on the shipped fold's validation actors.
    """
    seeds = plan.seeds if ensemble else [plan.seed]
    members = [artifacts.load_model(shipped_fold_dir(runs_dir, chosen, seed)) for seed in seeds]
    model, _, metadata = members[0]
    if ensemble:
        model = average_models([member[0] for member in members], name=f"ser_{chosen}_ensemble")
        metadata = {
            **metadata, "model": ensemble_name(chosen), "members": len(members),
            "description": f"{metadata['description']}; average of {len(members)} seeds",
            "seed": [member[2]["seed"] for member in members],
            "validation_uar": None,  # each member's own score is in its run folder
        }  # fmt: skip
    runs = [artifacts.load_run(runs_dir, chosen, "speaker_independent", seed) for seed in seeds]
    metadata["calibration"] = fold_calibration(runs, plan.shipped_fold).as_dict()
    artifacts.save_model(model, models_dir, metadata)
    artifacts.export_onnx(model, models_dir)
    return Path(models_dir)


def fold_calibration(runs: list[ProtocolRun], fold: int) -> Calibration:
    """Temperature and "unsure" threshold of one fold's model (the runs' seed average),
    fitted on that fold's validation clips only."""
    return calibrate_fold(average_runs(runs, "validation"), fold)


def ensemble_name(chosen: str) -> str:
    return f"{chosen}_ensemble"


def stopping_table(run: ProtocolRun) -> pd.DataFrame:
    """Validation curves of the BiLSTM per fold: where each stopping rule would have stopped.

    The old rule kept the epoch of lowest validation loss; the new one keeps the
    epoch of highest validation UA. Both read validation actors only.
    """
    rows = []
    for fold, history in sorted(run.histories.items()):
        epochs, uar = history["val_epoch"], history["val_uar"]
        by_loss, best = int(np.argmin(history["val_loss"])), int(np.argmax(uar))
        rows.append({
            "fold": fold, "epochs run": len(history["loss"]),
            "lowest val loss at epoch": int(epochs[by_loss]), "val UA there": uar[by_loss],
            "highest val UA at epoch": int(epochs[best]), "val UA there ": uar[best],
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("fold")


def timing_table(runs: list[ProtocolRun]) -> pd.DataFrame:
    """Epochs and seconds per model, protocol, seed and fold."""
    rows = [
        {"model": run.spec, "protocol": run.protocol, "seed": run.seed, "fold": fold,
         "epochs": len(run.histories[fold]["loss"]), "seconds": round(run.seconds[fold], 1)}
        for run in runs for fold in run.histories
    ]  # fmt: skip
    return pd.DataFrame(rows)


SELECTION_FILE = "selection.json"


def record_selection(
    selection: pd.DataFrame, chosen: str, ensemble: bool, runs_dir: Path,
    robustness: pd.DataFrame | None = None, recipe: str | None = None,
) -> Path:  # fmt: skip
    """Write the selection tables (validation scores only) and the choices, for notebook 04.

    ``chosen`` won on clean validation clips; ``recipe`` (default ``chosen``) won the
    robustness stage (``robustness``: :func:`robustness_selection_table`) and is shipped.
    """
    rows = [
        {"candidate": name, "description": SPECS[name].description,
         "validation_uar_mean": float(row["validation UA"]),
         "validation_uar_std": float(row["± std over folds"])}
        for name, row in selection.iterrows()
    ]  # fmt: skip
    record = {"chosen": recipe or chosen, "candidate": chosen, "rule": SELECTION_RULE,
              "candidates": rows, "ensemble": bool(ensemble), "ensemble_rule": ENSEMBLE_RULE}  # fmt: skip
    if robustness is not None:
        record["robustness_rule"] = ROBUSTNESS_RULE
        record["robustness"] = [
            {"model": name, **{k: float(v) for k, v in row.items()}}
            for name, row in robustness.iterrows()
        ]  # fmt: skip
    return artifacts.write_record(record, runs_dir, SELECTION_FILE)


def read_selection(runs_dir: Path) -> dict:
    return artifacts.read_record(runs_dir, SELECTION_FILE)


def assemble_metrics(
    index: pd.DataFrame, features: dict, plan: Plan, runs_dir: Path, models_dir: Path
) -> tuple[Metrics, dict[str, pd.DataFrame]]:
    """Score every saved run and the baselines; return the metrics and the predictions by model.

    Predictions are keyed ``"<model>/<protocol>"`` (the plan's seed), for the
    per-class tables, confusion matrices and group accuracies.
    """
    actors = dict(zip(index["clip_id"], index["actor"].astype(int), strict=True))
    selection = read_selection(runs_dir)
    chosen = selection["chosen"]
    predictions: dict[str, pd.DataFrame] = {}

    runs: dict[tuple[str, str, int], ProtocolRun] = {}  # (model, protocol, seed), each read once

    def result(name: str, protocol: str, seed: int) -> ProtocolResult:
        run = runs[name, protocol, seed] = artifacts.load_run(runs_dir, name, protocol, seed)
        if seed == plan.seed:
            predictions[f"{name}/{protocol}"] = run.predictions
        return ProtocolResult.from_predictions(run.predictions, protocol, actors)

    models: dict[str, ModelResult] = {}
    protocols = ("speaker_independent", "random")
    by_seed = {p: [result(chosen, p, seed) for seed in plan.seeds] for p in protocols}
    spreads = {p: SeedSpread.from_results(plan.seeds, by_seed[p]) for p in protocols}
    single = {p: by_seed[p][plan.seeds.index(plan.seed)] for p in protocols}
    if selection["ensemble"]:
        ours = ensemble_name(chosen)
        for p in protocols:
            predictions[f"{ours}/{p}"] = average_runs([runs[chosen, p, s] for s in plan.seeds])
        models[ours] = ModelResult(
            ours, "ours", f"{SPECS[chosen].summary()}; class probabilities averaged over "
            f"{len(plan.seeds)} seeds",
            {p: ProtocolResult.from_predictions(predictions[f"{ours}/{p}"], p, actors) for p in protocols},
            spreads,
        )  # fmt: skip
        models[chosen] = ModelResult(
            chosen, "ablation", f"a single model (seed {plan.seed}) instead of the seed ensemble",
            single,
        )  # fmt: skip
    else:
        ours = chosen
        models[chosen] = ModelResult(chosen, "ours", SPECS[chosen].summary(), single, spreads)
    tried = [*CANDIDATES, *robust_variants(SPECS[selection.get("candidate", chosen)])]
    for spec in tried:
        ran = artifacts.run_folder(runs_dir, spec.name, "speaker_independent", plan.seed).exists()
        if spec.name != chosen and ran:
            models[spec.name] = ModelResult(
                spec.name, "ablation",
                f"the reference design: {spec.summary()}" if spec.name == CNN.name else spec.description,
                {"speaker_independent": result(spec.name, "speaker_independent", plan.seed)},
            )  # fmt: skip
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
        owners = [name] if seed == plan.seed else []
        if name == chosen and ours != chosen:
            owners.append(ours)  # the ensemble costs every seed's training
        for owner in owners:
            by_protocol = models[owner].notes.setdefault("training_seconds", {})
            by_protocol[protocol] = by_protocol.get(protocol, 0.0) + spent
    shipped = evaluate_shipped_model(index, features, models_dir)
    metrics = Metrics(
        models=models, ours=ours, chosen=chosen, reference=BILSTM.name,
        selection=selection["candidates"],
        shipped=shipped, plan=plan.as_dict(), versions=versions(),
        candidate=selection.get("candidate", chosen),
        robustness_selection=selection.get("robustness", []),
    )  # fmt: skip
    return metrics, predictions


def our_runs(plan: Plan, runs_dir: Path) -> list[ProtocolRun]:
    """The speaker-independent runs behind our model: every seed if it is the ensemble."""
    selection = read_selection(runs_dir)
    seeds = plan.seeds if selection["ensemble"] else [plan.seed]
    return [
        artifacts.load_run(runs_dir, selection["chosen"], "speaker_independent", s) for s in seeds
    ]


def calibration_evaluation(plan: Plan, runs_dir: Path):
    """Our model's calibration on held-out actors: each fold's temperature and "unsure"
    threshold fitted on that fold's validation actors (see :func:`ser.calibration.evaluate_calibration`)."""
    from ser.calibration import evaluate_calibration

    runs = our_runs(plan, runs_dir)
    return evaluate_calibration(average_runs(runs, "validation"), average_runs(runs, "predictions"))


def robustness_evaluation(
    index: pd.DataFrame, plan: Plan, runs_dir: Path, models_dir: Path
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """UA per robustness condition on the shipped fold's held-out actors.

    Columns: the shipped model (ONNX, through the demo's predictor) and, when the
    robustness stage chose channel augmentation, the single models (seed
    ``plan.seed``) before and after it. Returns the UA table and each model's table.
    """
    from ser.predict import ModelPredictor, Predictor
    from ser.robustness import robustness_table

    selection = read_selection(runs_dir)
    shipped = Predictor(models_dir)
    predictors = {f"shipped: {shipped.metadata['model']}": shipped}
    if selection.get("candidate", selection["chosen"]) != selection["chosen"]:
        for when, name in (("before", selection["candidate"]), ("after", selection["chosen"])):
            model, _, _ = artifacts.load_model(shipped_fold_dir(runs_dir, name, plan.seed))
            predictors[f"{when}: {name} (seed {plan.seed})"] = ModelPredictor(
                model, FeatureParams.of(SPECS[name].features)
            )
    held_out, trained_on = (
        shipped.metadata["held_out_actors"],
        shipped.metadata["trained_on_actors"],
    )
    tables = {}
    for label, predictor in predictors.items():
        progress(f"robustness on held-out actors: {label}")
        tables[label], _ = robustness_table(
            predictor, index, held_out, trained_on, seed=plan.seed, progress=False
        )
    return pd.DataFrame({label: table["UA"] for label, table in tables.items()}), tables
