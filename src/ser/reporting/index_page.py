"""The report's front page, ``reports/index.html``, generated from the run's own files.

Headline numbers come from ``metrics.json``; stage timings, parameters and the
run date from papermill's metadata in the executed notebooks; descriptions from
each source notebook's "Purpose" line. Nothing on the page is typed by hand.

    python -m ser.reporting.index_page reports/
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from ser.config import (
    EMOTION_NAMES,
    FIGURES_DIR,
    MODELS_DIR,
    N_ACTORS,
    N_CLIPS,
    PROJECT_ROOT,
    REPORTS_DIR,
    RUNS_DIR,
)
from ser.environment import git_commit, versions
from ser.evaluation.schema import Metrics
from ser.evaluation.tables import CHANCE_UA
from ser.evaluation.targets import target_rows
from ser.reporting.templating import render
from ser.reporting.wording import percent, shipped_calibration
from ser.training.plan import describe_plan
from ser.training.runs import read_trainings
from ser.training.training_cache import describe_reuse

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


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


def abstract(metrics: Metrics | None) -> list[str]:
    """The abstract's findings, one plain sentence each, every number read from ``metrics``."""
    if metrics is None:
        return ["No metrics yet: run make report."]
    ours, ref = metrics.si(metrics.ours), metrics.si(metrics.reference)
    folds = f"{len(ours.folds)} folds of {len(ours.folds[0].test_actors)} held-out actors each"
    parts = encoder_sentences(metrics)
    parts.append(
        f"Trained from scratch on the same speakers, {metrics.label(metrics.ours)} reaches "
        f"{percent(ours.mean['uar'])} ± {percent(ours.std['uar'])} ({folds}), and "
        f"{metrics.label(metrics.reference)}, trained fairly, {percent(ref.mean['uar'])}; "
        f"chance is {percent(CHANCE_UA)}."
    )
    best = max((n for n in metrics.baselines()), key=lambda n: metrics.si(n).mean["uar"])
    parts.append(
        f"The best hand-crafted baseline, {metrics.label(best)}, reaches "
        f"{percent(metrics.si(best).mean['uar'])}."
    )
    random = metrics.models[metrics.shipped_family()].protocols.get("random")
    if random is not None:
        parts.append(
            "On the original random 80/20 split, where the same actors speak in training and "
            f"test, {metrics.label(metrics.shipped_family())} reaches accuracy "
            f"{percent(random.mean['accuracy'])}: a familiar voice is easier, so that number "
            "overstates what a new speaker gets."
        )
    rows = target_rows(metrics)
    passed = sum(row["result"] == "pass" for row in rows)
    parts.append(f"{passed} of {len(rows)} targets pass (the table below).")
    shipped = metrics.shipped
    parts.append(
        f"The shipped model scores UA {percent(shipped.scores.uar)} on actors "
        f"{', '.join(map(str, shipped.scores.test_actors))}, whom it never heard."
    )
    parts.extend(trust_sentences(metrics))
    if metrics.plan.get("quick"):
        parts.append(
            f"This is a QUICK run ({describe_plan(metrics.plan)}): its numbers only show that "
            "the pipeline runs."
        )
    return parts


def encoder_sentences(metrics: Metrics) -> list[str]:
    """The pretrained encoder in plain words, its result and the family choice."""
    encoder = metrics.encoder
    if encoder is None:
        return []
    result = metrics.si(encoder.model)
    return [
        "A pretrained speech encoder is a network that has already learned, from a very large "
        "amount of speech, to turn sound into numbers that describe what is said and how; here "
        "it is Whisper tiny.en (OpenAI, MIT licence), kept frozen, with a small classifier "
        "trained on top.",
        f"On speakers it never heard, {metrics.label(encoder.model)} recognises "
        f"{percent(result.mean['uar'])} ± {percent(result.std['uar'])} of the clips, averaged "
        f"over the eight emotions (unweighted accuracy, UA; mean ± std over {len(result.folds)} "
        f"folds).",
        f"Chosen on validation actors among every family, {metrics.label(metrics.shipped_family())}"
        " ships.",
    ]


def trust_sentences(metrics: Metrics) -> list[str]:
    """Calibration and robustness in the abstract."""
    parts = []
    c = shipped_calibration(metrics)
    if c:
        parts.append(
            f"When it is sure enough to answer ({percent(c.answered_share)} of held-out clips) "
            f"it is right {percent(c.answered_accuracy)} of the time; otherwise it says it is "
            "unsure."
        )
    robustness = metrics.shipped_robustness()
    if robustness:
        worst = robustness.worst()
        conditions = robustness.conditions
        parts.append(
            f"Real-world damage costs it up to {100 * conditions[worst].drop:.1f} points of UA "
            f"({worst}); {sum(c.drop > 0.15 for c in conditions.values())} of "
            f"{len(conditions) - 1} conditions cost more than 15 points."
        )
    return parts


