"""The demo: upload, record or pick a sample, and see the emotion over time and how sure it is.

One set of widgets (:class:`DemoApp`) serves both notebook 05 (JupyterLab, the
report) and the app page that ``make demo`` serves with Voila (:func:`app`, from
``ser/app.ipynb``). :func:`render_prediction` is the single display path: the
widget callbacks call it inside the output area, and notebook 05 calls it
directly for its ``demo_clip`` parameter, so the static report shows a real
prediction. The microphone recorder is a small anywidget (:class:`MicRecorder`,
``recorder.js``) that sends WAV bytes to Python.
"""

from __future__ import annotations

import html
from pathlib import Path

import anywidget
import matplotlib.pyplot as plt
import traitlets
from IPython.display import HTML, Audio, display

from ser.config import AUDIO_SUFFIXES, MAX_UPLOAD_BYTES, MAX_UPLOAD_SECONDS, SAMPLES_DIR
from ser.data.audio import AudioError
from ser.data.dataset import parse_filename
from ser.inference.predict import Prediction, Predictor
from ser.inference.speech import SPEECH_THRESHOLD
from ser.models.specs import ModelSpec
from ser.reporting.plots import plot_timeline, plot_waveform, show_figure
from ser.reporting.templating import render

ACCEPT = ",".join(AUDIO_SUFFIXES) + ",audio/*"
STYLE = """<style>
.ser-result h3 {margin: 0.2em 0;}
.ser-bars {border-collapse: collapse; margin: 0.4em 0;}
.ser-bars td {padding: 2px 6px; font-family: sans-serif; font-size: 13px;}
.ser-bar {height: 14px; background: #4c72b0;}
.ser-bar.top {background: #dd8452;}
.ser-error {color: #a40000; background: #fff0f0; border: 1px solid #e0b0b0; padding: 8px 12px;
            font-family: sans-serif; border-radius: 4px;}
.ser-unsure {color: #8a5a00; background: #fff8e6; border: 1px solid #e8d4a0; padding: 6px 10px;
             font-family: sans-serif; border-radius: 4px; margin: 0.3em 0;}
.ser-windows {border-collapse: collapse; font-family: sans-serif; font-size: 12px;}
.ser-windows td, .ser-windows th {padding: 1px 8px; text-align: left;}
</style>"""
RECORDER_CSS = """
.ser-recorder {display: flex; align-items: center; gap: 10px; font-family: sans-serif;
               font-size: 13px; flex-wrap: wrap;}
.ser-record-button {padding: 4px 12px; border-radius: 4px; border: 1px solid #999;
                    background: #f7f7f7; cursor: pointer;}
.ser-record-button.ser-recording {background: #c44e52; color: white; border-color: #c44e52;}
.ser-meter {width: 120px; height: 10px; background: #e6e6e6; border-radius: 5px; overflow: hidden;}
.ser-level {height: 100%; width: 0%; background: #55a868; transition: width 0.08s;}
.ser-mic-message {flex-basis: 100%;}
.ser-mic-error {color: #a40000; background: #fff0f0; border: 1px solid #e0b0b0; padding: 6px 10px;
                border-radius: 4px;}
"""


class MicRecorder(anywidget.AnyWidget):
    """Start/stop recording in the browser; ``wav`` receives 16-bit mono WAV bytes on stop.

    ``status``: "", "recording", "recorded", "denied", "unavailable" or "empty", set by the
    browser; Python sets "analysed" once the recording's result is shown.
    """

    _esm = Path(__file__).with_name("recorder.js")
    _css = RECORDER_CSS
    # The browser sends a binary buffer, which arrives as a memoryview: keep it as bytes.
    wav = traitlets.Bytes(b"").tag(sync=True, from_json=lambda value, _: bytes(value or b""))
    status = traitlets.Unicode("").tag(sync=True)
    max_seconds = traitlets.Float(MAX_UPLOAD_SECONDS).tag(sync=True)


