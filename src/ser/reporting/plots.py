"""Every figure of the report, drawn once here and saved to ``figures/``."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import librosa
import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ser.config import EMOTION_NAMES, FIGURES_DIR, HOP_LENGTH, N_FFT, SAMPLE_RATE
from ser.data.audio import load_audio

sns.set_theme(style="whitegrid", context="notebook")


def describe_figure(fig: plt.Figure) -> str:
    """Alternative text for a figure, from its suptitle and its axes' titles and labels."""
    parts = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        title = ax.get_title() or ax.get_ylabel()
        if title and title not in parts:
            parts.append(title)
    return "Figure: " + ("; ".join(parts) if parts else "untitled")


def show_figure(fig: plt.Figure, alt: str | None = None) -> None:
    """Show ``fig`` in a notebook as an image with alternative text, then close it."""
    from IPython.display import HTML, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode()
    text = html.escape(alt or describe_figure(fig), quote=True)
    display(HTML(f'<img alt="{text}" style="max-width: 100%" src="data:image/png;base64,{data}">'))
    plt.close(fig)


def save_figure(
    fig: plt.Figure, name: str, folder: Path = FIGURES_DIR, alt: str | None = None
) -> None:
    """Save ``fig`` as ``folder/name.png`` (150 dpi) and show it with alternative text."""
    folder.mkdir(parents=True, exist_ok=True)
    fig.savefig(folder / f"{name}.png", dpi=150, bbox_inches="tight")
    show_figure(fig, alt)


def plot_waveform(ax: plt.Axes, samples: np.ndarray, sample_rate: int) -> None:
    """Draw a waveform against time in seconds (a plain line: librosa's waveshow redraws slowly)."""
    ax.plot(np.arange(samples.size) / sample_rate, samples, linewidth=0.3)
    ax.set_xlim(0, samples.size / sample_rate)
    ax.set_xlabel("time (s)")


def plot_clip_counts(index: pd.DataFrame) -> plt.Figure:
    """Clips per emotion, intensity, gender and actor."""
    fig = plt.figure(figsize=(13, 7), layout="constrained")
    grid = fig.add_gridspec(2, 3)
    panels = [
        (grid[0, 0], "emotion", EMOTION_NAMES),
        (grid[0, 1], "intensity", ["normal", "strong"]),
        (grid[0, 2], "gender", ["male", "female"]),
        (grid[1, :], "actor", sorted(index["actor"].unique())),
    ]
    for spec, column, order in panels:
        ax = fig.add_subplot(spec)
        counts = index[column].value_counts().reindex(order, fill_value=0)
        ax.bar([str(v) for v in counts.index], counts.values, color=sns.color_palette()[0])
        ax.set_title(f"clips per {column}")
        ax.set_ylabel("clips")
        ax.bar_label(ax.containers[0], fontsize=8)
        if column == "emotion":
            ax.tick_params(axis="x", rotation=45)
    return fig


