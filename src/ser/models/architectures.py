"""The model architectures: the original BiLSTM and the project's own CNN, in one place.

A :class:`ModelSpec` names everything that defines a model and how it is
trained: its features, its normalisation, its augmentation, its architecture
and its optimiser. :func:`build_model` turns a spec into a compiled Keras model.

- **bilstm** (the original project's): Input(174, 40) -> standardisation ->
  Bidirectional(LSTM 128, sequences) -> Dropout 0.5 -> LSTM 64 -> Dropout 0.5 ->
  Dense 64 relu -> Dense 8 softmax (259,912 trained parameters). The original
  standardised the MFCCs with a scaler fitted on the training clips; here those
  statistics are weights of the model's first layer, so the model needs nothing else.
- **cnn** (ours): per-utterance normalisation and SpecAugment-style masking
  *inside* the model, three 1-D convolution blocks over time, statistics
  pooling (mean and standard deviation over time) and a softmax layer. A saved
  ``.keras`` file is then all a predictor needs besides the label mapping.
"""

from __future__ import annotations

import math
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up chatter

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from ser.config import EMOTION_NAMES  # noqa: E402
from ser.models.specs import BILSTM, CNN, ModelSpec  # noqa: E402, F401  (re-exported: the specs live there)

N_CLASSES = len(EMOTION_NAMES)


@keras.saving.register_keras_serializable(package="ser")
class UtteranceNormalization(layers.Layer):
    """Normalise each clip by its own statistics: per-band mean, one standard deviation.

    Values more than ``floor_db`` below the clip's loudest bin are raised to that
    floor first, so zero padding and digital silence do not dominate the
    statistics. The result does not change with the recording's gain.
    """

    def __init__(self, floor_db: float = 80.0, **kwargs):
        super().__init__(**kwargs)
        self.floor_db = floor_db

    def call(self, x):
        top = ops.max(x, axis=(1, 2), keepdims=True)
        x = ops.maximum(x, top - self.floor_db)
        centred = x - ops.mean(x, axis=1, keepdims=True)
        return centred / ops.sqrt(ops.mean(ops.square(centred), axis=(1, 2), keepdims=True) + 1e-5)

    def get_config(self):
        return {**super().get_config(), "floor_db": self.floor_db}


