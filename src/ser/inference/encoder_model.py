"""The pretrained-encoder emotion model in one graph: log-mel in, class probabilities out.

Whisper's encoder (:mod:`ser.models.whisper_encoder`), the mean and standard deviation over time of
every one of its states (as :mod:`ser.features.encoder_states` caches them), and a head of
:mod:`ser.models.heads` (as Keras), written as one ONNX graph: what the predictor runs, for the
demo and the command line alike.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ser.config import DATA_DIR

ENCODER_ONNX_DIR = DATA_DIR / "cache" / "encoder_onnx"


def head_as_keras(head, n_states: int, width: int):
    """A fitted head as a Keras model on pooled states ``(batch, n_states, 2 * width)``.

    A linear head (scikit-learn's scaler and logistic regression) becomes a Standardize
    layer with the scaler's statistics and a softmax Dense layer with its weights; a Keras
    head is returned as it is.
    """
    import keras

    if head.spec.speaker_norm:
        raise ValueError("a speaker-normalised head needs its speaker's enrolment clips; "
                         "it has no single-clip graph")  # fmt: skip
    if head.spec.kind != "linear":
        return head.model
    from ser.models.architectures import Standardize

    scaler, regression = head.model[0], head.model[-1]
    coef, intercept = regression.coef_, regression.intercept_
    if coef.shape[0] == 1:  # two classes: scikit-learn keeps one row; softmax([0, z]) is the same
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.r_[0.0, intercept]
    layers = list(range(n_states)) if head.spec.layers is None else list(head.spec.layers)
    # Layers the head does not read get zero weights (and a neutral scaler).
    mean, inverse_scale = np.zeros((n_states, 2 * width)), np.ones((n_states, 2 * width))
    mean[layers] = scaler.mean_.reshape(len(layers), -1)
    inverse_scale[layers] = (1.0 / scaler.scale_).reshape(len(layers), -1)
    kernel = np.zeros((n_states, 2 * width, len(coef)))
    kernel[layers] = coef.T.reshape(len(layers), 2 * width, -1)
    pooled = keras.Input((n_states, 2 * width), name="pooled_states")
    standardize = Standardize(n_states * 2 * width, name="standardise")
    dense = keras.layers.Dense(len(coef), activation="softmax", name="emotion")
    outputs = dense(standardize(keras.layers.Flatten()(pooled)))
    standardize.set_weights([mean.reshape(-1).astype(np.float32),
                             inverse_scale.reshape(-1).astype(np.float32)])  # fmt: skip
    dense.set_weights(
        [kernel.reshape(-1, len(coef)).astype(np.float32), intercept.astype(np.float32)]
    )
    return keras.Model(pooled, outputs, name="linear_head")


def pooled_states_model(encoder, name: str = "whisper_pooled_states"):
    """Log-mel ``(batch, frames, n_mels)`` -> pooled states ``(batch, n_states, 2 * width)``."""
    import keras

    from ser.models.architectures import StatisticsPooling

    mel = keras.Input(encoder.input_shape[1:], name="log_mel")
    pooled = [keras.layers.Reshape((1, -1))(StatisticsPooling()(s)) for s in encoder(mel)]
    return keras.Model(
        mel, keras.layers.Concatenate(axis=1, name="pooled_states")(pooled), name=name
    )


def encoder_onnx(weights, cache_dir: Path = ENCODER_ONNX_DIR):
    """The encoder and its pooling as ONNX (an ``onnx.ModelProto``), exported once per set of
    weights and code and then read from ``cache_dir`` (the export takes about 30 s)."""
    import inspect
    import tempfile

    import keras
    import onnx

    from ser.features.encoder_states import weights_digest
    from ser.models import whisper_encoder as encoder_module
    from ser.models.artifacts import ONNX_FILE, export_onnx
    from ser.models.whisper_encoder import build_encoder

    source = inspect.getsource(encoder_module) + inspect.getsource(pooled_states_model)
    key = hashlib.sha256(json.dumps([
        weights_digest(weights.folder), hashlib.sha256(source.encode()).hexdigest(),
        keras.__version__, onnx.__version__,
    ]).encode()).hexdigest()[:16]  # fmt: skip
    path = Path(cache_dir) / f"whisper_pooled_{key}.onnx"
    if not path.exists():
        with tempfile.TemporaryDirectory() as scratch:
            export_onnx(pooled_states_model(build_encoder(weights)), Path(scratch))
            path.parent.mkdir(parents=True, exist_ok=True)
            Path(scratch, ONNX_FILE).replace(path)
    return onnx.load(str(path))


def export_encoder_model(head_model, folder: Path, weights) -> Path:
    """Write ``emotion_model.onnx``: log-mel in, probabilities out, as the cached export of
    :func:`pooled_states_model` joined to the head's own export (seconds, not 30 s)."""
    import tempfile

    import onnx
    from onnx import compose

    from ser.models.artifacts import ONNX_FILE, export_onnx

    encoder = encoder_onnx(weights)
    with tempfile.TemporaryDirectory() as scratch:
        export_onnx(head_model, Path(scratch))
        head = compose.add_prefix(onnx.load(str(Path(scratch, ONNX_FILE))), "head/")
    joined = compose.merge_models(
        encoder, head, io_map=[(encoder.graph.output[0].name, head.graph.input[0].name)]
    )
    path = Path(folder) / ONNX_FILE
    onnx.save(joined, str(path))
    return path


def encoder_metadata(weights) -> dict:
    """What ``labels.json`` says of an encoder model's input: its features, its front end and
    the encoder's origin and licence."""
    from dataclasses import asdict

    from ser.features.encoder_states import DEFAULT_FRONT, weights_digest
    from ser.features.extraction import FeatureParams

    return {
        "features": asdict(FeatureParams.of("whisper")),
        "front_end": asdict(DEFAULT_FRONT),
        "encoder": {
            "weights_sha256": weights_digest(weights.folder),
            "layers": weights.n_layers,
            "width": weights.width,
            "origin": "OpenAI Whisper (MIT licence), converted to CTranslate2",
        },
    }
