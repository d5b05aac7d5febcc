"""The from-scratch CNN's model of the shipped fold, written as a model folder (Keras, ONNX,
labels and calibration)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ser.data.splits import protocol_splits
from ser.features.extraction import FeatureParams
from ser.models import artifacts
from ser.models.calibration import calibrate_fold
from ser.training.fitting import progress
from ser.training.plan import CNN_RECIPE  # fmt: skip
from ser.training.session import Session


def ship_cnn(session: Session, models_dir: Path) -> Path:
    """Write the CNN's model of the shipped fold (seed ``plan.seed``) into ``models_dir``.

    Beside the ``.keras`` file go its ONNX export (what the predictor runs) and, in
    ``labels.json``, the calibration fitted on the shipped fold's validation actors.
    """
    plan, spec = session.plan, session.plan.spec(CNN_RECIPE.name)
    fold = plan.shipped_fold
    training = session.training(spec.name, fold, plan.seed)
    (split,) = protocol_splits(session.index, "speaker_independent", plan.seed, folds=[fold])
    actors = session.index["actor"].to_numpy()
    metadata = {
        "model": spec.name, "description": spec.description, "spec": spec.as_dict(),
        "features": asdict(FeatureParams.of(spec.features)),
        "held_out_actors": sorted(int(a) for a in set(actors[split.test])),
        "trained_on_actors": sorted(int(a) for a in set(actors[split.train])),
        "validation_actors": sorted(int(a) for a in set(actors[split.validation])),
        "validation_uar": training.validation_uar, "seed": plan.seed + fold,
        "epochs_trained": len(training.history["loss"]), "fold": fold,
        "trainings": [training.key],
    }  # fmt: skip
    run = session.train(spec.name, "speaker_independent", plan.seed)
    metadata["calibration"] = calibrate_fold(run.validation, fold).as_dict()
    if holds_model(models_dir, metadata, (artifacts.MODEL_FILE, artifacts.ONNX_FILE)):
        progress(f"{models_dir}: the shipped model is already these trainings; left as it is")
        return Path(models_dir)
    model = training.load_model()
    artifacts.save_model(model, models_dir, metadata)
    artifacts.export_onnx(model, models_dir)
    return Path(models_dir)


def holds_model(folder: Path, metadata: dict, files: tuple[str, ...]) -> bool:
    """Whether ``folder`` already holds ``files`` and ``metadata`` (the label mapping aside):
    a re-run that changed nothing then leaves the folder byte for byte, where writing again
    would not (an ONNX export numbers its ops by what the process exported before)."""
    folder = Path(folder)
    if not all((folder / name).exists() for name in (*files, artifacts.LABELS_FILE)):
        return False
    written, wanted = artifacts.read_metadata(folder), json.loads(json.dumps(metadata))
    written.pop("index_to_emotion", None)
    wanted.pop("index_to_emotion", None)
    return written == wanted
