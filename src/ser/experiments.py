"""What notebook 03 runs, and the decisions it makes: trainings, selection, shipping.

1. The original BiLSTM under both protocols (the reference row).
2. Every candidate of our model on the six speaker-independent folds. Each is
   scored on its folds' *validation* actors (two training actors per fold).
3. The winner on clean validation clips (the highest mean validation UA); test
   actors play no part in the choice.
4. The robustness stage: the winner with and without channel augmentation,
   judged on validation actors under damage. Its winner is the recipe.
5. The recipe again with more seeds, and under the random split; the seed
   ensemble if validation actors prefer it. Its fold-1 model ships.

Every training goes through the training cache (:mod:`ser.training_cache`):
a training whose key is already there is reused, so a re-run trains only what
changed. Test predictions of every candidate are kept too: notebook 04 shows
them as an ablation, after the choice.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser import artifacts
from ser.architectures import average_models
from ser.calibration import Calibration, calibrate_fold
from ser.environment import cpu_name, git_commit
from ser.features import FeatureParams
from ser.plan import (
    BILSTM,
    CANDIDATES,
    CNN,
    ENSEMBLE_SUFFIX,
    SPECS,
    Plan,
    random_split_candidates,
    robust_variants,
)  # fmt: skip
from ser.runs import ProtocolRun, average_runs, clear_runs, save_run, write_trainings
from ser.scoring import paired_standard_error, ua_per_fold
from ser.splits import protocol_splits
from ser.training import progress, run_protocol
from ser.training_cache import Training, TrainingCache, describe_trainings


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
        each clip's clean features and augmented versions (:func:`ser.augmentation.load_bank`,
        computed once and cached)."""
        clean = self.features[spec.features].features
        if not spec.waveform_versions:
            return clean
        key = (spec.features, spec.waveform_versions)
        if key not in self.banks:
            from ser.augmentation import load_bank

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
        the stage times. Returns the summary (:func:`ser.training_cache.describe_trainings`)."""
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


def train_candidates(session: Session) -> dict[str, ProtocolRun]:
    """Every candidate on the speaker-independent folds, seed ``plan.seed``."""
    return {
        spec.name: session.train(spec.name, "speaker_independent", session.plan.seed)
        for spec in CANDIDATES
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


def train_robust_variants(clean_choice: str, session: Session) -> list[ProtocolRun]:
    """The clean choice's augmentation variants (:func:`ser.plan.robust_variants`), on the
    speaker-independent folds."""
    return [
        session.train(variant.name, "speaker_independent", session.plan.seed)
        for variant in robust_variants(SPECS[clean_choice])
    ]


# Bump when the robustness conditions or how they are scored change (ser.robustness).
ROBUSTNESS_SCORES_VERSION = 2  # 2: each clip damaged by its own seeded generator


def validation_robustness(names: list[str], session: Session) -> pd.DataFrame:
    """UA of each fold's model of ``names`` on its *validation* actors under every robustness
    condition (babble from its training actors): one row per model and fold.

    Each fold's validation clips are damaged once and every model is scored on them; the
    scores are kept in each training's cache entry, so a re-run with the same trainings
    scores nothing.
    """
    index, plan = session.index, session.plan
    actors = index["actor"].to_numpy()
    rows = []
    for split in protocol_splits(index, "speaker_independent", plan.seed, folds=plan.folds):
        ingredients = {
            "validation_actors": sorted(int(a) for a in set(actors[split.validation])),
            "babble_actors": sorted(int(a) for a in set(actors[split.train])),
            "seed": plan.seed + split.fold, "version": ROBUSTNESS_SCORES_VERSION,
        }  # fmt: skip
        damaged = {}  # feature kind -> the fold's damaged validation clips, made when needed
        for name in names:
            training = session.training(name, split.fold, plan.seed)
            scores = session.cache.derived(
                training.key, "validation_robustness", ingredients,
                functools.partial(_robustness_scores, name, training, index, ingredients, damaged),
            )  # fmt: skip
            rows.append({"model": name, "fold": split.fold, **scores.iloc[0].to_dict()})
    order = {name: i for i, name in enumerate(names)}
    return pd.DataFrame(rows).sort_values(["model", "fold"], key=lambda c: c.map(order)
                                          if c.name == "model" else c, ignore_index=True)  # fmt: skip


def _robustness_scores(
    name: str, training: Training, index, ingredients: dict, damaged: dict
) -> pd.DataFrame:  # fmt: skip
    """One training's validation UA under every robustness condition, as a one-row table."""
    from ser.predict import ModelPredictor
    from ser.robustness import damage_clips, score

    spec = SPECS[name]
    predictor = ModelPredictor(training.load_model(), FeatureParams.of(spec.features))
    if spec.features not in damaged:
        progress(f"validation actors {ingredients['validation_actors']} under the robustness "
                 "conditions")  # fmt: skip
        damaged[spec.features] = damage_clips(
            predictor, index, ingredients["validation_actors"], ingredients["babble_actors"],
            seed=ingredients["seed"], progress=False,
        )  # fmt: skip
    table, _ = score(predictor, damaged[spec.features])
    return table[["UA"]].T.reset_index(drop=True)


DAMAGED_COLUMN = "mean of damaged"
ROBUSTNESS_COLUMN = "score: clean and damaged, half each"
ROBUSTNESS_RULE = (
    "of the chosen candidate and its augmentation variants, the one with the highest "
    "validation score, where clean UA and the mean UA over the damaged conditions count half "
    f"each (clean speech stays the first purpose), {NOISE_RULE}"
)