def plot_durations(index: pd.DataFrame) -> plt.Figure:
    """Histogram of clip durations, overall and per emotion."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4), layout="constrained")
    sns.histplot(index["duration_s"], bins=40, ax=left)
    left.axvline(index["duration_s"].median(), color="k", linestyle="--", label="median")
    left.set_xlabel("duration (s)")
    left.set_title("clip durations")
    left.legend()
    sns.boxplot(data=index, x="emotion", y="duration_s", order=EMOTION_NAMES, ax=right)
    right.set_ylabel("duration (s)")
    right.set_title("duration per emotion")
    right.tick_params(axis="x", rotation=45)
    return fig


def plot_waveforms_and_spectrograms(
    clips: pd.DataFrame, sample_rate: int = SAMPLE_RATE
) -> plt.Figure:
    """For each clip (one per emotion): its waveform above its log-mel spectrogram."""
    n = len(clips)
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5), layout="constrained", sharey="row")
    axes = np.asarray(axes).reshape(2, n)
    image = None
    for column, row in enumerate(clips.itertuples()):
        samples = load_audio(row.path, sample_rate)
        wave_ax, spec_ax = axes[0, column], axes[1, column]
        plot_waveform(wave_ax, samples, sample_rate)
        wave_ax.set_title(row.emotion)
        mel = librosa.feature.melspectrogram(
            y=samples, sr=sample_rate, n_fft=N_FFT, hop_length=HOP_LENGTH
        )
        image = librosa.display.specshow(
            librosa.power_to_db(mel, ref=np.max),
            sr=sample_rate,
            hop_length=HOP_LENGTH,
            x_axis="time",
            y_axis="mel",
            ax=spec_ax,
            vmin=-80,
            vmax=0,
        )
        if column:
            wave_ax.set_ylabel("")
            spec_ax.set_ylabel("")
    fig.colorbar(image, ax=axes[1, :].tolist(), format="%+2.0f dB", shrink=0.8)
    actors = ", ".join(str(a) for a in sorted(clips["actor"].unique()))
    fig.suptitle(f"waveform and log-mel spectrogram per emotion (actor {actors})")
    return fig


def audio_players(clips: pd.DataFrame, sample_rate: int = 16_000):
    """An HTML table with one embedded audio player per clip (16 kHz keeps the page small)."""
    from IPython.display import HTML, Audio

    rows = []
    for row in clips.itertuples():
        player = Audio(load_audio(row.path, sample_rate), rate=sample_rate)._repr_html_()
        rows.append(
            f"<tr><td><b>{row.emotion}</b></td><td>{row.clip_id}</td><td>{player}</td></tr>"
        )
    return HTML(
        "<table><tr><th>emotion</th><th>clip</th><th>listen</th></tr>" + "".join(rows) + "</table>"
    )


def plot_features_per_emotion(
    features: np.ndarray, index: pd.DataFrame, clips: pd.DataFrame, kind: str = "mfcc"
) -> plt.Figure:
    """The feature matrix (features x frames) of one clip per emotion.

    MFCCs are shown as z-scores per coefficient over all clips and frames (raw
    coefficient 0, loudness, is two orders of magnitude larger than the rest and
    would wash them out); log-mel bands in dB, down to 80 dB below each clip's peak.
    """
    positions = index.reset_index(drop=True).reset_index().set_index("clip_id")["index"]
    flat = features.reshape(-1, features.shape[-1])
    mean, std = flat.mean(axis=0), flat.std(axis=0)
    n = len(clips)
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n, 3.4), layout="constrained", sharey=True)
    image = None
    for ax, row in zip(np.atleast_1d(axes), clips.itertuples(), strict=True):
        matrix = features[positions[row.clip_id]]
        if kind == "mfcc":
            image = ax.imshow(((matrix - mean) / std).T, origin="lower", aspect="auto",
                              cmap="coolwarm", vmin=-3, vmax=3)  # fmt: skip
        else:
            image = ax.imshow(matrix.T, origin="lower", aspect="auto", cmap="magma",
                              vmin=float(matrix.max()) - 80, vmax=float(matrix.max()))  # fmt: skip
        ax.grid(False)
        ax.set_title(row.emotion)
        ax.set_xlabel("frame")
    np.atleast_1d(axes)[0].set_ylabel("MFCC coefficient" if kind == "mfcc" else "mel band")
    label = "z-score per coefficient" if kind == "mfcc" else "power (dB), last panel's scale"
    fig.colorbar(image, ax=axes, shrink=0.8, label=label)
    return fig


def plot_training_curves(histories: dict[str, dict[int, dict[str, list[float]]]]) -> plt.Figure:
    """Loss (training dashed, validation solid) and validation UA per epoch, per run and fold."""
    fig, (loss_ax, ua_ax) = plt.subplots(1, 2, figsize=(13, 4.2), layout="constrained")
    palette = sns.color_palette("tab10")
    colour = 0
    for name, folds in histories.items():
        for fold, history in folds.items():
            label = f"{name} fold {fold}" if int(fold) else name
            c = palette[colour % len(palette)]
            colour += 1
            epochs = np.arange(1, len(history["loss"]) + 1)
            loss_ax.plot(epochs, history["loss"], "--", color=c, alpha=0.6)
            loss_ax.plot(history["val_epoch"], history["val_loss"], "-", color=c, label=label)
            ua_ax.plot(history["val_epoch"], history["val_uar"], "-", color=c, label=label)
    loss_ax.set(title="loss (dashed: training, solid: validation)", xlabel="epoch", ylabel="loss")
    ua_ax.set(title="UA on the validation actors", xlabel="epoch", ylabel="UA")
    ua_ax.legend(fontsize=8, ncol=2)
    return fig


def plot_comparison(rows: pd.DataFrame, chance: float) -> plt.Figure:
    """UA per model and protocol: bars at the mean over folds, whiskers at ± one std.

    ``rows`` has columns model, protocol, uar, std (one row per model and protocol).
    """
    models = list(dict.fromkeys(rows["model"]))
    protocols = list(dict.fromkeys(rows["protocol"]))
    fig, ax = plt.subplots(
        figsize=(10, 0.55 * len(models) * len(protocols) + 1.2), layout="constrained"
    )
    height = 0.8 / len(protocols)
    palette = sns.color_palette("deep")
    for k, protocol in enumerate(protocols):
        part = rows[rows["protocol"] == protocol].set_index("model").reindex(models)
        y = np.arange(len(models)) + (k - (len(protocols) - 1) / 2) * height
        ax.barh(y, part["uar"], height, xerr=part["std"], color=palette[k], label=protocol,
                error_kw={"capsize": 3, "elinewidth": 1})  # fmt: skip
        for yi, value, spread in zip(y, part["uar"], part["std"], strict=True):
            if np.isfinite(value):  # the label sits right of the whisker
                ax.text(value + spread + 0.01, yi, f"{value:.3f}", va="center", fontsize=8)
    ax.axvline(chance, color="k", linestyle=":", label=f"chance ({chance:.3f})")
    ax.set_yticks(np.arange(len(models)), models)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="UA (mean over folds; whiskers: ± std over folds)",
           title="Unweighted accuracy per model and protocol")  # fmt: skip
    ax.legend(loc="lower right", fontsize=8)
    return fig


def plot_confusion(matrix: pd.DataFrame, title: str, ax=None) -> plt.Figure:
    """Heatmap of a row-normalised confusion matrix (recall on the diagonal)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 5.5), layout="constrained")
    else:
        fig = ax.figure
    sns.heatmap(matrix, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, square=True,
                cbar=False, ax=ax, annot_kws={"fontsize": 8})  # fmt: skip
    ax.set_title(title)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.tick_params(axis="x", rotation=45)
    ax.tick_params(axis="y", rotation=0)
    return fig


