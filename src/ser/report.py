"""The report's front page, ``reports/index.html``, generated from the run's own files.

Headline numbers come from ``metrics.json``; stage timings, parameters and the
run date from papermill's metadata in the executed notebooks; descriptions from
each source notebook's "Purpose" line. Nothing on the page is typed by hand.

    python -m ser.report reports/
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
from datetime import datetime
from pathlib import Path

from ser.config import PROJECT_ROOT, REPORTS_DIR
from ser.environment import versions
from ser.evaluation import headline

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


def abstract(metrics: dict) -> str:
    """The abstract's result sentences, every number read from ``metrics``."""
    protocols = metrics.get("protocols", {})
    parts = []
    if "speaker_independent" in protocols:
        block = protocols["speaker_independent"]
        parts.append(
            f"On speakers it never heard (the six EmoBox folds, four held-out actors each), the "
            f"BiLSTM reaches an unweighted accuracy (UA) of <b>{_percent(block['mean']['uar'])} ± "
            f"{_percent(block['std']['uar'])}</b> and accuracy {_percent(block['mean']['accuracy'])} ± "
            f"{_percent(block['std']['accuracy'])} (mean ± std over {len(block['folds'])} folds; chance is 12.5%)."
        )
    if "random" in protocols:
        block = protocols["random"]
        parts.append(
            f"On the original random 80/20 split, where the same actors appear in training and "
            f"test, it reaches accuracy {_percent(block['accuracy'])} and macro-F1 "
            f"{_percent(block['macro_f1'])}: the gap is what speaker leakage is worth."
        )
    baselines = metrics.get("baselines", {}).get("speaker_independent")
    if baselines and "speaker_independent" in protocols:
        logistic = headline(baselines["logistic_regression"])["uar"]
        model = protocols["speaker_independent"]["mean"]["uar"]
        comparison = "higher than the BiLSTM" if logistic > model else "lower than the BiLSTM"
        parts.append(
            "A logistic regression on per-clip MFCC statistics scores UA "
            f"{_percent(logistic)} on the same folds, {comparison}."
        )
    shipped = metrics.get("shipped_model")
    if shipped:
        parts.append(
            f"The shipped model, trained on folds 2-6, scores accuracy {_percent(shipped['accuracy'])} "
            f"and UA {_percent(shipped['uar'])} on actors {', '.join(map(str, shipped['test_actors']))}, "
            "whom it never saw."
        )
    if metrics.get("plan", {}).get("quick"):
        parts.append(
            "<b>This is a QUICK run (3 epochs, 2 folds): its numbers only show that the pipeline runs.</b>"
        )
    return " ".join(parts)


def render_index(reports_dir: Path, notebooks_dir: Path = NOTEBOOKS_DIR) -> str:
    """The HTML of the front page for the executed notebooks in ``reports_dir``."""
    reports_dir = Path(reports_dir)
    metrics_path = reports_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
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
    plan = metrics.get("plan", {})
    env = versions()
    run_date = min(starts)[:16].replace("T", " ") + " UTC" if starts else "not run"
    environment_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in [
            ("Python", env["python"]), ("TensorFlow", env["tensorflow"]), ("Keras", env["keras"]),
            ("librosa", env["librosa"]), ("NumPy", env["numpy"]), ("CPU", env["cpu"]),
            ("cores", env["cores"]), ("git commit", git_commit()), ("run started", run_date),
            ("seed", plan.get("seed", "")), ("epochs (max) / batch / patience",
             f"{plan.get('epochs', '')} / {plan.get('batch_size', '')} / {plan.get('patience', '')}"),
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
<p class="abstract"><b>Abstract.</b> Can a BiLSTM on MFCC features recognise eight acted emotions
(neutral, calm, happy, sad, angry, fearful, disgust, surprised) in the 1440 RAVDESS speech clips of
24 actors? {abstract(metrics)} Every number here is read from
<a href="metrics.json">metrics.json</a>, written by the run.</p>
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