class AudioUpload(anywidget.AnyWidget):
    """Upload one audio file; the browser refuses a file over ``max_bytes`` without sending it.

    ``serial`` counts uploads (Python observes it); ``name`` and ``data`` hold the
    last file sent, ``refused`` the name and size of the last one refused.
    """

    _esm = Path(__file__).with_name("upload.js")
    accept = traitlets.Unicode(ACCEPT).tag(sync=True)
    max_bytes = traitlets.Int(MAX_UPLOAD_BYTES).tag(sync=True)
    name = traitlets.Unicode("").tag(sync=True)
    data = traitlets.Bytes(b"").tag(sync=True, from_json=lambda value, _: bytes(value or b""))
    refused = traitlets.Dict({}).tag(sync=True)
    serial = traitlets.Int(0).tag(sync=True)


def sample_clips(folder: Path = SAMPLES_DIR) -> list[tuple[str, Path]]:
    """(label, path) of the bundled sample clips, labelled with their true emotion and actor."""
    options = []
    for path in sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        fields = parse_filename(path)
        options.append((f"{fields['emotion']} (actor {fields['actor']}, {path.name})", path))
    return options


def plot_signal(prediction: Prediction, predictor: Predictor) -> plt.Figure:
    """The waveform, and the first window's features (log-mel in dB, or MFCCs)."""
    sample_rate = predictor.params.sample_rate
    fig, (wave_ax, feature_ax) = plt.subplots(1, 2, figsize=(11, 2.8), layout="constrained")
    samples = prediction.samples
    plot_waveform(wave_ax, samples, sample_rate)
    wave_ax.set_title("waveform")
    params = predictor.params
    first = prediction.features[0]
    image = feature_ax.imshow(
        first.T, origin="lower", aspect="auto", cmap="magma",
        vmin=max(float(first.min()), float(first.max()) - 80) if params.kind == "logmel" else None,
    )  # fmt: skip
    feature_ax.grid(False)
    what = {"logmel": "log-mel power (dB)", "whisper": "Whisper's log-mel"}.get(
        params.kind, "MFCCs"
    )
    feature_ax.set(
        title=f"{what}, first {params.window_seconds:.2f} s window", xlabel="frame",
        ylabel="coefficient" if params.kind == "mfcc" else "mel band",
    )  # fmt: skip
    fig.colorbar(image, ax=feature_ax)
    return fig


def error_html(title: str, message: str) -> HTML:
    """A boxed, escaped error message for the demo's output area."""
    return HTML(STYLE + render("demo_error.html", title=title, message=message))


def window_table(prediction: Prediction) -> str:
    """The timeline as a compact HTML table: one row per analysis window."""
    return render("demo_windows.html", windows=prediction.timeline)


def result_html(prediction: Prediction, predictor: Predictor, name: str) -> str:
    """The headline: the emotion (or "unsure"), the recording, and a bar per emotion."""
    windows = (
        "one window"
        if prediction.windows == 1
        else f"{prediction.windows} windows of {predictor.params.window_seconds:.1f} s, averaged"
    )
    bars = sorted(prediction.probabilities.items(), key=lambda item: -item[1])
    return STYLE + render(
        "demo_result.html", prediction=prediction, name=name, windows=windows, bars=bars,
        threshold=predictor.calibration.threshold if predictor.calibration else None,
    )  # fmt: skip