def plot_confusions(matrices: dict[str, pd.DataFrame]) -> plt.Figure:
    """Confusion heatmaps side by side, one per protocol."""
    fig, axes = plt.subplots(
        1, len(matrices), figsize=(6.5 * len(matrices), 5.8), layout="constrained"
    )
    for ax, (title, matrix) in zip(np.atleast_1d(axes), matrices.items(), strict=True):
        plot_confusion(matrix, title, ax=ax)
    return fig


def plot_group_accuracy(tables: dict[str, pd.DataFrame], by: str) -> plt.Figure:
    """Accuracy per group (actor, gender or intensity), one bar colour per table (model)."""
    frames = [table.assign(model=name) for name, table in tables.items()]
    data = pd.concat(frames, ignore_index=True)
    width = min(13, max(6, 0.45 * data[by].nunique() * len(tables)))
    fig, ax = plt.subplots(figsize=(width, 3.8), layout="constrained")
    sns.barplot(data=data, x=by, y="accuracy", hue="model", ax=ax)
    ax.set_ylim(0, 1)
    ax.set_title(f"accuracy per {by}")
    return fig


def plot_calibration(
    raw: np.ndarray, calibrated: np.ndarray, targets: np.ndarray, result
) -> plt.Figure:
    """Reliability diagrams before and after temperature scaling, and accuracy against the
    share of clips answered, the chosen thresholds marked (``result``: a CalibrationResult)."""
    from ser.models.calibration import coverage_curve, reliability_table

    before, after = reliability_table(raw, targets), reliability_table(calibrated, targets)
    coverage = coverage_curve(calibrated, targets)
    ece = (result.ece_before, result.ece_after)
    answered = (result.answered_share, result.answered_accuracy)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    for ax, table, name, value in zip(
        axes[:2], (before, after), ("raw", "calibrated"), ece, strict=True
    ):
        shown = table.dropna()
        ax.bar(shown["low"], shown["accuracy"], width=shown["high"] - shown["low"], align="edge",
               color="#4c72b0", edgecolor="white", label="accuracy")  # fmt: skip
        ax.plot([0, 1], [0, 1], color="black", lw=1, ls="--", label="perfect calibration")
        ax.plot(shown["confidence"], shown["accuracy"], "o", color="#dd8452", ms=4,
                label="mean confidence of the bin")  # fmt: skip
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top probability)", ylabel="accuracy",
               title=f"{name} probabilities: ECE {value:.3f}")  # fmt: skip
        ax.legend(loc="upper left", fontsize=8)
    ax = axes[2]
    ax.plot(coverage["answered"], coverage["accuracy"], color="#4c72b0")
    ax.plot(*answered, "o", color="#c44e52", label=f"thresholds: {answered[0]:.0%} answered, "
            f"accuracy {answered[1]:.2f}")  # fmt: skip
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="share of clips answered (most confident first)",
           ylabel="accuracy of the answered clips", title="answering only when sure")  # fmt: skip
    ax.legend(loc="lower left", fontsize=8)
    fig.suptitle("calibration on held-out actors (speaker-independent folds)")
    return fig


