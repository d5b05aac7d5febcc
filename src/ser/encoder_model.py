"""The pretrained-encoder emotion model in one graph: log-mel in, class probabilities out.

Whisper's encoder (:mod:`ser.encoder`), the mean and standard deviation over time of
every one of its states (as :mod:`ser.encoder_states` caches them), and a head of
:mod:`ser.heads`, as one Keras model. Exported to ONNX it is what the predictor runs,
for the demo and the command line alike.
"""

from __future__ import annotations

import numpy as np


def head_as_keras(head, n_states: int, width: int):
    """A fitted head as a Keras model on pooled states ``(batch, n_states, 2 * width)``.

    A linear head (scikit-learn's scaler and logistic regression) becomes one softmax
    Dense layer with the scaler folded into its weights; a Keras head is returned as it is.
    """
    import keras

    if head.spec.kind != "linear":
        return head.model
    scaler, regression = head.model[0], head.model[-1]
    layers = list(range(n_states)) if head.spec.layers is None else list(head.spec.layers)
    # The scaler is folded into the weights: W' = W / scale, b' = b - mean . W'. Layers the
    # head does not read get zero weights.
    kernel = np.zeros((n_states, 2 * width, len(regression.classes_)))
    kernel[layers] = (regression.coef_ / scaler.scale_).T.reshape(len(layers), 2 * width, -1)
    bias = regression.intercept_ - (scaler.mean_ / scaler.scale_) @ regression.coef_.T
    pooled = keras.Input((n_states, 2 * width), name="pooled_states")
    dense = keras.layers.Dense(len(regression.classes_), activation="softmax", name="emotion")
    outputs = dense(keras.layers.Flatten()(pooled))
    dense.set_weights([kernel.reshape(-1, kernel.shape[-1]).astype(np.float32),
                       bias.astype(np.float32)])  # fmt: skip
    return keras.Model(pooled, outputs, name="linear_head")


def emotion_model(encoder, head_model, name: str = "whisper_emotion_model"):
    """Log-mel ``(batch, frames, n_mels)`` -> encoder -> pooled states -> head -> probabilities."""
    import keras

    from ser.architectures import StatisticsPooling

    mel = keras.Input(encoder.input_shape[1:], name="log_mel")
    states = encoder(mel)
    pooled = [keras.layers.Reshape((1, -1))(StatisticsPooling()(s)) for s in states]
    stacked = keras.layers.Concatenate(axis=1, name="pooled_states")(pooled)
    return keras.Model(mel, head_model(stacked), name=name)