def render_prediction(predictor: Predictor, source, name: str) -> Prediction | None:
    """Predict ``source`` and display the result, or display the error in words.

    A recording longer than one window also gets its timeline: the emotion and
    its probability per window, drawn over the waveform and as a table. A
    recording without speech gets "no speech found" and no emotion.
    """
    try:
        prediction = predictor.predict(source, name=name)
    except AudioError as error:
        display(error_html(f"Could not analyse {name}.", str(error)))
        return None
    rate = predictor.params.sample_rate
    if prediction.emotion is None:
        display(HTML(STYLE + render(
            "demo_no_speech.html", prediction=prediction, name=name, threshold=SPEECH_THRESHOLD
        )))  # fmt: skip
        display(Audio(prediction.samples, rate=rate))
        return prediction
    display(HTML(result_html(prediction, predictor, name)))
    if prediction.windows > 1:
        threshold = predictor.calibration.threshold if predictor.calibration else None
        show_figure(
            plot_timeline(
                prediction.samples, rate, prediction.timeline, predictor.labels, threshold
            ),
            alt=f"Emotion over time in {name}: "
            + "; ".join(
                f"{w.start_s:.1f}-{w.end_s:.1f} s {w.emotion}" for w in prediction.timeline
            ),
        )
        display(HTML(STYLE + window_table(prediction)))
    else:
        show_figure(plot_signal(prediction, predictor))
    display(Audio(prediction.samples, rate=rate))
    return prediction


class DemoApp:
    """Upload a file, record from the microphone or pick a bundled sample; the result appears below."""

    def __init__(self, predictor: Predictor, samples_folder: Path = SAMPLES_DIR):
        import ipywidgets as widgets

        self.predictor = predictor
        self.upload = AudioUpload()
        self.recorder = MicRecorder()
        self.samples = widgets.Dropdown(
            options=[("- pick a sample clip -", None), *sample_clips(samples_folder)],
            description="or a sample:", layout=widgets.Layout(width="420px"),
            style={"description_width": "initial"},
        )  # fmt: skip
        self.output = widgets.Output(layout=widgets.Layout(min_height="60px"))
        self.upload.observe(self._on_upload, names="serial")
        self.recorder.observe(self._on_recording, names="wav")
        self.samples.observe(self._on_sample, names="value")
        label = widgets.HTML("<b>or record:</b>")
        self.widget = widgets.VBox(
            [widgets.HBox([self.upload, self.samples]), widgets.HBox([label, self.recorder]),
             self.output]
        )  # fmt: skip

    def show(self, source, name: str) -> None:
        with self.output:
            self.output.clear_output(wait=True)
            try:
                render_prediction(self.predictor, source, name)
            except Exception as error:  # never let a callback die silently in the page
                display(error_html("Unexpected error.", f"{type(error).__name__}: {error}"))

    def _on_upload(self, change) -> None:
        refused = self.upload.refused
        if refused.get("serial") == change["new"]:
            with self.output:
                self.output.clear_output(wait=True)
                display(error_html(
                    f"Could not analyse {refused['name']}.",
                    f"{refused['name']}: the file is {refused['size'] / 2**20:.0f} MB; the limit is "
                    f"{MAX_UPLOAD_BYTES // 2**20} MB (and {MAX_UPLOAD_SECONDS:.0f} s). It was not uploaded.",
                ))  # fmt: skip
            return
        self.show(self.upload.data, self.upload.name)

    def _on_recording(self, change) -> None:
        if change["new"]:
            self.show(bytes(change["new"]), "your recording")
            self.recorder.status = "analysed"

    def _on_sample(self, change) -> None:
        if change["new"] is not None:
            self.show(change["new"], Path(change["new"]).name)

    def _ipython_display_(self) -> None:
        display(self.widget)


MODEL_DIR_ENV_VAR = (
    "SER_MODEL_DIR"  # set by `make demo MODEL=...` (python -m ser.app.server --model)
)


def app(model_dir: Path | None = None) -> DemoApp:
    """The app page (``make demo``): a title, what the model is, the inputs and the result.

    The model is ``model_dir``, else the folder in ``SER_MODEL_DIR``, else the shipped one.
    """
    import os

    from ser.config import MODELS_DIR

    predictor = Predictor(model_dir or os.environ.get(MODEL_DIR_ENV_VAR) or MODELS_DIR)
    warm_up(predictor)
    display(HTML(
        '<h1 class="ser-title" style="font-family: sans-serif; margin-bottom: 0.2em">'
        "What emotion do you hear?</h1>"
        f'<p class="ser-about" style="font-family: sans-serif; max-width: 60em">{html.escape(about(predictor))}</p>'
    ))  # fmt: skip
    demo = DemoApp(predictor)
    display(demo)
    return demo


