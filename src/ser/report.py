"""The report's front page, ``reports/index.html``, generated from the run's own files.

Headline numbers come from ``metrics.json``; stage timings, parameters and the
run date from papermill's metadata in the executed notebooks; descriptions from
each source notebook's "Purpose" line. Nothing on the page is typed by hand.

    python -m ser.report reports/
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES, FIGURES_DIR, N_ACTORS, N_CLIPS, PROJECT_ROOT, REPORTS_DIR
from ser.environment import versions
from ser.evaluation import CHANCE_UA, HEADLINE, Metrics, target_rows, top_confusions
from ser.experiments import describe_plan

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


def git_commit() -> str:
    """Short commit hash of the project, with ``-dirty`` when files differ from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
            text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "notebooks"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + ("-dirty" if dirty else "")


def purpose(source: Path) -> str:
    """The "**Purpose:** ..." sentence of a source notebook's first cell."""
    cells = json.loads(source.read_text())["cells"]
    text = "".join(cells[0]["source"]) if cells else ""
    match = re.search(r"\*\*Purpose:\*\*\s*(.+)", text)
    return match.group(1).strip() if match else ""


def inline_markdown(text: str) -> str:
    """Escape ``text`` and render the inline Markdown a purpose line uses: `code`, *em*, **b**."""
    text = html.escape(text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


def title(source: Path) -> str:
    cells = json.loads(source.read_text())["cells"]
    first = "".join(cells[0]["source"]).splitlines()[0] if cells else source.stem
    return first.lstrip("# ").strip()


def stage_record(executed: Path) -> dict:
    """Duration, start time and parameters papermill recorded for an executed notebook."""
    meta = json.loads(executed.read_text())["metadata"].get("papermill", {})
    return {
        "seconds": meta.get("duration"),
        "start": meta.get("start_time"),
        "end": meta.get("end_time"),
        "parameters": meta.get("parameters", {}),
        "failed": meta.get("exception") is True,
    }


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _models_sentence(metrics: Metrics) -> str:
    ours, ref = metrics.si(metrics.ours), metrics.si(metrics.reference)
    folds = len(ours.folds)
    return (
        f"On speakers it never heard ({folds} EmoBox folds of {len(ours.folds[0].test_actors)} "
        "held-out actors each), our model "
        f"<code>{html.escape(metrics.ours)}</code> reaches an unweighted accuracy (UA) of "
        f"<b>{_percent(ours.mean['uar'])} ± {_percent(ours.std['uar'])}</b> (mean ± std over "
        f"folds; chance is {_percent(CHANCE_UA)}), against {_percent(ref.mean['uar'])} ± "
        f"{_percent(ref.std['uar'])} for the original BiLSTM trained fairly."
    )


def abstract(metrics: Metrics | None) -> str:
    """The abstract's result sentences, every number read from ``metrics``."""
    if metrics is None:
        return "No metrics yet: run <code>make report</code>."
    parts = [_models_sentence(metrics)]
    ours = metrics.models[metrics.ours]
    spread = ours.seeds.get("speaker_independent")
    if spread and len(spread.seeds) > 1:
        parts.append(
            f"A single model of its recipe scores {_percent(spread.mean['uar'])} ± "
            f"{_percent(spread.std['uar'])} over {len(spread.seeds)} seeds"
            + (
                "; our model averages those seeds' probabilities."
                if metrics.members > 1
                else " (the spread a rerun with another seed can bring)."
            )
        )
    best_baseline = max(
        (n for n in metrics.baselines() if n != "majority"), key=lambda n: metrics.si(n).mean["uar"]
    )
    parts.append(
        f"The best baseline, {html.escape(BASELINE_LABELS.get(best_baseline, best_baseline))}, "
        f"reaches {_percent(metrics.si(best_baseline).mean['uar'])}."
    )
    random_ours = ours.protocols.get("random")
    random_ref = metrics.models[metrics.reference].protocols.get("random")
    if random_ours and random_ref:
        parts.append(
            "On the original random 80/20 split, where the same actors appear in training and "
            f"test, our model reaches accuracy {_percent(random_ours.mean['accuracy'])} and "
            f"macro-F1 {_percent(random_ours.mean['macro_f1'])} (BiLSTM: "
            f"{_percent(random_ref.mean['accuracy'])} and {_percent(random_ref.mean['macro_f1'])})."
        )
    rows = target_rows(metrics)
    passed = sum(row["result"] == "pass" for row in rows)
    failed = [
        row["target"] for row in rows if row["result"] == "fail" and row["model"] == metrics.ours
    ]
    parts.append(
        f"{passed} of {len(rows)} targets pass"
        + (f"; our model misses: {html.escape('; '.join(failed))}." if failed else ".")
    )
    shipped = metrics.shipped
    parts.append(
        f"The shipped model scores UA {_percent(shipped.scores.uar)} on actors "
        f"{', '.join(map(str, shipped.scores.test_actors))}, whom it never saw."
    )
    parts.extend(trust_sentences(metrics))
    if metrics.plan.get("quick"):
        parts.append(
            f"<b>This is a QUICK run ({html.escape(describe_plan(metrics.plan))}): its numbers "
            "only show that the pipeline runs.</b>"
        )
    return " ".join(parts)


def shipped_robustness(metrics: Metrics) -> dict:
    """The shipped model's robustness rows (``metrics.json`` sorts the models by name)."""
    return next(rows for name, rows in metrics.robustness.items() if name.startswith("shipped"))


def trust_sentences(metrics: Metrics) -> list[str]:
    """Calibration and robustness in the abstract (nothing for metrics without them)."""
    parts = []
    c = metrics.calibration
    if c:
        parts.append(
            f"Calibrated on validation actors, its probabilities' expected calibration error on "
            f"held-out actors falls from {c['ece_before']:.3f} to {c['ece_after']:.3f}; when it is "
            f"sure enough to answer ({_percent(c['answered_share'])} of held-out clips) it is right "
            f"{_percent(c['answered_accuracy'])} of the time, and otherwise it says it is unsure."
        )
    if metrics.robustness:
        shipped = shipped_robustness(metrics)
        worst = max((name for name in shipped if name != "clean"), key=lambda n: shipped[n]["drop"])
        parts.append(
            f"On real-world damage its UA drops by up to {100 * shipped[worst]['drop']:.1f} points "
            f"({html.escape(worst)}); {sum(row['drop'] > 0.15 for row in shipped.values())} of "
            f"{len(shipped) - 1} conditions cost more than 15 points."
        )
    return parts


BASELINE_LABELS = {
    "majority": "the majority class",
    "logistic_regression": "a logistic regression on MFCC statistics",
    "egemaps_svm": "eGeMAPS functionals with an SVM",
}


def comparison_rows(metrics: Metrics) -> pd.DataFrame:
    """Model, protocol, mean UA and std over folds, for the headline figure."""
    rows = []
    for name, model in metrics.models.items():
        if model.role == "ablation":
            continue
        for protocol, result in model.protocols.items():
            rows.append({"model": name, "protocol": protocol.replace("_", "-"),
                         "uar": result.mean["uar"], "std": result.std["uar"]})  # fmt: skip
    return pd.DataFrame(rows)


def spread_sentence(metrics: Metrics) -> str:
    """How far numbers move with the seed, and with the folds, for our model."""
    ours = metrics.models[metrics.ours]
    parts = []
    for protocol, spread in ours.seeds.items():
        if len(spread.seeds) < 2:
            continue
        low, high = min(spread.per_seed["uar"]), max(spread.per_seed["uar"])
        parts.append(
            f"- **{protocol}**: a single model scores UA {spread.mean['uar']:.3f} ± "
            f"{spread.std['uar']:.3f} over seeds {', '.join(map(str, spread.seeds))} (lowest "
            f"{low:.3f}, highest {high:.3f})"
            + (
                f"; the average of their probabilities, our model, scores "
                f"{ours.protocols[protocol].mean['uar']:.3f}."
                if metrics.members > 1
                else "."
            )
        )
    si = ours.protocols["speaker_independent"]
    parts.append(
        f"- The spread over folds is larger: UA {si.mean['uar']:.3f} ± {si.std['uar']:.3f} "
        f"(lowest fold {min(f.uar for f in si.folds):.3f}, highest {max(f.uar for f in si.folds):.3f}). "
        "Which four voices are held out matters more than the seed."
    )
    return "\n".join(parts)


def svm_c_table(metrics: Metrics) -> pd.DataFrame:
    """The C each fold's validation actors chose for the eGeMAPS SVM."""
    chosen = metrics.models["egemaps_svm"].notes.get("svm_c_per_fold", {})
    rows = [
        {"protocol": protocol, "split": f"fold {fold}" if int(fold) else "random split", "C": c}
        for protocol, by_fold in chosen.items()
        for fold, c in by_fold.items()
    ]
    return pd.DataFrame(rows).pivot(index="protocol", columns="split", values="C")


def shipped_table(metrics: Metrics) -> pd.DataFrame:
    """The shipped model's held-out scores next to its cross-validated numbers."""
    shipped, si = metrics.shipped, metrics.si(metrics.ours)
    rows = [
        {"": f"shipped model on actors {', '.join(map(str, shipped.scores.test_actors))}",
         **{k: round(getattr(shipped.scores, k), 3) for k in HEADLINE}},
        {"": f"{metrics.ours}, mean over {len(si.folds)} folds",
         **{k: round(si.mean[k], 3) for k in HEADLINE}},
    ]  # fmt: skip
    table = pd.DataFrame(rows).set_index("")
    if shipped.onnx_max_difference is not None:
        table["ONNX vs Keras, largest difference"] = [f"{shipped.onnx_max_difference:.1e}", ""]
    return table


def discussion(metrics: Metrics, matrices: dict[str, pd.DataFrame], top: int = 3) -> str:
    """A short Markdown discussion whose every number is read from ``metrics``."""
    ours = metrics.models[metrics.ours]
    lines = []
    si, rnd = ours.protocols["speaker_independent"], ours.protocols.get("random")
    if rnd is not None:
        lines.append(
            f"- **Speaker leakage.** Our model scores UA {rnd.mean['uar']:.1%} on the random split "
            f"and {si.mean['uar']:.1%} on held-out speakers, a gap of "
            f"{100 * (rnd.mean['uar'] - si.mean['uar']):.1f} points. In the random split every test "
            "actor also has clips in training, so part of what it measures is recognising a "
            "familiar voice; only the speaker-independent number says what to expect for a new speaker."
        )
    for title, matrix in matrices.items():
        pairs = top_confusions(matrix, top)
        listed = "; ".join(
            f"{r.true} → {r.predicted} ({r._3:.0%} of {r.true})" for r in pairs.itertuples()
        )
        diagonal = pd.Series(np.diag(matrix.to_numpy()), index=matrix.index)
        lines.append(
            f"- **{title}: most confused** {listed}. Best recognised: {diagonal.idxmax()} "
            f"({diagonal.max():.0%} recall); worst: {diagonal.idxmin()} ({diagonal.min():.0%})."
        )
    ref = metrics.si(metrics.reference).mean["uar"]
    baselines = ", ".join(
        f"{BASELINE_LABELS.get(n, n)} {metrics.si(n).mean['uar']:.1%}" for n in metrics.baselines()
    )
    lines.append(
        f"- **Against the reference and the baselines** (speaker-independent UA): ours "
        f"{si.mean['uar']:.1%}, the fair BiLSTM {ref:.1%}; {baselines} (chance {CHANCE_UA:.1%})."
    )
    return "\n".join(lines)


def model_card(metrics: Metrics) -> str:
    """The shipped model's card, in Markdown, every number read from ``metrics``."""
    shipped, si = metrics.shipped, metrics.si(metrics.ours)
    spec = next(
        s for s in metrics.selection if s["candidate"] == (metrics.candidate or metrics.chosen)
    )
    recall = "\n".join(f"| {e} | {v:.3f} |" for e, v in shipped.scores.per_class_recall.items())
    versions = metrics.versions
    return f"""# Model card: `emotion_model.keras` ({shipped.model})

Speech emotion recognition on RAVDESS: a clip's feature matrix → {metrics.ours} → {len(shipped.labels)} emotions.
Generated by `notebooks/04_evaluation.ipynb`; every number below comes from `reports/metrics.json`.

## Model
- {metrics.models[metrics.ours].description}; {shipped.parameters:,} parameters, Keras 3 `.keras` format (custom layers registered in `ser.architectures`; loads in safe mode).
- Input: mono audio resampled and fitted to the model's window (trailing zeros or cut at the end), then the features its `labels.json` names (`features`). Normalisation is inside the model, per clip: nothing else is needed to predict. Longer recordings: the predictor averages half-overlapping windows.
- Output: probabilities of {", ".join(shipped.labels)} (`labels.json` maps index to emotion and records the features and training).

## Training
- Data: RAVDESS speech (Livingstone & Russo 2018, CC BY-NC-SA 4.0), actors {", ".join(map(str, shipped.trained_on_actors))}; actors {", ".join(map(str, shipped.validation_actors))} were held out for validation (model choice) and not trained on.
- Chosen among {len(metrics.selection)} candidates by {SELECTION_RULE_SHORT}: validation UA {spec["validation_uar_mean"]:.3f} ± {spec["validation_uar_std"]:.3f}.{robustness_choice(metrics)}
- {shipped.epochs_trained} epochs, seed{"s" if isinstance(shipped.seed, list) else ""} {", ".join(map(str, shipped.seed)) if isinstance(shipped.seed, list) else shipped.seed}. TensorFlow {versions.get("tensorflow")}, Keras {versions.get("keras")}, librosa {versions.get("librosa")}, NumPy {versions.get("numpy")}.{" **Quick run: not a usable model.**" if metrics.plan.get("quick") else ""}

## Held-out evaluation
Actors {", ".join(map(str, shipped.scores.test_actors))} were never used for training, validation or any choice: {shipped.scores.n_clips} clips.

- Accuracy {shipped.scores.accuracy:.3f}, UA (mean per-class recall) {shipped.scores.uar:.3f}, macro-F1 {shipped.scores.macro_f1:.3f}.
- Speaker-independent cross-validation ({len(si.folds)} EmoBox folds, same recipe): UA {si.mean["uar"]:.3f} ± {si.std["uar"]:.3f}, accuracy {si.mean["accuracy"]:.3f} ± {si.std["accuracy"]:.3f} (mean ± std over folds).

| emotion | recall |
| --- | --- |
{recall}

{trust_section(metrics)}
## Intended use and limits
- For demonstration, teaching and research on acted emotional speech. Not for decisions about people.
- Trained on {len(shipped.trained_on_actors)} professional North-American English actors of RAVDESS reading two fixed sentences in a studio. Expect much lower accuracy on spontaneous speech, other languages and accents, children, noisy or phone-quality audio, and on emotions expressed subtly.
- Eight acted categories only; real affect is not categorical, and "neutral"/"calm" are hard to tell apart even for people.
- With four held-out actors, the held-out numbers have wide uncertainty; the cross-validated mean ± std is the better estimate.
"""


SELECTION_RULE_SHORT = "the highest mean validation UA over the folds' validation actors"


def trust_section(metrics: Metrics) -> str:
    """The model card's calibration and robustness lines (empty for older metrics)."""
    lines = []
    c = metrics.calibration
    if c:
        lines.append(
            f"- Calibration: temperature scaling fitted on validation actors; held-out ECE "
            f"{c['ece_before']:.3f} → {c['ece_after']:.3f}. Below its threshold the predictor says "
            f"it is unsure: it then answers {c['answered_share']:.0%} of held-out clips, with "
            f"accuracy {c['answered_accuracy']:.3f}."
        )
    if metrics.robustness:
        shipped = shipped_robustness(metrics)
        lines.append(
            "- Robustness (held-out actors, UA): "
            + ", ".join(f"{name} {row['uar']:.3f}" for name, row in shipped.items())
            + "."
        )
    return ("## Trust\n" + "\n".join(lines) + "\n") if lines else ""


def robustness_choice(metrics: Metrics) -> str:
    """The robustness stage in one sentence (validation actors only), or nothing without one."""
    if not metrics.robustness_selection:
        return ""
    score = next(k for k in metrics.robustness_selection[0] if k.startswith("score"))
    others = ", ".join(
        f"`{row['model']}` {row[score]:.3f} (clean {row['clean']:.3f})"
        for row in metrics.robustness_selection
    )
    return (
        f" Then, among it and its channel-augmentation variants, by a validation score in which "
        f"clean UA and the mean UA under damage count half each ({others}): `{metrics.chosen}`."
    )


def calibration_summary(metrics: Metrics, shipped_calibration: dict | None) -> str:
    """What calibration changed on held-out actors, and what the shipped model uses."""
    c = metrics.calibration
    text = (
        f"On the held-out actors of the {len(c['temperature'])} folds, temperature scaling lowers "
        f"the expected calibration error from **{c['ece_before']:.3f}** to **{c['ece_after']:.3f}** "
        f"(negative log-likelihood {c['nll_before']:.3f} → {c['nll_after']:.3f}); it never changes "
        f"the predicted emotion. Each fold's threshold is the lowest confidence at which that "
        f"fold's validation clips reach {c['target_accuracy']:.0%} accuracy. Applied to the "
        f"held-out clips, the model answers **{c['answered_share']:.0%}** of them, with accuracy "
        f"**{c['answered_accuracy']:.3f}** (all clips: {c['accuracy']:.3f}); on the clips it calls "
        f"unsure it is right {c['unsure_accuracy']:.0%} of the time."
    )
    if shipped_calibration:
        text += (
            f" The shipped model uses temperature {shipped_calibration['temperature']:.3f} and "
            f"threshold {shipped_calibration['threshold']:.3f}, fitted on its own "
            f"{shipped_calibration['fitted_on']}."
        )
    return text


def robustness_summary(table: pd.DataFrame) -> str:
    """The conditions that cost the shipped model more than 15 points of UA, in words."""
    shipped = table.columns[0]
    drop = table.loc["clean", shipped] - table[shipped]
    worst = drop[drop > 0.15].sort_values(ascending=False)
    text = f"Clean UA of `{shipped}` on these actors: {table.loc['clean', shipped]:.3f}. "
    if worst.empty:
        text += "No condition costs it more than 15 points of UA."
    else:
        text += (
            "Conditions that still cost it more than 15 points: "
            + ", ".join(f"{name} (−{value:.3f})" for name, value in worst.items())
            + "."
        )
    if len(table.columns) == 3:
        before, after = table.columns[1], table.columns[2]
        gain = (table[after] - table[before]).drop("clean")
        text += (
            f" Channel augmentation changed the single model's UA by {gain.mean():+.3f} on average "
            f"over the damaged conditions (from {gain.min():+.3f} to {gain.max():+.3f}) and by "
            f"{table.loc['clean', after] - table.loc['clean', before]:+.3f} on clean audio."
        )
    return text


def write_model_card(metrics: Metrics, models_dir: Path) -> Path:
    path = Path(models_dir) / "model_card.md"
    path.write_text(model_card(metrics))
    return path


def headline_figure(reports_dir: Path) -> str:
    """The comparison figure of notebook 04, embedded in the page (empty if not drawn yet)."""
    path = Path(reports_dir).parent / FIGURES_DIR.name / "04_comparison.png"
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return (
        '<figure><img style="max-width: 100%" alt="Bar chart: UA per model and protocol with '
        'fold spread, against baselines and chance" src="data:image/png;base64,' + data + '">'
        "<figcaption>UA per model and protocol (mean over folds, whiskers ± std over folds). "
        'Details in <a href="04_evaluation.html">notebook 04</a>.</figcaption></figure>'
    )


def render_index(reports_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR) -> str:
    """The HTML of the front page for the executed notebooks in ``reports_dir``."""
    reports_dir = Path(reports_dir)
    metrics_path = reports_dir / "metrics.json"
    metrics = Metrics.read(metrics_path) if metrics_path.exists() else None
    sources = sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))
    rows, total, starts = [], 0.0, []
    for source in sources:
        executed = reports_dir / source.name
        record = stage_record(executed) if executed.exists() else {"seconds": None, "failed": False}
        seconds = record["seconds"]
        total += seconds or 0
        if record.get("start"):
            starts.append(record["start"])
        status = " (failed)" if record["failed"] else ("" if executed.exists() else " (not run)")
        rows.append(
            f"<tr><td><a href='{source.stem}.html'>{html.escape(title(source))}</a>"
            f" <small>(<a href='{source.stem}.code.html'>with code</a>)</small></td>"
            f"<td>{inline_markdown(purpose(source))}</td>"
            f"<td class='num'>{'' if seconds is None else f'{seconds:.0f} s'}{status}</td></tr>"
        )
    plan = metrics.plan if metrics else {}
    env = versions()
    run_date = min(starts)[:16].replace("T", " ") + " UTC" if starts else "not run"
    environment_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in [
            ("Python", env["python"]), ("TensorFlow", env["tensorflow"]), ("Keras", env["keras"]),
            ("librosa", env["librosa"]), ("NumPy", env["numpy"]), ("CPU", env["cpu"]),
            ("cores", env["cores"]), ("git commit", git_commit()), ("run started", run_date),
            ("seed (our model's seeds)", f"{plan.get('seed', '')} ({', '.join(map(str, plan.get('seeds', [])))})"),
            ("speaker-independent folds", ", ".join(map(str, plan.get("folds", [])))),
            ("quick run", plan.get("quick", "")),
        ]
    )  # fmt: skip
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Speech emotion recognition on RAVDESS: report</title>
<style>
body {{font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222;}}
table {{border-collapse: collapse; margin: 1rem 0;}}
td, th {{border-bottom: 1px solid #ddd; padding: 0.35rem 0.7rem; text-align: left; vertical-align: top;}}
td.num {{text-align: right; white-space: nowrap;}}
.abstract {{background: #f5f7fa; border-left: 4px solid #4c72b0; padding: 0.8rem 1rem;}}
</style></head><body>
<h1>Speech emotion recognition on RAVDESS</h1>
<p class="abstract"><b>Abstract.</b> How well can a model trained from scratch on a CPU recognise
{len(EMOTION_NAMES)} acted emotions ({", ".join(EMOTION_NAMES)}) in the {N_CLIPS}
RAVDESS speech clips of {N_ACTORS} actors, for speakers it has never heard? {abstract(metrics)} Every
number here is read from <a href="metrics.json">metrics.json</a>, written by the run.</p>
{headline_figure(reports_dir)}
<h2>Notebooks</h2>
<table><tr><th>page</th><th>what it shows</th><th>wall time</th></tr>
{"".join(rows)}
<tr><th colspan="2">total</th><td class="num">{total / 60:.1f} min</td></tr></table>
<h2>Environment and run</h2>
<table>{environment_rows}</table>
<p><small>Data: RAVDESS, Livingstone &amp; Russo (2018), PLoS ONE 13(5): e0196391, CC BY-NC-SA 4.0.
Regenerate everything with <code>make report</code>.</small></p>
</body></html>
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write reports/index.html from the run's files.")
    parser.add_argument("reports_dir", type=Path, nargs="?", default=REPORTS_DIR)
    args = parser.parse_args(argv)
    page = args.reports_dir / "index.html"
    page.write_text(render_index(args.reports_dir))
    print(f"wrote {page} ({datetime.now():%H:%M:%S})")


if __name__ == "__main__":
    main()
