"""Heads on pooled encoder states: from a linear probe on one layer to a learned mix of layers.

A head takes the pooled states of :mod:`ser.encoder_states`, ``(n_clips, n_states,
2 * width)``, and answers with class probabilities. Every head is a Keras model, so the
chosen one runs behind the encoder in one graph (and one ONNX file):

- ``linear_layer<L>``: standardised mean and standard deviation of layer ``L``, then
  multinomial logistic regression (scikit-learn, L2 penalty ``C``) -- the baseline probe.
- ``linear_all``: the same on every layer concatenated.
- ``layer_mix_mlp``: per-feature standardisation, a softmax-weighted sum over layers
  (learned, as SUPERB and EmoBox do), one hidden layer and a softmax.

With ``speaker_norm``, each speaker's pooled states are centred on that speaker's
mean first (enrolment): the mean is taken from the clips given for that speaker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def speaker_centred(states: np.ndarray, speakers) -> np.ndarray:
    """Each clip's states minus the mean of its speaker's clips (all of them)."""
    speakers = np.asarray(speakers)
    centred = np.empty_like(states)
    for speaker in np.unique(speakers):
        rows = speakers == speaker
        centred[rows] = states[rows] - states[rows].mean(axis=0, keepdims=True)
    return centred


@dataclass(frozen=True)
class HeadSpec:
    """What defines a head and how it is trained."""

    kind: str  # "linear" or "layer_mix_mlp"
    layers: tuple[int, ...] | None = None  # None: every layer
    c: float = 0.01  # linear: inverse L2 strength
    hidden: int = 256  # mlp
    dropout: float = 0.3
    epochs: int = 60
    learning_rate: float = 1e-3
    weight_decay: float = 1e-3
    speaker_norm: bool = False
    balanced: bool = True


HEADS: dict[str, HeadSpec] = {
    **{f"linear_layer{layer}": HeadSpec("linear", (layer,), c=0.05) for layer in range(5)},
    "linear_all": HeadSpec("linear"),
    "linear_all_c0.003": HeadSpec("linear", c=0.003),
    "linear_all_c0.03": HeadSpec("linear", c=0.03),
    "layer_mix_mlp": HeadSpec("layer_mix_mlp"),
    "layer_mix_mlp_speaker_norm": HeadSpec("layer_mix_mlp", speaker_norm=True),
    "linear_all_speaker_norm": HeadSpec("linear", speaker_norm=True),
}


@dataclass
class FittedHead:
    """A trained head: class probabilities for pooled states (and their speakers)."""

    spec: HeadSpec
    classes: list[str]
    model: object = field(repr=False)

    def _inputs(self, states: np.ndarray, speakers) -> np.ndarray:
        states = speaker_centred(states, speakers) if self.spec.speaker_norm else states
        return _select(states, self.spec.layers)

    def predict_proba(self, states: np.ndarray, speakers=None) -> np.ndarray:
        x = self._inputs(states, speakers)
        if self.spec.kind == "linear":
            return self.model.predict_proba(x.reshape(len(x), -1))
        return np.asarray(self.model.predict(x, verbose=0, batch_size=256))

    def predict(self, states: np.ndarray, speakers=None) -> np.ndarray:
        return np.array(self.classes)[self.predict_proba(states, speakers).argmax(1)]


def _select(states: np.ndarray, layers) -> np.ndarray:
    return states if layers is None else states[:, list(layers)]


def fit_head(name_or_spec, states, labels, speakers=None, *, seed: int = 42) -> FittedHead:
    """Train a head (a name of :data:`HEADS` or a :class:`HeadSpec`) on pooled states."""
    spec = HEADS[name_or_spec] if isinstance(name_or_spec, str) else name_or_spec
    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    if spec.speaker_norm:
        states = speaker_centred(states, speakers)
    x = _select(states, spec.layers)
    if spec.kind == "linear":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=spec.c, max_iter=3000,
                               class_weight="balanced" if spec.balanced else None),
        )  # fmt: skip
        model.fit(x.reshape(len(x), -1), labels)
        return FittedHead(spec, classes, model)
    model = _fit_layer_mix(spec, x, np.searchsorted(classes, labels), len(classes), seed)
    return FittedHead(spec, classes, model)


def _fit_layer_mix(spec: HeadSpec, x: np.ndarray, targets: np.ndarray, n_classes: int, seed: int):
    import keras
    from sklearn.utils.class_weight import compute_sample_weight

    from ser.architectures import LayerMix

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(x.shape[1:], name="pooled_states")
    norm = keras.layers.Normalization(axis=(1, 2), name="standardise")
    norm.adapt(x)
    h = LayerMix(name="layer_mix")(norm(inputs))
    h = keras.layers.Dropout(spec.dropout)(h)
    h = keras.layers.Dense(spec.hidden, activation="relu", name="hidden")(h)
    h = keras.layers.Dropout(spec.dropout)(h)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="emotion")(h)
    model = keras.Model(inputs, outputs, name="layer_mix_mlp")
    model.compile(
        optimizer=keras.optimizers.AdamW(spec.learning_rate, weight_decay=spec.weight_decay),
        loss="sparse_categorical_crossentropy",
    )
    weights = compute_sample_weight("balanced", targets) if spec.balanced else None
    model.fit(x, targets, sample_weight=weights, epochs=spec.epochs, batch_size=32,
              shuffle=True, verbose=0)  # fmt: skip
    return model
