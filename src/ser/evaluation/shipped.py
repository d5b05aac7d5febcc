"""Model folders re-scored from disk on the actors they never saw: the shipped model and the CNN's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ser.evaluation.schema import ShippedResult, summarise
from ser.models import artifacts
from ser.training.fitting import progress


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
