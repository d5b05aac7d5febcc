"""The pretrained-encoder family: Whisper's frozen encoder and a small head, trained and chosen
like every model of the report (validation actors decide, test actors are only scored), and
the family choice against the from-scratch CNN.

The encoder's states are extracted once per clip and cached (:mod:`ser.features.encoder_states`), so
a head trains in seconds. Each candidate is scored on the same splits as the CNN: the six
EmoBox folds (validation actors carved from the training actors) and the random split. The
winner of the family table ships as one ONNX graph (:mod:`ser.inference.encoder_model`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES
from ser.data.splits import Split, protocol_splits
from ser.features.encoder_states import BANK_VERSIONS, EncoderData
from ser.models.heads import HEADS, FittedHead, fit_head
from ser.scoring import unweighted_accuracy
from ser.training.fitting import progress
from ser.training.runs import PROBABILITY_COLUMNS, prediction_frame

PROTOCOLS = ("speaker_independent", "random")
ENCODER_RUNS = "encoder"  # folder under models/runs/
FAMILY_FILE = "family_selection.json"


@dataclass(frozen=True)
class EncoderCandidate:
    """A head on the encoder's pooled states, and what it trains on."""

    name: str
    head: str  # a name of ser.models.heads.HEADS
    bank_versions: int
    description: str
    ingredients: int  # what the choice counts as simpler: fewer layers read, no bank

    def summary(self) -> str:
        return f"{self.description} ({HEADS[self.head]})"


CANDIDATES: tuple[EncoderCandidate, ...] = (
    EncoderCandidate("whisper_last_layer", "linear_layer4", 0,
                     "Whisper's last layer, mean and std over time, linear head", 0),
    EncoderCandidate("whisper_layer_2", "linear_layer2", 0,
                     "Whisper's second block, mean and std over time, linear head", 0),
    EncoderCandidate("whisper_all_layers", "linear_all", 0,
                     "every layer of Whisper's encoder, mean and std over time, linear head", 1),
    EncoderCandidate("whisper_all_layers_bank", "linear_all", BANK_VERSIONS,
                     "every layer, linear head, trained on each clip and "
                     f"{BANK_VERSIONS} waveform-bank versions of it (room, microphone, level, "
                     "noise)", 2),
)  # fmt: skip
BY_NAME = {candidate.name: candidate for candidate in CANDIDATES}
ENSEMBLE = "ensemble: the best encoder head and the CNN"
FAMILY_RULE = (
    "the candidate with the highest validation UA, averaged over the folds' validation actors, "
    "unless a simpler one (fewer encoder layers, no waveform bank; the CNN and the ensemble "
    "count as the most involved) trails it by no more than one standard error of their paired "
    "differences over folds; TESS is shown as a guide to generalisation, not used by the rule"
)


@dataclass
class EncoderRun:
    """One candidate under one protocol: validation and test predictions, fold by fold."""

    name: str
    protocol: str
    validation: pd.DataFrame  # ser.training.runs.prediction_frame of the validation clips
    predictions: pd.DataFrame  # the same of the test clips (out of fold)
    tess_uar: dict[int, float] = field(default_factory=dict)  # fold -> UA on TESS
    tess_answers: dict[int, list[str]] = field(default_factory=dict)  # fold -> its head's answers

    @property
    def validation_uar(self) -> dict[int, float]:
        return {
            int(fold): unweighted_accuracy(part["emotion"], part["predicted"])
            for fold, part in self.validation.groupby("fold")
        }


def fit_on(candidate: EncoderCandidate, data: EncoderData, labels, rows, seed: int) -> FittedHead:
    """The candidate's head on the clips ``rows`` (and their bank versions, if it uses them)."""
    x, y = data.states[rows], labels[rows]
    if candidate.bank_versions:
        bank = data.bank[rows, : candidate.bank_versions]
        x = np.concatenate([x, bank.reshape(-1, *data.states.shape[1:])])
        y = np.concatenate([y, np.repeat(y, candidate.bank_versions)])
    return fit_head(candidate.head, x, y, classes=EMOTION_NAMES, seed=seed)


def run_candidate(
    candidate: EncoderCandidate, index: pd.DataFrame, data: EncoderData, splits: list[Split],
    seed: int,
) -> EncoderRun:  # fmt: skip
    """Train the candidate on each split's training clips; predict its validation and test clips."""
    labels = index["emotion"].to_numpy()
    validation, test, tess_uar, tess = [], [], {}, {}
    for split in splits:
        head = fit_on(candidate, data, labels, split.train, seed + split.fold)
        for positions, frames in ((split.validation, validation), (split.test, test)):
            frames.append(prediction_frame(index, positions, split.fold,
                                           head.predict_proba(data.states[positions])))  # fmt: skip
        if data.tess_states is not None and split.protocol == "speaker_independent":
            tess[split.fold] = tess_answers(head.predict_proba(data.tess_states))
            tess_uar[split.fold] = unweighted_accuracy(data.tess_labels, tess[split.fold])
    return EncoderRun(candidate.name, splits[0].protocol, pd.concat(validation, ignore_index=True),
                      pd.concat(test, ignore_index=True), tess_uar, tess)  # fmt: skip


