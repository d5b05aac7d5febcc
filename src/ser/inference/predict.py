"""Predict the emotion of a recording with the shipped model: the one prediction path.

The predictor runs the model exported to ONNX by notebook 03 with
``onnxruntime`` (no TensorFlow: a new process answers in about two seconds),
after the same loader (:mod:`ser.data.audio`) and the same feature code
(:mod:`ser.features.extraction`) as training. Normalisation happens inside the model.

A recording longer than the model's 4.02 s window is cut into windows that
overlap by half (the last one ends with the recording): each window gets its own
prediction (the *timeline*), and the recording's probabilities are the windows'
average. A shorter one is padded exactly as in training. Probabilities are
calibrated by the temperature fitted on the model's validation actors, and a
prediction whose top probability is below the threshold chosen there is marked
unsure. Before any of this, a voice-activity check (:mod:`ser.inference.speech`) decides
whether anyone is speaking: noise, music or silence gets "no speech found"
(``emotion`` None, with the reason) instead of an emotion.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ser.config import MAX_UPLOAD_BYTES, MAX_UPLOAD_SECONDS, MODELS_DIR, WINDOW_HOP_FRACTION
from ser.data.audio import AudioError, AudioSource, describe_source, load_audio, to_mono_at_rate
from ser.features.extraction import FeatureParams, feature_matrix
from ser.inference.speech import SpeechCheck, VoiceActivity
from ser.models.artifacts import ONNX_FILE, label_list, read_metadata, require_files
from ser.models.calibration import Calibration

if TYPE_CHECKING:  # pandas only for the comparison table, not at every prediction's import
    import pandas as pd

# Below this there is too little speech for an emotion; such input is refused.
MIN_SECONDS = 0.5


@dataclass
class Window:
    """One analysis window of a recording: where it lies and what the model heard in it."""

    start_s: float
    end_s: float
    emotion: str
    probabilities: dict[str, float]

    def as_dict(self) -> dict:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "emotion": self.emotion, "probabilities": self.probabilities}  # fmt: skip


@dataclass
class Prediction:
    """The predicted emotion, calibrated probabilities, the timeline and what was analysed.

    ``emotion`` is None when the voice-activity check found no speech; ``reason`` says so.
    """

    emotion: str | None
    probabilities: dict[str, float]  # calibrated; empty without speech
    duration_s: float
    windows: int
    source: str = ""
    confident: bool = True  # False: the top probability is below the model's threshold
    timeline: list[Window] = field(default_factory=list)
    samples: np.ndarray = field(default=None, repr=False)  # mono, at the feature rate
    features: np.ndarray = field(default=None, repr=False)  # (windows, frames, features)
    speech: SpeechCheck | None = None
    reason: str = ""  # why there is no emotion ("no speech found: ...")

    @property
    def confidence(self) -> float:
        return self.probabilities[self.emotion] if self.emotion else 0.0

    def as_dict(self) -> dict:
        row = {"file": self.source, "emotion": self.emotion, "confident": self.confident,
               "probabilities": self.probabilities}  # fmt: skip
        if self.reason:
            row["reason"] = self.reason
        return row


def encoder_front_end(params: FeatureParams, recorded: dict | None = None):
    """The encoder model's front end (level, window) for ``whisper`` features: the one a
    model recorded in its metadata, else the project's; None for every other kind."""
    if params.kind != "whisper":
        return None
    from ser.features.encoder_states import DEFAULT_FRONT, FrontEnd

    return FrontEnd(**recorded) if recorded is not None else DEFAULT_FRONT


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


BATCH_WINDOWS = 64