def plot_robustness(table: pd.DataFrame) -> plt.Figure:
    """UA per condition (rows) for each model (columns), with the clean UA as a line."""
    fig, ax = plt.subplots(figsize=(13, 4.2), layout="constrained")
    table.plot.bar(ax=ax, width=0.8, rot=30)
    for i, clean in enumerate(table.loc["clean"]):
        ax.axhline(clean, color=f"C{i}", lw=1, ls="--", alpha=0.7)
        ax.axhline(clean - 0.15, color=f"C{i}", lw=0.6, ls=":", alpha=0.7)
    ax.set(ylim=(0, 1), ylabel="UA", xlabel="",
           title="UA under real-world damage (dashed: clean; dotted: 15 points below clean)")  # fmt: skip
    plt.setp(ax.get_xticklabels(), ha="right")
    ax.legend(fontsize=8, loc="lower left")
    return fig


def plot_timeline(samples: np.ndarray, sample_rate: int, timeline: list, labels: list[str],
                  threshold: float | None = None) -> plt.Figure:  # fmt: skip
    """The waveform, and per analysis window the emotion and its probability against time."""
    fig, (wave_ax, prob_ax) = plt.subplots(
        2, 1, figsize=(11, 4.2), sharex=True, layout="constrained", height_ratios=(1, 1.3)
    )
    plot_waveform(wave_ax, samples, sample_rate)
    wave_ax.set_title("waveform")
    colours = dict(zip(labels, sns.color_palette("tab10", len(labels)), strict=True))
    centres = [(w.start_s + w.end_s) / 2 for w in timeline]
    for label in labels:
        prob_ax.plot(centres, [w.probabilities[label] for w in timeline], "-o", ms=3, lw=1.2,
                     color=colours[label], label=label)  # fmt: skip
    for w in timeline:
        top = w.probabilities[w.emotion]
        prob_ax.axvspan(w.start_s, w.end_s, ymin=0.94, ymax=1.0, color=colours[w.emotion],
                        alpha=0.3 + 0.7 * top)  # fmt: skip
    if threshold is not None:
        prob_ax.axhline(threshold, color="grey", ls=":", lw=1, label="unsure below")
    prob_ax.set(ylim=(0, 1.05), xlabel="time (s)", ylabel="probability",
                title="emotion over time (one point per analysis window)")  # fmt: skip
    prob_ax.legend(ncol=5, fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.3))
    return fig


def plot_learning_curve(table: pd.DataFrame, chance: float) -> plt.Figure:
    """UA on the held-out speaker against clips per label, one line per column of ``table``."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    positions = np.arange(len(table))
    for column in table.columns:
        ax.plot(positions, table[column], marker="o", label=column)
    ax.axhline(chance, color="grey", linestyle=":", label="chance")
    ax.set_xticks(positions, [str(i) for i in table.index])
    ax.set_xlabel("clips per label (training speakers)")
    ax.set_ylabel("UA on the held-out speaker")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    return fig
