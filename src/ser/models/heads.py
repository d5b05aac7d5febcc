"""Heads on pooled encoder states: from a linear probe on one layer to a learned mix of layers.

A head takes the pooled states of :mod:`ser.features.encoder_states`, ``(n_clips, n_states,
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


def enrolment_centres(
    states: np.ndarray, speakers, *, k: int | None, rng: np.random.Generator,
    enrol_mask=None,
) -> np.ndarray:  # fmt: skip
    """Each clip's speaker mean as a user would give it: the mean of ``k`` random clips of
    the same speaker (None: all of them), drawn among the clips in ``enrol_mask`` (default:
    every clip), never the clip being judged."""
    speakers = np.asarray(speakers)
    enrol_mask = np.ones(len(states), bool) if enrol_mask is None else np.asarray(enrol_mask)
    centres = np.empty_like(states)
    for i in range(len(states)):
        pool = np.flatnonzero((speakers == speakers[i]) & enrol_mask)
        pool = pool[pool != i]
        if pool.size == 0:
            raise ValueError(
                f"clip {i}: its speaker {str(speakers[i])!r} has no other enrolment clip"
            )
        if k is not None and k < pool.size:
            pool = rng.choice(pool, size=k, replace=False)
        centres[i] = states[pool].mean(axis=0)
    return centres


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
    "linear_layers1234": HeadSpec("linear", (1, 2, 3, 4)),
    "linear_layers23": HeadSpec("linear", (2, 3), c=0.03),
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

    def _inputs(self, states: np.ndarray, speakers, centres) -> np.ndarray:
        if self.spec.speaker_norm:
            states = states - centres if centres is not None else speaker_centred(states, speakers)
        return _select(states, self.spec.layers)

    def predict_proba(self, states: np.ndarray, speakers=None, centres=None) -> np.ndarray:
        """Probabilities per clip, columns in ``classes`` order. With ``speaker_norm``, each
        clip is centred on ``centres`` (one row per clip) or else on its speaker's mean."""
        x = self._inputs(states, speakers, centres)
        if self.spec.kind == "linear":
            return self.model.predict_proba(x.reshape(len(x), -1))
        return np.asarray(self.model.predict(x, verbose=0, batch_size=256))

    def predict(self, states: np.ndarray, speakers=None, centres=None) -> np.ndarray:
        return np.array(self.classes)[self.predict_proba(states, speakers, centres).argmax(1)]


def _select(states: np.ndarray, layers) -> np.ndarray:
    return states if layers is None else states[:, list(layers)]


def fit_head(
    name_or_spec, states, labels, speakers=None, *, classes=None, centres=None,
    sample_weight=None, seed: int = 42,
) -> FittedHead:  # fmt: skip
    """Train a head (a name of :data:`HEADS` or a :class:`HeadSpec`) on pooled states.

    ``classes`` fixes the order of the probability columns (default: sorted labels). With
    ``speaker_norm``, each clip is centred on its row of ``centres`` (default: the mean of
    all its speaker's clips), so training can centre as enrolment will. ``sample_weight``
    weighs clips (on top of the class balance).
    """
    spec = HEADS[name_or_spec] if isinstance(name_or_spec, str) else name_or_spec
    labels = np.asarray(labels)
    classes = list(classes) if classes is not None else sorted(set(labels.tolist()))
    unknown = sorted(set(labels.tolist()) - set(classes))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {classes}")
    targets = np.array([classes.index(label) for label in labels])
    if spec.speaker_norm:
        states = states - centres if centres is not None else speaker_centred(states, speakers)
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
        model.fit(x.reshape(len(x), -1), targets, logisticregression__sample_weight=sample_weight)
        return FittedHead(spec, classes, model)
    model = _fit_layer_mix(spec, x, targets, len(classes), seed, sample_weight)
    return FittedHead(spec, classes, model)


def _fit_layer_mix(spec: HeadSpec, x, targets, n_classes: int, seed: int, sample_weight=None):
    import keras
    from sklearn.utils.class_weight import compute_sample_weight

    from ser.models.architectures import LayerMix

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
    weights = compute_sample_weight("balanced", targets) if spec.balanced else np.ones(len(targets))
    if sample_weight is not None:
        weights = weights * np.asarray(sample_weight)
    model.fit(x, targets, sample_weight=weights, epochs=spec.epochs, batch_size=32,
              shuffle=True, verbose=0)  # fmt: skip
    return model