def tess_answers(probabilities: np.ndarray) -> list[str]:
    """The most probable of TESS's seven emotions (RAVDESS's eight without calm)."""
    from ser.data.tess import seven_way

    return seven_way(probabilities, list(EMOTION_NAMES))


def train_candidates(
    index: pd.DataFrame, data: EncoderData, plan
) -> dict[str, dict[str, EncoderRun]]:
    """Every candidate (the bank's only with bank states) under both protocols: ``{name:
    {protocol: run}}``."""
    runs = {}
    for candidate in CANDIDATES:
        if candidate.bank_versions and data.bank is None:
            continue
        progress(f"encoder head {candidate.name}")
        runs[candidate.name] = {
            protocol: run_candidate(
                candidate, index, data,
                protocol_splits(index, protocol, plan.seed, folds=plan.folds), plan.seed,
            )
            for protocol in PROTOCOLS
        }  # fmt: skip
    return runs


def ensemble_frame(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Two prediction frames of the same clips, their class probabilities averaged (matched by
    fold and clip: an actor can validate several folds)."""
    b = b.set_index(["fold", "clip_id"]).loc[list(zip(a["fold"], a["clip_id"], strict=True))]
    frame = a.copy()
    frame[PROBABILITY_COLUMNS] = (a[PROBABILITY_COLUMNS].to_numpy()
                                  + b[PROBABILITY_COLUMNS].to_numpy()) / 2  # fmt: skip
    frame["predicted"] = np.array(EMOTION_NAMES)[frame[PROBABILITY_COLUMNS].to_numpy().argmax(1)]
    return frame


def family_table(
    runs: dict[str, dict[str, EncoderRun]], cnn_validation: pd.DataFrame, cnn_name: str,
    cnn_description: str,
) -> pd.DataFrame:  # fmt: skip
    """Validation UA (mean ± std over folds, per fold) of every encoder candidate, the CNN and
    the ensemble of the best encoder head with the CNN; TESS UA (mean over the folds' heads) as
    a guide; how far each trails the best against the noise of the judge. No test data."""
    from ser.training.selection import INGREDIENTS, with_noise

    si = "speaker_independent"
    frames = {name: r[si].validation for name, r in runs.items()}
    described = {name: BY_NAME[name].description for name in runs}
    ingredients = {name: BY_NAME[name].ingredients for name in runs}
    tess = {name: r[si].tess_uar for name, r in runs.items()}
    best = max(runs, key=lambda n: np.mean(list(runs[n][si].validation_uar.values())))
    for name, frame, words in (
        (cnn_name, cnn_validation, f"from-scratch CNN: {cnn_description}"),
        (
            ENSEMBLE,
            ensemble_frame(frames[best], cnn_validation),
            f"class probabilities of {best} and {cnn_name} averaged",
        ),
    ):
        frames[name], described[name], tess[name] = frame, words, {}
        ingredients[name] = max(ingredients.values()) + 1
    rows, per_fold = [], {}
    for name, frame in frames.items():
        uar = {int(f): unweighted_accuracy(p["emotion"], p["predicted"])
               for f, p in frame.groupby("fold")}  # fmt: skip
        per_fold[name] = [uar[f] for f in sorted(uar)]
        rows.append({
            "candidate": name, "what it is": described[name],
            "validation UA": float(np.mean(per_fold[name])),
            "± std over folds": float(np.std(per_fold[name])),
            **{f"fold {f}": uar[f] for f in sorted(uar)},
            "TESS UA (guide)": float(np.mean(list(tess[name].values()))) if tess[name] else np.nan,
            INGREDIENTS: ingredients[name],
        })  # fmt: skip
    return with_noise(pd.DataFrame(rows).set_index("candidate"), per_fold, "validation UA")


def choose_family(table: pd.DataFrame) -> str:
    """:data:`FAMILY_RULE`, the project's rule of every choice."""
    from ser.training.selection import choose

    return choose(table)


def save_runs(runs: dict[str, dict[str, EncoderRun]], table: pd.DataFrame, winner: str,
              runs_dir: Path) -> Path:  # fmt: skip
    """Write each run's predictions and the family table with its choice (JSON), for notebook 04."""
    folder = Path(runs_dir) / ENCODER_RUNS
    if folder.exists():
        shutil.rmtree(folder)
    for name, by_protocol in runs.items():
        for protocol, run in by_protocol.items():
            target = folder / name / protocol
            target.mkdir(parents=True, exist_ok=True)
            run.validation.to_csv(target / "validation.csv", index=False)
            run.predictions.to_csv(target / "predictions.csv", index=False)
            (target / "tess.json").write_text(
                json.dumps({"uar": run.tess_uar, "answers": run.tess_answers})
            )
    rows = json.loads(table.reset_index().to_json(orient="records"))
    record = {"rule": FAMILY_RULE, "winner": winner, "best_encoder": best_encoder(table),
              "candidates": rows,
              "encoder_candidates": [asdict(c) for c in CANDIDATES if c.name in runs]}  # fmt: skip
    path = folder / FAMILY_FILE
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def read_family(runs_dir: Path) -> dict:
    return json.loads((Path(runs_dir) / ENCODER_RUNS / FAMILY_FILE).read_text())


def load_encoder_run(runs_dir: Path, name: str, protocol: str) -> EncoderRun:
    folder = Path(runs_dir) / ENCODER_RUNS / name / protocol
    tess = json.loads((folder / "tess.json").read_text())
    uar, answers = ({int(k): v for k, v in tess[part].items()} for part in ("uar", "answers"))
    return EncoderRun(name, protocol, pd.read_csv(folder / "validation.csv"),
                      pd.read_csv(folder / "predictions.csv"), uar, answers)  # fmt: skip


def best_encoder(table: pd.DataFrame) -> str:
    """The encoder head the rule picks among the encoder heads alone (the family's row in the
    comparison, whoever ships)."""
    from ser.training.selection import choose, with_noise

    heads = table.loc[[name for name in table.index if name in BY_NAME]]
    folds = [c for c in heads.columns if c.startswith("fold ")]
    per_fold = {name: heads.loc[name, folds].tolist() for name in heads.index}
    return choose(with_noise(heads, per_fold, "validation UA"))


def _clear_model(models_dir: Path) -> None:
    """Remove a model folder's model files: never leave a mix of two models."""
    from ser.models.artifacts import LABELS_FILE, MODEL_FILE, ONNX_FILE

    for stale in (ONNX_FILE, LABELS_FILE, MODEL_FILE):
        (models_dir / stale).unlink(missing_ok=True)


def ship_family_choice(
    winner: str, index: pd.DataFrame, data: EncoderData, runs: dict[str, dict[str, EncoderRun]],
    plan, models_dir: Path, cnn_dir: Path,
) -> Path:  # fmt: skip
    """Write the family winner into ``models_dir``: the encoder head of the shipped fold with
    the encoder, as one ONNX graph, or a copy of the CNN's folder ``cnn_dir``. Calibrated on
    the shipped fold's validation actors; held-out actors recorded for notebook 04."""
    from ser.inference.encoder_model import encoder_metadata, export_encoder_model, head_as_keras
    from ser.models.artifacts import LABELS_FILE, MODEL_FILE, ONNX_FILE
    from ser.models.calibration import calibrate_fold
    from ser.models.whisper_encoder import load_encoder_weights
    from ser.training.shipping import holds_model

    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    if winner not in BY_NAME:
        if winner == ENSEMBLE:
            raise ValueError("the ensemble of the encoder and the CNN won; it needs both front "
                             "ends in one predictor, which ser.inference.predict does not offer")  # fmt: skip
        _clear_model(models_dir)
        for name in (ONNX_FILE, LABELS_FILE, MODEL_FILE):
            shutil.copy2(Path(cnn_dir) / name, models_dir / name)
        return models_dir
    candidate, fold = BY_NAME[winner], plan.shipped_fold
    (split,) = protocol_splits(index, "speaker_independent", plan.seed, folds=[fold])
    head = fit_on(candidate, data, index["emotion"].to_numpy(), split.train, plan.seed + fold)
    weights = load_encoder_weights()
    head_model = head_as_keras(head, weights.n_states, weights.width)
    actors = index["actor"].to_numpy()
    run = runs[winner]["speaker_independent"]
    metadata = {
        "index_to_emotion": dict(enumerate(EMOTION_NAMES)),
        "model": winner,
        "description": f"Whisper {weights.folder.name} encoder, frozen: {candidate.summary()}",
        **encoder_metadata(weights),
        "held_out_actors": sorted(int(a) for a in set(actors[split.test])),
        "trained_on_actors": sorted(int(a) for a in set(actors[split.train])),
        "validation_actors": sorted(int(a) for a in set(actors[split.validation])),
        "validation_uar": {fold: run.validation_uar[fold]},
        "fold": fold, "seed": plan.seed + fold,
        "calibration": calibrate_fold(run.validation, fold).as_dict(),
        "head_digest": hashlib.sha256(b"".join(
            np.ascontiguousarray(w, np.float32).tobytes() for w in head_model.get_weights()
        )).hexdigest(),
    }  # fmt: skip
    if holds_model(models_dir, metadata, (ONNX_FILE,)):
        progress(f"{models_dir}: the shipped model is already this head; left as it is")
        return models_dir
    _clear_model(models_dir)
    export_encoder_model(head_model, models_dir, weights)
    (models_dir / LABELS_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    return models_dir