def warm_up(predictor: Predictor, folder: Path = SAMPLES_DIR) -> None:
    """Predict and draw one sample once, so the first visitor's answer does not pay for the
    lazy imports and first-call compilation (about 1.5 s) of librosa and matplotlib."""
    import io

    samples = sample_clips(folder)
    if not samples:
        return
    prediction = predictor.predict(samples[0][1])
    if prediction.emotion is not None:
        fig = plot_signal(prediction, predictor)
        fig.savefig(io.BytesIO(), format="png", dpi=100)
        plt.close(fig)


def is_own_model(metadata: dict) -> bool:
    """Whether a model folder was written by ``python -m ser train`` (not the shipped model)."""
    return "cross_validation" in metadata and "trained_on_actors" not in metadata


def about(predictor: Predictor) -> str:
    """One line on what the model is and what it was trained on."""
    info = predictor.metadata
    if is_own_model(info):
        data = info.get("data", {})
        return (
            f"Your own model: {info.get('description', info.get('model', ''))} "
            f"({data.get('clips', '?')} clips). It tells apart: {', '.join(predictor.labels)}. "
            f"Upload a recording (WAV, FLAC, OGG, MP3; up to {MAX_UPLOAD_SECONDS:.0f} s) or record one."
        )
    return (
        f"A small convolutional network on log-mel spectrograms, trained on "
        f"{len(info['trained_on_actors'])} actors of RAVDESS (acted North-American English, studio "
        f"recordings) to tell eight emotions apart: {', '.join(predictor.labels)}. Upload a "
        f"recording (WAV, FLAC, OGG, MP3; up to {MAX_UPLOAD_SECONDS:.0f} s), record one, or pick a "
        "sample from actors it never heard."
    )


def emotion_of(path: Path) -> str:
    """The true emotion of a RAVDESS-named file (for labelling examples)."""
    return parse_filename(path)["emotion"]


def model_summary(predictor: Predictor) -> str:
    """What the loaded model is, what it was trained on and never heard, from its metadata."""
    info = predictor.metadata
    params = predictor.params
    if is_own_model(info):
        cv = info.get("cross_validation", {})
        return (
            f"The model (`{info['model']}`: {info.get('description', '')}) scored UA "
            f"{cv.get('ua', float('nan')):.3f} in {cv.get('folds', '?')}-fold cross-validation grouped "
            f"by {cv.get('grouped_by', '?')} before its final fit on every clip. Recordings longer "
            f"than {params.window_seconds:.2f} s are analysed in half-overlapping windows of that "
            "length, shown as a timeline, whose probabilities are averaged."
        )
    recipe = ModelSpec(**info["spec"]).summary() if "spec" in info else info.get("description", "")
    if info.get("members"):
        recipe += f"; the average of {info['members']} such models (seeds)"
    return (
        f"The model (`{info['model']}`: {recipe}) was trained on "
        f"{len(info['trained_on_actors'])} RAVDESS actors; actors "
        f"{', '.join(map(str, info['validation_actors']))} validated it. The samples come from "
        f"actors {', '.join(map(str, info['held_out_actors']))}, whom it never heard. Recordings "
        f"longer than {params.window_seconds:.2f} s are analysed in half-overlapping windows of that "
        "length, shown as a timeline, whose probabilities are averaged. Probabilities are calibrated "
        "on the validation actors, and below the threshold chosen there the demo says the model is "
        "unsure. Expect it to be unsure on anything unlike RAVDESS: acted, studio-quality "
        "North-American English."
    )


def joined_recording(paths: list[Path]) -> bytes:
    """Clips played one after another, as one WAV recording (for the timeline example)."""
    import io

    import numpy as np
    import soundfile as sf

    from ser.config import SAMPLE_RATE
    from ser.data.audio import load_audio

    samples = np.concatenate([load_audio(path, SAMPLE_RATE) for path in paths])
    buffer = io.BytesIO()
    sf.write(buffer, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