class Predictor:
    """The shipped model (ONNX) with its labels, feature parameters and calibration, loaded once."""

    def __init__(self, model_dir: str | Path = MODELS_DIR, threads: int | None = None):
        """``threads``: onnxruntime's threads (its default: one per core); batch workers use 1."""
        import onnxruntime

        self.model_dir = Path(model_dir)
        require_files(self.model_dir, ONNX_FILE)
        self.metadata = read_metadata(self.model_dir)
        self.labels = label_list(self.metadata)
        self.params = FeatureParams(**self.metadata["features"])
        self.front = encoder_front_end(self.params, self.metadata.get("front_end"))
        calibration = self.metadata.get("calibration")
        self.calibration = Calibration(**calibration) if calibration else None
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: no graph-optimisation chatter
        if threads:
            options.intra_op_num_threads = options.inter_op_num_threads = threads
        try:
            self.session = onnxruntime.InferenceSession(
                str(self.model_dir / ONNX_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types
            raise ValueError(
                f"{self.model_dir / ONNX_FILE}: not a loadable ONNX model ({error})"
            ) from None
        self.input_name = self.session.get_inputs()[0].name
        self.voice = VoiceActivity()

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
        if self.front is not None:
            from ser.features.encoder_states import whisper_window

            return np.stack(
                [whisper_window(samples[s : s + window], window, self.front) for s in starts]
            )
        return np.stack([feature_matrix(samples[s : s + window], self.params) for s in starts])

    def window_probabilities(self, windows: np.ndarray) -> np.ndarray:
        """Class probabilities per window, ``(windows, classes)``, from feature matrices, in
        batches of :data:`BATCH_WINDOWS` (an encoder's attention grows with the batch)."""
        windows = np.asarray(windows, dtype=np.float32)
        return np.concatenate([
            self.session.run(None, {self.input_name: windows[start : start + BATCH_WINDOWS]})[0]
            for start in range(0, max(len(windows), 1), BATCH_WINDOWS)
        ])  # fmt: skip

    def calibrated(self, probabilities: np.ndarray) -> np.ndarray:
        """Probabilities after the model's temperature (unchanged if it has none)."""
        if self.calibration is None:
            return np.asarray(probabilities, dtype=np.float64)
        return self.calibration.apply(probabilities)

    def is_confident(self, probabilities: np.ndarray) -> bool:
        """Whether calibrated probabilities reach the model's threshold (always, without one)."""
        return (
            self.calibration is None or float(np.max(probabilities)) >= self.calibration.threshold
        )

    def timeline(self, window_probabilities: np.ndarray, n_samples: int) -> list[Window]:
        """Per-window predictions with their start and end in seconds (calibrated)."""
        rate, window = self.params.sample_rate, self.params.n_samples
        rows = []
        starts = window_starts(n_samples, window)
        for start, p in zip(starts, self.calibrated(window_probabilities), strict=True):
            rows.append(Window(
                start / rate, min(start + window, n_samples) / rate, self.labels[int(np.argmax(p))],
                {label: float(v) for label, v in zip(self.labels, p, strict=True)},
            ))  # fmt: skip
        return rows

    def predict(
        self,
        source: AudioSource | np.ndarray,
        sample_rate: int | None = None,
        *,
        name: str | None = None,
    ) -> Prediction:
        """Predict one recording; raises :class:`AudioError` with a readable message on bad input.

        Without speech the prediction has no emotion, no probabilities and no timeline.
        """
        samples = self.load(source, sample_rate, name=name)
        speech = self.voice.check(samples, self.params.sample_rate) if self.voice else None
        if speech is not None and not speech.found:
            return Prediction(
                emotion=None, probabilities={}, duration_s=samples.size / self.params.sample_rate,
                windows=0, source=describe_source(source, name), confident=False,
                samples=samples, speech=speech, reason=speech.reason,
            )  # fmt: skip
        windows = self.features(samples)
        raw = self.window_probabilities(windows)
        answer = self.answer(raw)
        return replace(
            answer,
            duration_s=samples.size / self.params.sample_rate,
            source=describe_source(source, name),
            timeline=self.timeline(raw, samples.size),
            samples=samples,
            features=windows,
            speech=speech,
        )

    def answer(self, window_probabilities: np.ndarray) -> Prediction:
        """One recording's answer from its windows' raw probabilities: averaged, then
        calibrated as one clip's would be, the emotion and whether the model is sure."""
        probabilities = self.calibrated(window_probabilities.mean(axis=0, keepdims=True))[0]
        best = int(np.argmax(probabilities))
        return Prediction(
            emotion=self.labels[best],
            probabilities={
                label: float(p) for label, p in zip(self.labels, probabilities, strict=True)
            },
            duration_s=0.0,
            windows=len(window_probabilities),
            confident=self.is_confident(probabilities),
        )


def answers_table(folders: dict[str, Path], clips) -> pd.DataFrame:
    """Each model folder's answer and confidence on each clip of ``clips`` (``path``,
    ``clip_id``, ``emotion``) whose true label every model knows, one row per clip."""
    import pandas as pd

    predictors = {name: Predictor(folder) for name, folder in folders.items()}
    rows = []
    for clip in clips.itertuples():
        if not all(clip.emotion in predictor.labels for predictor in predictors.values()):
            continue
        row = {"clip": clip.clip_id, "true": clip.emotion}
        for name, predictor in predictors.items():
            answer = predictor.predict(clip.path)
            row[f"{name}: predicted"] = answer.emotion
            row[f"{name}: confidence"] = round(answer.confidence, 3)
        rows.append(row)
    return pd.DataFrame(rows).set_index("clip")


class ModelPredictor(Predictor):
    """The same prediction path around an in-memory Keras model that is not shipped (yet).

    Used to score candidate models on perturbed validation clips; no calibration.
    """

    def __init__(
        self, model, params: FeatureParams, labels: list[str] | None = None, front=None
    ):  # fmt: skip
        """``front``: an encoder model's front end (default: the project's, for whisper features)."""
        from ser.config import EMOTION_NAMES

        self.model, self.params = model, params
        self.labels = list(labels or EMOTION_NAMES)
        self.front = front or encoder_front_end(params)
        self.metadata, self.calibration = {}, None
        self.voice = None  # candidates are scored on speech clips only

    def window_probabilities(self, windows: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(np.asarray(windows, dtype=np.float32), training=False))