@keras.saving.register_keras_serializable(package="ser")
class SpecAugment(layers.Layer):
    """Training-time augmentation: a random time shift, time masks and frequency masks.

    Masked cells are set to 0, the mean after normalisation. At inference the
    layer passes its input through unchanged.
    """

    def __init__(self, time_masks=1, time_mask_width=10, freq_masks=1, freq_mask_width=6,
                 max_shift=10, seed=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.time_masks, self.time_mask_width = time_masks, time_mask_width
        self.freq_masks, self.freq_mask_width = freq_masks, freq_mask_width
        self.max_shift, self.seed = max_shift, seed
        self.generator = keras.random.SeedGenerator(seed)

    def _band_mask(self, positions, size, count, width, batch):
        mask = ops.zeros_like(positions, dtype="bool")
        for _ in range(count):
            start = keras.random.randint((batch, 1, 1), 0, size, seed=self.generator)
            length = keras.random.randint((batch, 1, 1), 0, width + 1, seed=self.generator)
            mask = ops.logical_or(
                mask, ops.logical_and(positions >= start, positions < start + length)
            )
        return mask

    def call(self, x, training=None):
        if not training:
            return x
        batch, frames, bands = ops.shape(x)[0], x.shape[1], x.shape[2]
        if self.max_shift:
            shift = keras.random.randint(
                (), -self.max_shift, self.max_shift + 1, seed=self.generator
            )
            x = ops.roll(x, shift, axis=1)
        time = self._band_mask(ops.arange(frames)[None, :, None], frames, self.time_masks,
                               self.time_mask_width, batch)  # fmt: skip
        freq = self._band_mask(ops.arange(bands)[None, None, :], bands, self.freq_masks,
                               self.freq_mask_width, batch)  # fmt: skip
        return ops.where(ops.logical_or(time, freq), 0.0, x)

    def get_config(self):
        return {
            **super().get_config(), "time_masks": self.time_masks,
            "time_mask_width": self.time_mask_width, "freq_masks": self.freq_masks,
            "freq_mask_width": self.freq_mask_width, "max_shift": self.max_shift, "seed": self.seed,
        }  # fmt: skip


_DB_TO_LOG = math.log(10.0) / 10.0  # dB to natural log of power


@keras.saving.register_keras_serializable(package="ser")
class ChannelAugment(layers.Layer):
    """Training-time damage to log-mel clips (dB): added noise and a limited band.

    Works on mel power, where the sum of speech and independent noise is the sum
    of their powers. Noise is, half the time each, white (flat across slaney-
    normalised mel bands) or "babble" (another clip of the batch), at a random
    SNR against the clip's mean power, with a 2.5 dB random ripple per cell.
    Band limiting empties the bands above a random cutoff (what an 8 kHz phone
    line or a low-bitrate codec leaves) and, half the time, the lowest bands.
    At inference the layer passes its input through unchanged.
    """

    def __init__(self, noise_probability=0.5, band_limit_probability=0.3, snr_db=(0.0, 30.0),
                 seed=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.noise_probability, self.band_limit_probability = (
            noise_probability,
            band_limit_probability,
        )
        self.snr_db, self.seed = tuple(snr_db), seed
        self.generator = keras.random.SeedGenerator(seed)

    def _chance(self, batch, probability):
        return keras.random.uniform((batch, 1, 1), seed=self.generator) < probability

    def call(self, x, training=None):
        if not training:
            return x
        batch, bands = ops.shape(x)[0], x.shape[2]
        power = ops.exp(x * _DB_TO_LOG)  # 10 ** (x / 10), as exp: cheaper per cell on the CPU
        level = ops.mean(power, axis=(1, 2), keepdims=True)
        snr = keras.random.uniform((batch, 1, 1), *self.snr_db, seed=self.generator)
        other = ops.roll(power, 1, axis=0)  # another clip of the batch: babble
        babble = other / (ops.mean(other, axis=(1, 2), keepdims=True) + 1e-12)
        shape = ops.where(self._chance(batch, 0.5), babble, ops.ones_like(power))
        ripple = ops.exp(  # 10 ** N(0, 0.25): 2.5 dB per cell
            keras.random.normal(ops.shape(x), stddev=2.5 * _DB_TO_LOG, seed=self.generator)
        )
        noise = shape * ripple * level * ops.exp(-snr * _DB_TO_LOG)
        power = power + ops.where(self._chance(batch, self.noise_probability), noise, 0.0)
        band = ops.arange(bands)[None, None, :]
        top = keras.random.randint((batch, 1, 1), bands * 9 // 16, bands, seed=self.generator)
        bottom = keras.random.randint((batch, 1, 1), 0, bands // 8, seed=self.generator)
        bottom = ops.where(self._chance(batch, 0.5), bottom, 0)
        outside = ops.logical_or(band >= top, band < bottom)
        limited = ops.logical_and(self._chance(batch, self.band_limit_probability), outside)
        power = ops.where(limited, 1e-10, power)
        return ops.log(ops.maximum(power, 1e-10)) / _DB_TO_LOG

    def get_config(self):
        return {
            **super().get_config(), "noise_probability": self.noise_probability,
            "band_limit_probability": self.band_limit_probability, "snr_db": list(self.snr_db),
            "seed": self.seed,
        }  # fmt: skip


@keras.saving.register_keras_serializable(package="ser")
class PositionSlice(layers.Layer):
    """Add a fixed table of position encodings, sliced to the input's length.

    Whisper's encoder has 1,500 positions (30 s); a shorter input uses the first ones.
    """

    def __init__(self, max_positions: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.max_positions, self.width = max_positions, width
        self.table = self.add_weight(
            shape=(max_positions, width), initializer="zeros", trainable=False, name="table"
        )

    def call(self, x):
        return x + self.table[None, : ops.shape(x)[1]]

    def get_config(self):
        return {**super().get_config(), "max_positions": self.max_positions, "width": self.width}


@keras.saving.register_keras_serializable(package="ser")
class Gelu(layers.Layer):
    """Exact GELU written with erf (Keras's own uses erfc, which tf2onnx cannot export)."""

    def call(self, x):
        return 0.5 * x * (1.0 + ops.erf(x / math.sqrt(2.0)))


@keras.saving.register_keras_serializable(package="ser")
class Standardize(layers.Layer):
    """``(x - mean) / scale`` with fixed, stored statistics (a fitted scikit-learn scaler's).

    Kept as weights rather than folded into the next layer: folding multiplies by
    ``1 / scale``, and for near-constant features that costs float32 its precision.
    """

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.mean = self.add_weight(
            shape=(size,), initializer="zeros", trainable=False, name="mean"
        )
        self.inverse_scale = self.add_weight(
            shape=(size,), initializer="ones", trainable=False, name="inverse_scale"
        )

    def call(self, x):
        return (x - self.mean) * self.inverse_scale

    def get_config(self):
        return {**super().get_config(), "size": self.size}


@keras.saving.register_keras_serializable(package="ser")
class LayerMix(layers.Layer):
    """A learned softmax-weighted sum over an encoder's layers: ``(batch, layers, d) -> (batch, d)``."""

    def build(self, input_shape):
        self.logits = self.add_weight(shape=(input_shape[1],), initializer="zeros", name="logits")

    def call(self, x):
        weights = ops.softmax(self.logits)
        return ops.einsum("bld,l->bd", x, weights)


@keras.saving.register_keras_serializable(package="ser")
class StatisticsPooling(layers.Layer):
    """Mean and standard deviation over time, concatenated: ``(batch, 2 * channels)``."""

    def call(self, x):
        mean = ops.mean(x, axis=1)
        return ops.concatenate([mean, ops.sqrt(ops.var(x, axis=1) + 1e-5)], axis=-1)


def _bilstm(n_frames: int, n_features: int, adapt_on=None):
    standardise = Standardize(n_features, name="standardise")
    model = keras.Sequential(
        [
            keras.Input(shape=(n_frames, n_features), name="mfcc"),
            standardise,
            layers.Bidirectional(layers.LSTM(128, return_sequences=True), name="bilstm"),
            layers.Dropout(0.5, name="dropout_1"),
            layers.LSTM(64, name="lstm"),
            layers.Dropout(0.5, name="dropout_2"),
            layers.Dense(64, activation="relu", name="dense"),
            layers.Dense(N_CLASSES, activation="softmax", name="emotion"),
        ],
        name="ser_bilstm",
    )
    if adapt_on is not None:  # per coefficient, over every frame of the training clips
        flat = np.asarray(adapt_on).reshape(-1, n_features).astype(np.float64)
        std = flat.std(axis=0)
        standardise.set_weights([flat.mean(axis=0), 1.0 / np.where(std > 0, std, 1.0)])
    return model


def _cnn(spec: ModelSpec, n_frames: int, n_features: int, adapt_on=None, seed=None):
    inputs = keras.Input(shape=(n_frames, n_features), name=spec.features)
    x = inputs
    if spec.noise_probability or spec.band_limit_probability:
        x = ChannelAugment(spec.noise_probability, spec.band_limit_probability, spec.snr_db,
                           seed=seed, name="channel_augment")(x)  # fmt: skip
    if spec.normalisation == "utterance":
        x = UtteranceNormalization(name="utterance_norm")(x)
    elif spec.normalisation == "global":
        normalise = layers.Normalization(axis=-1, name="global_norm")
        if adapt_on is not None:
            normalise.adapt(adapt_on)
        x = normalise(x)
    if spec.augmentation:
        x = SpecAugment(spec.time_masks, spec.time_mask_width, spec.freq_masks,
                        spec.freq_mask_width, spec.max_shift, seed=seed, name="spec_augment")(x)  # fmt: skip
    last = len(spec.channels) - 1
    for i, (channels, kernel) in enumerate(zip(spec.channels, spec.kernel_sizes, strict=True)):
        x = layers.Conv1D(channels, kernel, padding="same", use_bias=False, name=f"conv_{i + 1}")(x)
        x = layers.BatchNormalization(name=f"bn_{i + 1}")(x)
        x = layers.Activation("relu", name=f"relu_{i + 1}")(x)
        if i < last:
            x = layers.MaxPooling1D(2, name=f"pool_{i + 1}")(x)
    if spec.pooling == "statistics":
        x = StatisticsPooling(name="statistics_pooling")(x)
    else:
        x = layers.GlobalAveragePooling1D(name="average_pooling")(x)
    x = layers.Dropout(spec.dropout, name="dropout")(x)
    outputs = layers.Dense(N_CLASSES, activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name=f"ser_{spec.name}")


def build_model(
    spec: ModelSpec = BILSTM, n_frames: int = 174, n_features: int = 40, *, steps_per_epoch=1,
    adapt_on=None, seed: int | None = None,
):  # fmt: skip
    """A compiled model for ``spec``; ``adapt_on`` holds the training clips, whose statistics
    the BiLSTM's standardisation and the CNN's "global" normalisation keep as weights."""
    if spec.architecture == "bilstm":
        model = _bilstm(n_frames, n_features, adapt_on=adapt_on)
    elif spec.architecture == "cnn":
        model = _cnn(spec, n_frames, n_features, adapt_on=adapt_on, seed=seed)
    else:
        raise ValueError(f"unknown architecture {spec.architecture!r}")
    if spec.optimizer == "adamw_cosine":
        schedule = keras.optimizers.schedules.CosineDecay(
            spec.learning_rate, decay_steps=spec.epochs * steps_per_epoch
        )
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=spec.weight_decay)
    else:
        optimizer = keras.optimizers.Adam(spec.learning_rate)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=spec.label_smoothing),
        metrics=["accuracy"],
    )
    return model