def robustness_selection_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Validation UA per condition (mean over folds), the damaged conditions' mean and the
    score of :data:`ROBUSTNESS_RULE`, one row per model, with the noise of the judge."""
    scored = frame.copy()
    scored[DAMAGED_COLUMN] = scored.drop(columns=["model", "fold", "clean"]).mean(axis=1)
    scored[ROBUSTNESS_COLUMN] = (scored["clean"] + scored[DAMAGED_COLUMN]) / 2
    table = scored.drop(columns="fold").groupby("model", sort=False).mean()
    per_fold = {
        name: part.sort_values("fold")[ROBUSTNESS_COLUMN].tolist()
        for name, part in scored.groupby("model", sort=False)
    }
    return with_noise(table, per_fold, ROBUSTNESS_COLUMN)


def choose_robust(table: pd.DataFrame) -> str:
    """The rule (:data:`ROBUSTNESS_RULE`): the highest score, clean and damaged UA half each,
    unless the simpler model is within the noise."""
    return choose(table, ROBUSTNESS_COLUMN)


def train_final(recipe: str, session: Session) -> list[ProtocolRun]:
    """The recipe with every seed on the speaker-independent folds (``plan.seed``'s run is
    the candidate run, reused)."""
    return [session.train(recipe, "speaker_independent", seed) for seed in session.plan.seeds]


RANDOM_RULE = (
    "of the speaker-independent recipe, the clean candidates and the clean candidates trained "
    "longer, the one with the highest UA on the random split's validation clips (10% of its "
    f"training clips, stratified), seed `seed`, {NOISE_RULE}"
)


def train_random_candidates(recipe: str, session: Session) -> dict[str, ProtocolRun]:
    """The random split's candidates (:func:`ser.plan.random_split_candidates`), seed ``plan.seed``."""
    return {
        name: session.train(name, "random", session.plan.seed)
        for name in random_split_candidates(recipe)
    }


def random_selection_table(runs: dict[str, ProtocolRun]) -> pd.DataFrame:
    """Validation UA of each random-split candidate (its validation clips only; no test data)."""
    rows = [
        {"candidate": name, "what changes": SPECS[name].description or "—",
         "validation UA": float(run.validation_uar[0]),
         "validation clips": int(len(run.validation))}
        for name, run in runs.items()
    ]  # fmt: skip
    per_clip = {  # right or wrong on each validation clip, in one clip order for every candidate
        name: run.validation.sort_values("clip_id").eval("emotion == predicted").astype(float)
        for name, run in runs.items()
    }  # fmt: skip
    return with_noise(pd.DataFrame(rows).set_index("candidate"), per_clip, "validation UA")


def train_random_final(random_recipe: str, session: Session) -> list[ProtocolRun]:
    """The random split's choice with every seed (``plan.seed``'s run is the candidate run)."""
    return [
        session.train(random_recipe, "random", seed) for seed in session.plan.seeds_for("random")
    ]


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


def record_selection(
    selection: pd.DataFrame, clean_choice: str, ensemble: bool, runs_dir: Path,
    robustness: pd.DataFrame | None = None, recipe: str | None = None,
    random_selection: pd.DataFrame | None = None, random_ensemble: bool = False,
) -> Path:  # fmt: skip
    """Write the selection tables (validation scores only) and the choices, for notebook 04.

    ``clean_choice`` won on clean validation clips; ``recipe`` (default ``clean_choice``)
    won the robustness stage (``robustness``: :func:`robustness_selection_table`): it is
    what our model is trained with, and what ships. ``random_selection``
    (:func:`random_selection_table`) is the random split's own choice, and
    ``random_ensemble`` whether its seeds are averaged (:data:`ENSEMBLE_RULE`, on its
    validation clips).
    """
    rows = [
        {"candidate": name, "description": SPECS[name].description,
         "validation_uar_mean": float(row["validation UA"]),
         "validation_uar_std": float(row["± std over folds"])}
        for name, row in selection.iterrows()
    ]  # fmt: skip
    record = {"recipe": recipe or clean_choice, "clean_choice": clean_choice,
              "rule": SELECTION_RULE, "candidates": rows, "ensemble": bool(ensemble),
              "ensemble_rule": ENSEMBLE_RULE}  # fmt: skip
    if robustness is not None:
        record["robustness_rule"] = ROBUSTNESS_RULE
        record["robustness"] = [
            {"model": name, **{k: float(v) for k, v in row.items()}}
            for name, row in robustness.iterrows()
        ]  # fmt: skip
    if random_selection is not None:
        record["random_recipe"] = random_recipe = choose(random_selection)
        record["random_rule"] = RANDOM_RULE
        record["random_ensemble"] = bool(random_ensemble)
        record["random_candidates"] = [
            {"candidate": name, "validation_uar": float(row["validation UA"]),
             "behind_the_best": float(row[BEHIND]), "noise": float(row[NOISE]),
             "ingredients": int(row[INGREDIENTS]), "chosen": name == random_recipe}
            for name, row in random_selection.iterrows()
        ]  # fmt: skip
    return artifacts.write_record(record, runs_dir, SELECTION_FILE)


def read_selection(runs_dir: Path) -> dict:
    return artifacts.read_record(runs_dir, SELECTION_FILE)
