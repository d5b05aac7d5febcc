"""What notebook 03 runs, and the decisions it makes: trainings, selection, shipping.

1. The original BiLSTM under both protocols (the reference row).
2. The from-scratch CNN's recipe under both protocols, scored on each fold's
   *validation* actors (two training actors per fold); test actors play no part
   in any choice. Its fold-1 model is written for notebook 04's checks.
3. The pretrained-encoder family (:mod:`ser.training.encoder_family`), whose selection
   table also holds the CNN's validation row: the winner ships.

Every training goes through the training cache (:mod:`ser.training.training_cache`):
a training whose key is already there is reused, so a re-run trains only what
changed.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser.data.splits import protocol_splits
from ser.environment import cpu_name, git_commit
from ser.features.extraction import FeatureParams
from ser.models import artifacts
from ser.models.architectures import average_models
from ser.models.calibration import Calibration, calibrate_fold
from ser.scoring import paired_standard_error, ua_per_fold
from ser.training.fitting import progress, run_protocol
from ser.training.plan import BILSTM, CNN, CNN_RECIPE, ENSEMBLE_SUFFIX, SPECS, Plan  # fmt: skip
from ser.training.runs import ProtocolRun, average_runs, clear_runs, save_run, write_trainings
from ser.training.training_cache import Training, TrainingCache, describe_trainings


@dataclass
class Session:
    """One run of notebook 03: its data, plan and cache, the runs it read and its stage times."""

    index: pd.DataFrame
    features: dict
    plan: Plan
    runs_dir: Path
    cache: TrainingCache
    runs: dict[tuple[str, str, int], ProtocolRun] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    banks: dict[tuple[str, int], np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def begin(cls, index, features, plan: Plan, runs_dir: Path, cache: TrainingCache | None = None):
        """Start a run: empty ``runs_dir`` (it will hold exactly what this run reads) and
        record the plan there."""
        clear_runs(runs_dir)
        artifacts.write_plan(plan.as_dict(), runs_dir)
        return cls(index, features, plan, Path(runs_dir), cache or TrainingCache())

    def train(self, spec_name: str, protocol: str, seed: int) -> ProtocolRun:
        """One spec under one protocol with one seed (each fold from the cache or trained), saved."""
        if (spec_name, protocol, seed) in self.runs:
            return self.runs[spec_name, protocol, seed]
        spec = self.plan.spec(spec_name)
        splits = protocol_splits(self.index, protocol, self.plan.seed, folds=self.plan.folds)
        run = run_protocol(
            spec, self.index, self.inputs(spec), splits, seed=seed, cache=self.cache,
            epoch_cap=self.plan.epoch_cap,
        )  # fmt: skip
        save_run(run, self.runs_dir)
        self.runs[spec_name, protocol, seed] = run
        return run

    def inputs(self, spec) -> np.ndarray:
        """What ``spec`` trains on: its features, or with ``waveform_versions`` the bank of
        each clip's clean features and augmented versions (:func:`ser.features.waveform_bank.load_bank`,
        computed once and cached)."""
        clean = self.features[spec.features].features
        if not spec.waveform_versions:
            return clean
        key = (spec.features, spec.waveform_versions)
        if key not in self.banks:
            from ser.features.waveform_bank import load_bank

            self.banks[key] = load_bank(
                self.index, FeatureParams.of(spec.features), clean, spec.waveform_versions
            )
        return self.banks[key]

    def training(self, spec_name: str, fold: int, seed: int) -> Training:
        """The cache entry of one fold of a speaker-independent run (for its model)."""
        run = self.train(spec_name, "speaker_independent", seed)
        return self.cache.entry(run.trainings[fold]["key"])

    @contextlib.contextmanager
    def stage(self, name: str):
        """Time a stage of the notebook (shown per stage at its end and on the index page)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[name] = self.stage_seconds.get(name, 0.0) + (
                time.perf_counter() - start
            )

    def finish(self) -> dict:
        """Write ``trainings.json``: every training the run read, what it reused and ran, and
        the stage times. Returns the summary (:func:`ser.training.training_cache.describe_trainings`)."""
        records = [
            {"model": name, "protocol": protocol, "seed": seed, "fold": fold, **record}
            for (name, protocol, seed), run in self.runs.items()
            for fold, record in run.trainings.items()
        ]  # fmt: skip
        summary = describe_trainings(records)
        payload = {"summary": summary, "commit": git_commit(), "cpu": cpu_name(),
                   "stage_seconds": self.stage_seconds, "trainings": records}  # fmt: skip
        write_trainings(payload, self.runs_dir)
        return summary


