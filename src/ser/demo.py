"""The upload-and-predict demo: ipywidgets for JupyterLab and Voila, and its display.

:func:`render_prediction` is the single code path: the widget callbacks call it
inside the widget's output area, and the notebook calls it directly for the
``demo_clip`` parameter, so the static HTML report shows a real prediction.
"""

from __future__ import annotations

import html
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import HTML, Audio, display

from ser.architectures import ModelSpec
from ser.audio import AudioError
from ser.config import AUDIO_SUFFIXES, SAMPLES_DIR
from ser.dataset import parse_filename
from ser.plots import plot_waveform, show_figure
from ser.predict import Prediction, Predictor

ACCEPT = ",".join(AUDIO_SUFFIXES) + ",audio/*"
STYLE = """<style>
.ser-result h3 {margin: 0.2em 0;}
.ser-bars {border-collapse: collapse; margin: 0.4em 0;}
.ser-bars td {padding: 2px 6px; font-family: sans-serif; font-size: 13px;}
.ser-bar {height: 14px; background: #4c72b0;}
.ser-bar.top {background: #dd8452;}
.ser-error {color: #a40000; background: #fff0f0; border: 1px solid #e0b0b0; padding: 8px 12px;
            font-family: sans-serif; border-radius: 4px;}
</style>"""


def sample_clips(folder: Path = SAMPLES_DIR) -> list[tuple[str, Path]]:
    """(label, path) of the bundled sample clips, labelled with their true emotion and actor."""
    options = []
    for path in sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        fields = parse_filename(path)
        options.append((f"{fields['emotion']} (actor {fields['actor']}, {path.name})", path))
    return options


def probability_bars(prediction: Prediction) -> str:
    """A horizontal bar per emotion, as HTML, the predicted one highlighted."""
    rows = []
    for emotion, p in sorted(prediction.probabilities.items(), key=lambda item: -item[1]):
        top = " top" if emotion == prediction.emotion else ""
        rows.append(
            f'<tr class="ser-row" data-emotion="{emotion}"><td>{emotion}</td>'
            f'<td style="width: 260px"><div class="ser-bar{top}" style="width: {100 * p:.1f}%"></div></td>'
            f"<td>{p:.1%}</td></tr>"
        )
    return '<table class="ser-bars">' + "".join(rows) + "</table>"


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
    what = "log-mel power (dB)" if params.kind == "logmel" else "MFCCs"
    feature_ax.set(
        title=f"{what}, first {params.window_seconds:.2f} s window", xlabel="frame",
        ylabel="mel band" if params.kind == "logmel" else "coefficient",
    )  # fmt: skip
    fig.colorbar(image, ax=feature_ax)
    return fig


def error_html(title: str, message: str) -> HTML:
    """A boxed, escaped error message for the demo's output area."""
    return HTML(
        f'{STYLE}<div class="ser-error"><b>{html.escape(title)}</b> {html.escape(message)}</div>'
    )


def render_prediction(predictor: Predictor, source, name: str) -> Prediction | None:
    """Predict ``source`` and display the result, or display the error in words."""
    try:
        prediction = predictor.predict(source, name=name)
    except AudioError as error:
        display(error_html(f"Could not analyse {name}.", str(error)))
        return None
    windows = "one window" if prediction.windows == 1 else f"{prediction.windows} windows, averaged"
    display(HTML(
        f'{STYLE}<div class="ser-result"><h3>Predicted emotion: '
        f'<span class="ser-emotion">{prediction.emotion}</span></h3>'
        f"<div>{html.escape(name)}: {prediction.duration_s:.2f} s ({windows})</div>"
        f"{probability_bars(prediction)}</div>"
    ))  # fmt: skip
    show_figure(plot_signal(prediction, predictor))
    display(Audio(prediction.samples, rate=predictor.params.sample_rate))
    return prediction


class DemoApp:
    """Upload a file or pick a bundled sample; the result appears below."""

    def __init__(self, predictor: Predictor, samples_folder: Path = SAMPLES_DIR):
        import ipywidgets as widgets

        self.predictor = predictor
        self.upload = widgets.FileUpload(accept=ACCEPT, multiple=False, description="Upload audio")
        self.samples = widgets.Dropdown(
            options=[("- pick a sample clip -", None), *sample_clips(samples_folder)],
            description="or a sample:", layout=widgets.Layout(width="420px"),
            style={"description_width": "initial"},
        )  # fmt: skip
        self.output = widgets.Output(layout=widgets.Layout(min_height="60px"))
        self.upload.observe(self._on_upload, names="value")
        self.samples.observe(self._on_sample, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.upload, self.samples]), self.output])

    def show(self, source, name: str) -> None:
        with self.output:
            self.output.clear_output(wait=True)
            try:
                render_prediction(self.predictor, source, name)
            except Exception as error:  # never let a callback die silently in the page
                display(error_html("Unexpected error.", f"{type(error).__name__}: {error}"))

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        upload = files[0]
        self.show(bytes(upload["content"]), upload["name"])

    def _on_sample(self, change) -> None:
        if change["new"] is not None:
            self.show(change["new"], Path(change["new"]).name)

    def _ipython_display_(self) -> None:
        display(self.widget)


def emotion_of(path: Path) -> str:
    """The true emotion of a RAVDESS-named file (for labelling examples)."""
    return parse_filename(path)["emotion"]


def model_summary(predictor: Predictor) -> str:
    """What the loaded model is, what it was trained on and never heard, from its metadata."""
    info = predictor.metadata
    params = predictor.params
    recipe = ModelSpec(**info["spec"]).summary() if "spec" in info else info.get("description", "")
    if info.get("members"):
        recipe += f"; the average of {info['members']} such models (seeds)"
    return (
        f"The model (`{info['model']}`: {recipe}) was trained on "
        f"{len(info['trained_on_actors'])} RAVDESS actors; actors "
        f"{', '.join(map(str, info['validation_actors']))} validated it. The samples come from "
        f"actors {', '.join(map(str, info['held_out_actors']))}, whom it never heard. Recordings "
        f"longer than {params.window_seconds:.2f} s are analysed in half-overlapping windows of that "
        "length whose probabilities are averaged. Expect it to be unsure on anything unlike RAVDESS: "
        "acted, studio-quality North-American English."
    )
