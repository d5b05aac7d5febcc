"""One run of notebook 03: its trainings, each through the training cache, and its stage times.

1. The original BiLSTM under both protocols (the reference row).
2. The from-scratch CNN's recipe under both protocols, scored on each fold's
   *validation* actors; test actors play no part in any choice.
3. The pretrained-encoder family (:mod:`ser.training.encoder_family`), whose selection
   table also holds the CNN's validation row: the winner ships.

A training whose key is already in the cache (:mod:`ser.training.training_cache`) is
reused, so a re-run trains only what changed.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser.data.splits import protocol_splits
from ser.environment import cpu_name, git_commit
from ser.features.extraction import FeatureParams
from ser.models import artifacts
from ser.training.fitting import run_protocol
from ser.training.plan import BILSTM, CNN_RECIPE, Plan  # fmt: skip
from ser.training.runs import ProtocolRun, clear_runs, save_run, write_trainings
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
    """The from-scratch CNN's recipe (:data:`ser.training.plan.CNN_RECIPE`) under both protocols,
    seed ``plan.seed``."""
    return {
        protocol: session.train(CNN_RECIPE.name, protocol, session.plan.seed)
        for protocol in ("speaker_independent", "random")
    }


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