def stage_table(session: Session) -> pd.DataFrame:
    """Seconds per stage of the notebook."""
    table = pd.DataFrame({"seconds": session.stage_seconds}).rename_axis("stage")
    table.loc["total"] = table["seconds"].sum()
    return table.round(1)


def train_reference(session: Session) -> dict[str, ProtocolRun]:
    """The original BiLSTM under both protocols, seed ``plan.seed``."""
    return {
        protocol: session.train(BILSTM.name, protocol, session.plan.seed)
        for protocol in ("random", "speaker_independent")
    }


def train_cnn(session: Session) -> dict[str, ProtocolRun]:
    """The from-scratch CNN's recipe (:data:`ser.training.plan.CNN_RECIPE`) under both protocols, with
    the plan's seeds: ``{protocol: run of seed plan.seed}``."""
    for protocol in ("speaker_independent", "random"):
        for seed in session.plan.seeds_for(protocol):
            session.train(CNN_RECIPE.name, protocol, seed)
    return {
        protocol: session.train(CNN_RECIPE.name, protocol, session.plan.seed)
        for protocol in ("speaker_independent", "random")
    }


def selection_table(runs: dict[str, ProtocolRun]) -> pd.DataFrame:
    """Validation UA (mean ± std over folds, and per fold) of each candidate, and how far
    each trails the best against the noise of the judge (:func:`with_noise`). No test data."""
    rows, per_fold = [], {}
    for name, run in runs.items():
        folds = sorted(run.validation_uar)
        per_fold[name] = [run.validation_uar[fold] for fold in folds]
        rows.append({
            "candidate": name, "what changes": SPECS[name].description if name != CNN.name else "—",
            "validation UA": float(np.mean(per_fold[name])),
            "± std over folds": float(np.std(per_fold[name])),
            **{f"fold {fold}": run.validation_uar[fold] for fold in folds},
        })  # fmt: skip
    return with_noise(pd.DataFrame(rows).set_index("candidate"), per_fold, "validation UA")


BEHIND = "behind the best"
NOISE = "noise (1 SE)"
INGREDIENTS = "ingredients"
NOISE_RULE = (
    "unless a simpler candidate (fewer training ingredients: SpecAugment, channel "
    "augmentation, longer training) trails it by no more than the noise of the judge, one "
    "standard error of their paired differences (over folds; over clips for the random "
    "split); then the simplest such candidate wins (the first listed among equals)"
)
SELECTION_RULE = (
    "the candidate with the highest validation UA, averaged over the folds' validation "
    f"actors, {NOISE_RULE}"
)


def with_noise(table: pd.DataFrame, paired: dict[str, list], score: str) -> pd.DataFrame:
    """``table`` (one row per candidate, ``score`` its mean) with how far each candidate
    trails the best, the standard error of their paired differences (``paired``: each
    candidate's scores on the same folds or clips) and its ingredients."""
    best = str(table[score].idxmax())
    table = table.copy()
    table[BEHIND] = table.loc[best, score] - table[score]
    table[NOISE] = [
        paired_standard_error(paired[best], paired[name]) if name != best else 0.0
        for name in table.index
    ]
    if INGREDIENTS not in table:  # a table of specs; other candidates bring their own
        table[INGREDIENTS] = [SPECS[name].ingredients for name in table.index]
    return table


def choose(table: pd.DataFrame, score: str = "validation UA") -> str:
    """The rule of every choice: the highest ``score`` wins (the first listed wins a tie),
    unless a simpler candidate trails it by no more than the noise (see :data:`NOISE_RULE`)."""
    best = str(table[score].idxmax())
    simpler = table[
        (table[INGREDIENTS] < table.loc[best, INGREDIENTS]) & (table[BEHIND] <= table[NOISE])
    ]
    if simpler.empty:
        return best
    return str(simpler.sort_values(INGREDIENTS, kind="stable").index[0])


def ensemble_table(
    recipe: str, session: Session, protocol: str = "speaker_independent"
) -> pd.DataFrame:
    """Validation UA per fold of each seed of the recipe and of their average (ensemble)."""
    runs = [session.train(recipe, protocol, s) for s in session.plan.seeds_for(protocol)]
    columns = {f"seed {run.seed}": run.validation_uar for run in runs}
    columns[ENSEMBLE_COLUMN] = ua_per_fold(average_runs(runs, "validation"))
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