def headline_figure(reports_dir: Path) -> str | None:
    """The comparison figure of notebook 04, base64-encoded (None if not drawn yet)."""
    path = Path(reports_dir).parent / FIGURES_DIR.name / "04_comparison.png"
    return base64.b64encode(path.read_bytes()).decode() if path.exists() else None


def targets_rows(metrics: Metrics) -> list[dict]:
    """The targets for the index page: what, which model (in words), value, pass or fail."""
    return [
        {**row, "model_name": metrics.label(row["model"]),
         "shown": f"{row['value']:.3f}{' ' + row['unit'] if row['unit'] else ''}"}
        for row in target_rows(metrics)
    ]  # fmt: skip


def model_rows(metrics: Metrics) -> list[dict]:
    """The compared models: name in words, role and headline numbers."""
    rows = []
    for name, model in metrics.models.items():
        si, rnd = model.protocols.get("speaker_independent"), model.protocols.get("random")
        rows.append({
            "name": model.label, "code": name, "role": model.role,
            "si": f"{si.mean['uar']:.3f} ± {si.std['uar']:.3f}" if si else "",
            "random": f"{rnd.mean['accuracy']:.3f}" if rnd else "",
        })  # fmt: skip
    return rows


def notebook_rows(reports_dir: Path, notebooks_dir: Path) -> list[dict]:
    """Each notebook: title, purpose (inline Markdown as HTML), wall time and status."""
    rows = []
    for source in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        executed = Path(reports_dir) / source.name
        record = stage_record(executed) if executed.exists() else {"seconds": None, "failed": False}
        rows.append({
            "stem": source.stem, "title": title(source),
            "purpose": Markup(inline_markdown(purpose(source))), "seconds": record["seconds"],
            "start": record.get("start"),
            "status": "failed" if record["failed"] else ("" if executed.exists() else "not run"),
        })  # fmt: skip
    return rows


def training_record(reports_dir: Path) -> dict:
    """What notebook 03 wrote about its trainings (``models/runs/trainings.json``), or ``{}``."""
    return read_trainings(Path(reports_dir).parent / MODELS_DIR.name / RUNS_DIR.name)


def render_index(reports_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR) -> str:
    """The HTML of the front page for the executed notebooks in ``reports_dir``."""
    reports_dir = Path(reports_dir)
    metrics_path = reports_dir / "metrics.json"
    metrics = Metrics.read(metrics_path) if metrics_path.exists() else None
    notebooks = notebook_rows(reports_dir, notebooks_dir)
    starts = [row["start"] for row in notebooks if row["start"]]
    plan = metrics.plan if metrics else {}
    env = versions()
    trainings = training_record(reports_dir)
    commit = git_commit()
    commits = {"this page was rendered": commit, "notebook 03 ran": trainings.get("commit", "")}
    environment = [
        ("Python", env["python"]), ("TensorFlow", env["tensorflow"]), ("Keras", env["keras"]),
        ("librosa", env["librosa"]), ("NumPy", env["numpy"]), ("CPU", env["cpu"]),
        ("cores", env["cores"]), ("git commit (this page)", commit),
        ("git commit (notebook 03)", commits["notebook 03 ran"] or "not recorded"),
        ("run started", min(starts)[:16].replace("T", " ") + " UTC" if starts else "not run"),
        ("seed", plan.get("seed", "")),
        ("speaker-independent folds", ", ".join(map(str, plan.get("folds", [])))),
        ("quick run", plan.get("quick", "")),
    ]  # fmt: skip
    return render(
        "index.html", emotions=EMOTION_NAMES, n_clips=N_CLIPS, n_actors=N_ACTORS,
        findings=abstract(metrics), figure=headline_figure(reports_dir),
        targets=targets_rows(metrics) if metrics else [],
        models=model_rows(metrics) if metrics else [], notebooks=notebooks,
        total_minutes=sum(row["seconds"] or 0 for row in notebooks) / 60,
        trainings=trainings, reuse=describe_reuse(trainings["summary"]) if trainings else "",
        environment=environment,
        dirty=[name for name, value in commits.items() if value.endswith("-dirty")],
    )  # fmt: skip


def write_index_page(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write reports/index.html from the run's files.")
    parser.add_argument("reports_dir", type=Path, nargs="?", default=REPORTS_DIR)
    args = parser.parse_args(argv)
    page = args.reports_dir / "index.html"
    page.write_text(render_index(args.reports_dir))
    print(f"wrote {page} ({datetime.now():%H:%M:%S})")


if __name__ == "__main__":
    write_index_page()
