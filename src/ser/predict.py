"""Predict the emotion of a recording with the shipped model.

The predictor loads the model and its metadata (labels, feature parameters)
once, then runs every input through the same loader (:mod:`ser.audio`) and the
same feature code (:mod:`ser.features`) as training. Normalisation happens
inside the model, so nothing else is needed. A recording longer than the
model's 4.02 s window is cut into windows that overlap by half (the last one
ends with the recording) and the class probabilities of the windows are
averaged; a shorter one is padded exactly as in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ser.audio import AudioError, AudioSource, describe_source, load_audio, to_mono_at_rate
from ser.config import MAX_UPLOAD_BYTES, MAX_UPLOAD_SECONDS, MODELS_DIR, WINDOW_HOP_FRACTION
from ser.features import FeatureParams, feature_matrix

# Below this there is too little speech for an emotion; such input is refused.
MIN_SECONDS = 0.5


@dataclass
class Prediction:
    """The predicted emotion, the probability of every emotion, and what was analysed."""

    emotion: str
    probabilities: dict[str, float]
    duration_s: float
    windows: int
    source: str = ""
    samples: np.ndarray = field(default=None, repr=False)  # mono, at the feature rate
    features: np.ndarray = field(default=None, repr=False)  # (windows, frames, features)

    def as_dict(self) -> dict:
        return {"file": self.source, "emotion": self.emotion, "probabilities": self.probabilities}


def window_starts(
    n_samples: int, window: int, hop_fraction: float = WINDOW_HOP_FRACTION
) -> list[int]:
    """Start offsets of the analysis windows: one for a short clip, overlapping ones otherwise."""
    if n_samples <= window:
        return [0]
    hop = max(1, int(window * hop_fraction))
    starts = list(range(0, n_samples - window + 1, hop))
    if starts[-1] != n_samples - window:
        starts.append(n_samples - window)  # cover the end of the recording too
    return starts


class Predictor:
    """The shipped model with its labels and feature parameters, loaded once (Keras safe mode, JSON)."""

    def __init__(self, model_dir: str | Path = MODELS_DIR):
        import tensorflow as tf  # TensorFlow loads here, not at import

        from ser.artifacts import load_model

        self.model_dir = Path(model_dir)
        self.model, self.labels, self.metadata = load_model(self.model_dir)
        self.params = FeatureParams(**self.metadata["features"])
        # One window at a time through an XLA-compiled forward pass: compiled once
        # (a fixed shape), then about 5 ms a window on 2 cores, against about 20 ms
        # for Keras' predict_on_batch and over a second for an eager model(x).
        one_window = tf.TensorSpec([1, self.params.n_frames, self.params.n_features], tf.float32)
        self._forward = tf.function(
            lambda x: self.model(x, training=False), input_signature=[one_window], jit_compile=True
        )

    def load(
        self,
        source: AudioSource | np.ndarray,
        sample_rate: int | None = None,
        *,
        name: str | None = None,
    ) -> np.ndarray:
        """Mono samples at the feature rate from a path, bytes, stream or (array, rate)."""
        label = describe_source(source, name)
        if isinstance(source, np.ndarray):
            if sample_rate is None:
                raise ValueError("an array needs its sample_rate")
            samples = to_mono_at_rate(
                source, sample_rate, self.params.sample_rate, name=label,
                max_seconds=MAX_UPLOAD_SECONDS,
            )  # fmt: skip
        else:
            samples = load_audio(
                source, self.params.sample_rate, name=name,
                max_seconds=MAX_UPLOAD_SECONDS, max_bytes=MAX_UPLOAD_BYTES,
            )  # fmt: skip
        seconds = samples.size / self.params.sample_rate
        if seconds < MIN_SECONDS:
            raise AudioError(
                f"{label}: the recording lasts only {seconds:.2f} s; at least {MIN_SECONDS} s of "
                "speech is needed to judge an emotion"
            )
        return samples

    def features(self, samples: np.ndarray) -> np.ndarray:
        """Feature matrices of the analysis windows, ``(windows, frames, features)``."""
        window = self.params.n_samples
        starts = window_starts(samples.size, window)
        return np.stack([feature_matrix(samples[s : s + window], self.params) for s in starts])

    def window_probabilities(self, windows: np.ndarray) -> np.ndarray:
        """Class probabilities per window, ``(windows, classes)``, from feature matrices."""
        windows = np.asarray(windows, dtype=np.float32)
        return np.concatenate(
            [self._forward(windows[i : i + 1]).numpy() for i in range(len(windows))]
        )

    def predict(
        self,
        source: AudioSource | np.ndarray,
        sample_rate: int | None = None,
        *,
        name: str | None = None,
    ) -> Prediction:
        """Predict one recording; raises :class:`AudioError` with a readable message on bad input."""
        samples = self.load(source, sample_rate, name=name)
        windows = self.features(samples)
        probabilities = self.window_probabilities(windows).mean(axis=0)
        best = int(np.argmax(probabilities))
        return Prediction(
            emotion=self.labels[best],
            probabilities={
                label: float(p) for label, p in zip(self.labels, probabilities, strict=True)
            },
            duration_s=samples.size / self.params.sample_rate,
            windows=len(windows),
            source=describe_source(source, name),
            samples=samples,
            features=windows,
        )