def ship(recipe: str, ensemble: bool, session: Session, models_dir: Path) -> Path:
    """Write the shipped model into ``models_dir``: the recipe's model of the shipped fold
    (seed ``plan.seed``), or the average of its seeds' models when ``ensemble``.

    Beside the ``.keras`` file go its ONNX export (what the predictor runs) and, in
    ``labels.json``, the calibration fitted on the shipped fold's validation actors.
    """
    plan, spec = session.plan, session.plan.spec(recipe)
    seeds = plan.seeds if ensemble else [plan.seed]
    fold = plan.shipped_fold
    members = [session.training(recipe, fold, seed) for seed in seeds]
    (split,) = protocol_splits(session.index, "speaker_independent", plan.seed, folds=[fold])
    actors = session.index["actor"].to_numpy()
    metadata = {
        "model": spec.name, "description": spec.description, "spec": spec.as_dict(),
        "features": asdict(FeatureParams.of(spec.features)),
        "held_out_actors": sorted(int(a) for a in set(actors[split.test])),
        "trained_on_actors": sorted(int(a) for a in set(actors[split.train])),
        "validation_actors": sorted(int(a) for a in set(actors[split.validation])),
        "validation_uar": members[0].validation_uar, "seed": plan.seed + fold,
        "epochs_trained": len(members[0].history["loss"]), "fold": fold,
        "trainings": [member.key for member in members],
    }  # fmt: skip
    if ensemble:
        metadata = {
            **metadata, "model": ensemble_name(recipe), "members": len(members),
            "description": f"{spec.description}; average of {len(members)} seeds",
            "seed": [seed + fold for seed in seeds],
            "validation_uar": None,  # each member's own score is in its run folder
        }  # fmt: skip
    runs = [session.train(recipe, "speaker_independent", seed) for seed in seeds]
    metadata["calibration"] = fold_calibration(runs, fold).as_dict()
    if _already_shipped(models_dir, metadata):
        progress(f"{models_dir}: the shipped model is already these trainings; left as it is")
        return Path(models_dir)
    model = members[0].load_model()
    if ensemble:
        model = average_models([m.load_model() for m in members], name=f"ser_{recipe}_ensemble")
    artifacts.save_model(model, models_dir, metadata)
    artifacts.export_onnx(model, models_dir)
    return Path(models_dir)


def _already_shipped(models_dir: Path, metadata: dict) -> bool:
    """Whether ``models_dir`` holds the model of exactly these trainings and metadata (a
    re-run that trained nothing then leaves the committed files byte for byte)."""
    folder = Path(models_dir)
    if not all((folder / name).exists() for name in (artifacts.MODEL_FILE, artifacts.ONNX_FILE,
                                                      artifacts.LABELS_FILE)):  # fmt: skip
        return False
    shipped = artifacts.read_metadata(folder)
    shipped.pop("index_to_emotion", None)
    return shipped == json.loads(json.dumps(metadata))


def fold_calibration(runs: list[ProtocolRun], fold: int) -> Calibration:
    """Temperature and "unsure" threshold of one fold's model (the runs' seed average),
    fitted on that fold's validation clips only."""
    return calibrate_fold(average_runs(runs, "validation"), fold)


def ensemble_name(recipe: str) -> str:
    return f"{recipe}{ENSEMBLE_SUFFIX}"


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


def record_selection(selection: pd.DataFrame, recipe: str, ensemble: bool, runs_dir: Path) -> Path:
    """Write the CNN's validation table (validation scores only) and its recipe, for notebook 04.

    ``ensemble`` is whether its seeds are averaged (:data:`ENSEMBLE_RULE`).
    """
    rows = [
        {"candidate": name, "description": SPECS[name].description,
         "validation_uar_mean": float(row["validation UA"]),
         "validation_uar_std": float(row["± std over folds"])}
        for name, row in selection.iterrows()
    ]  # fmt: skip
    record = {"recipe": recipe, "clean_choice": recipe, "rule": SELECTION_RULE,
              "candidates": rows, "ensemble": bool(ensemble), "ensemble_rule": ENSEMBLE_RULE}  # fmt: skip
    return artifacts.write_record(record, runs_dir, SELECTION_FILE)


def read_selection(runs_dir: Path) -> dict:
    return artifacts.read_record(runs_dir, SELECTION_FILE)
