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
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
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
from ser.evaluation import (
    CHANCE_UA,
    HEADLINE,
    Metrics,
    is_seed_ensemble,
    target_rows,
    top_confusions,
)  # fmt: skip
from ser.plan import MODEL_NAMES as PLAN_MODEL_NAMES
from ser.plan import RANDOM_SPLIT_SUFFIX, Plan, describe_plan
from ser.plan import model_name as plan_model_name
from ser.runs import read_trainings
from ser.templating import render
from ser.training_cache import describe_reuse

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


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def model_name(metrics: Metrics, name: str) -> str:
    """A model's name in words: our specs from :func:`ser.plan.model_name`, the baselines'
    from :data:`BASELINE_LABELS`, the encoder heads' from :data:`ser.plan.MODEL_NAMES`."""
    if name in BASELINE_LABELS:
        return BASELINE_LABELS[name]
    if name in PLAN_MODEL_NAMES:
        return PLAN_MODEL_NAMES[name]
    if name == metrics.ours:
        return plan_model_name(name, metrics.members)
    protocol = "random" if name.endswith(RANDOM_SPLIT_SUFFIX) else "speaker_independent"
    seeds = len(Plan.from_dict(metrics.plan).seeds_for(protocol)) or None
    return plan_model_name(name, seeds if is_seed_ensemble(name) else None)


def abstract(metrics: Metrics | None) -> list[str]:
    """The abstract's findings, one plain sentence each, every number read from ``metrics``."""
    if metrics is None:
        return ["No metrics yet: run make report."]
    ours, ref = metrics.si(metrics.ours), metrics.si(metrics.reference)
    parts = encoder_sentences(metrics)
    parts += [
        f"On speakers it never heard ({len(ours.folds)} EmoBox folds of "
        f"{len(ours.folds[0].test_actors)} held-out actors each), our from-scratch CNN "
        f"({model_name(metrics, metrics.ours)}) reaches an unweighted accuracy (UA: the share "
        f"of clips recognised, averaged over the emotions) of {_percent(ours.mean['uar'])} ± "
        f"{_percent(ours.std['uar'])} (mean ± std over folds; chance is {_percent(CHANCE_UA)}), "
        f"against {_percent(ref.mean['uar'])} ± {_percent(ref.std['uar'])} for the original "
        "BiLSTM trained fairly."
    ]
    spread = metrics.models[metrics.ours].seeds.get("speaker_independent")
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
        f"The best baseline, {model_name(metrics, best_baseline)}, reaches "
        f"{_percent(metrics.si(best_baseline).mean['uar'])}."
    )
    random_model = metrics.models.get(metrics.random_model)
    random_ref = metrics.models[metrics.reference].protocols.get("random")
    if random_model and random_ref:
        spread = random_model.seeds["random"]
        if is_seed_ensemble(metrics.random_model):
            result = random_model.protocols["random"].mean
            reached = (
                f"accuracy {_percent(result['accuracy'])} and macro-F1 "
                f"{_percent(result['macro_f1'])}; its {len(spread.seeds)} seeds' models alone "
                f"reach {_percent(spread.mean['accuracy'])} ± {_percent(spread.std['accuracy'])}"
            )
        else:
            reached = (
                f"accuracy {_percent(spread.mean['accuracy'])} ± "
                f"{_percent(spread.std['accuracy'])} and macro-F1 "
                f"{_percent(spread.mean['macro_f1'])} over {len(spread.seeds)} seeds"
            )
        parts.append(
            "On the original random 80/20 split, where the same actors appear in training and "
            "test, the model chosen for that split on its own validation clips "
            f"({model_name(metrics, metrics.random_model)}) reaches {reached}. The BiLSTM "
            f"reaches {_percent(random_ref.mean['accuracy'])} and "
            f"{_percent(random_ref.mean['macro_f1'])}."
        )
    rows = target_rows(metrics)
    passed = sum(row["result"] == "pass" for row in rows)
    shipped_family = {shipped_name(metrics)} | (
        {metrics.encoder.model, metrics.encoder.shipped} if metrics.encoder else set()
    )
    failed = [
        row["target"] for row in rows if row["result"] == "fail" and row["model"] in shipped_family
    ]
    parts.append(
        f"{passed} of {len(rows)} targets pass"
        + (f"; the shipped family misses: {'; '.join(failed)}." if failed else ".")
    )
    shipped = metrics.shipped
    parts.append(
        f"The shipped model scores UA {_percent(shipped.scores.uar)} on actors "
        f"{', '.join(map(str, shipped.scores.test_actors))}, whom it never saw."
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
    shipped = shipped_name(metrics)
    return [
        "A pretrained speech encoder is a network that has already learned, from a very large "
        "amount of speech, to turn sound into numbers that describe what is said and how; here "
        "it is Whisper tiny.en (OpenAI, MIT licence), kept frozen, with only a small classifier "
        "trained on top of every one of its layers.",
        f"On speakers it never heard, {model_name(metrics, encoder.model)} reaches an "
        f"unweighted accuracy (UA: the share of clips recognised, averaged over the emotions) of "
        f"{_percent(result.mean['uar'])} ± {_percent(result.std['uar'])} (mean ± std over "
        f"{len(result.folds)} folds; chance is {_percent(CHANCE_UA)}).",
        f"Chosen on validation actors among every family: {model_name(metrics, shipped)}, "
        "which ships"
        + (
            ": what the encoder learned from many voices carries over to new speakers better "
            "than what a network trained from scratch on 1,440 clips can learn."
            if shipped == encoder.model
            else "."
        ),
    ]


def shipped_robustness(metrics: Metrics) -> dict:
    """The shipped model's robustness rows (``metrics.json`` sorts the models by name)."""
    return next(rows for name, rows in metrics.robustness.items() if name.startswith("shipped"))


def trust_sentences(metrics: Metrics) -> list[str]:
    """Calibration and robustness in the abstract (nothing for metrics without them)."""
    parts = []
    c = shipped_calibration(metrics)
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
            f"({worst}); {sum(row['drop'] > 0.15 for row in shipped.values())} of "
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
            rows.append({"model": model_name(metrics, name), "protocol": protocol.replace("_", "-"),
                         "uar": result.mean["uar"], "std": result.std["uar"]})  # fmt: skip
    return pd.DataFrame(rows)


def svm_c_table(metrics: Metrics) -> pd.DataFrame:
    """The C each fold's validation actors chose for the eGeMAPS SVM."""
    chosen = metrics.models["egemaps_svm"].notes.get("svm_c_per_fold", {})
    rows = [
        {"protocol": protocol, "split": f"fold {fold}" if int(fold) else "random split", "C": c}
        for protocol, by_fold in chosen.items()
        for fold, c in by_fold.items()
    ]
    return pd.DataFrame(rows).pivot(index="protocol", columns="split", values="C")


def shipped_name(metrics: Metrics) -> str:
    """The name in ``metrics.models`` of the shipped model's family row."""
    if metrics.encoder is None or metrics.encoder.shipped not in metrics.models:
        return metrics.ours
    return metrics.encoder.shipped


def shipped_calibration(metrics: Metrics) -> dict:
    """Held-out calibration of the shipped model's family."""
    encoder = metrics.encoder
    if encoder is not None and encoder.shipped == encoder.model:
        return encoder.calibration
    return metrics.calibration


def family_selection_table(metrics: Metrics) -> pd.DataFrame:
    """Notebook 03's family table (validation actors only), as ``metrics.json`` keeps it."""
    table = pd.DataFrame(metrics.encoder.selection).set_index("candidate")
    return table.drop(columns=["what it is"])


def shipped_table(metrics: Metrics) -> pd.DataFrame:
    """The shipped model's (and the CNN's own model's) held-out scores next to their
    cross-validated numbers."""
    rows = []
    for label, checked, name in (
        ("shipped model", metrics.shipped, shipped_name(metrics)),
        ("the CNN's own model", metrics.cnn_check, metrics.ours),
    ):
        if checked is None or (label != "shipped model" and name == shipped_name(metrics)):
            continue
        si = metrics.si(name)
        difference = checked.onnx_max_difference
        rows += [
            {"": f"{label} on actors {', '.join(map(str, checked.scores.test_actors))}",
             **{k: round(getattr(checked.scores, k), 3) for k in HEADLINE},
             "ONNX vs Keras, largest difference": f"{difference:.1e}" if difference else ""},
            {"": f"{name}, mean over {len(si.folds)} folds",
             **{k: round(si.mean[k], 3) for k in HEADLINE}, "ONNX vs Keras, largest difference": ""},
        ]  # fmt: skip
    return pd.DataFrame(rows).set_index("")


def discussion(metrics: Metrics, matrices: dict[str, pd.DataFrame], top: int = 3) -> str:
    """A short Markdown discussion whose every number is read from ``metrics``."""
    single = metrics.models[metrics.recipe]  # one model of our recipe under both protocols
    lines = []
    si, rnd = single.protocols["speaker_independent"], single.protocols.get("random")
    if rnd is not None:
        lines.append(
            f"- **Speaker leakage.** One model of our recipe scores UA {rnd.mean['uar']:.1%} on "
            f"the random split and {si.mean['uar']:.1%} on held-out speakers, a gap of "
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
    shipped = metrics.shipped
    encoder = metrics.encoder
    if encoder is not None and encoder.shipped == encoder.model:
        chosen = next(row for row in encoder.selection if row["candidate"] == encoder.shipped)
        return render(
            "model_card_encoder.md", shipped=shipped, si=metrics.si(encoder.model),
            name=model_name(metrics, encoder.model),
            description=metrics.models[encoder.model].description,
            n_candidates=len(encoder.selection), rule=SELECTION_RULE_SHORT, chosen=chosen,
            tess=encoder.tess, versions=metrics.versions, quick=bool(metrics.plan.get("quick")),
            trust=trust_lines(metrics),
        )  # fmt: skip
    seeds = shipped.seed if isinstance(shipped.seed, list) else [shipped.seed]
    return render(
        "model_card.md", shipped=shipped, si=metrics.si(metrics.ours),
        ours_name=model_name(metrics, metrics.ours),
        description=metrics.models[metrics.ours].description,
        n_candidates=len(metrics.selection), selection_rule=SELECTION_RULE_SHORT,
        clean_choice=next(s for s in metrics.selection
                          if s["candidate"] == (metrics.clean_choice or metrics.recipe)),
        robustness_choice=robustness_choice(metrics),
        seeds=f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}",
        versions=metrics.versions, quick=bool(metrics.plan.get("quick")),
        trust=trust_lines(metrics),
    )  # fmt: skip


SELECTION_RULE_SHORT = (
    "the highest mean validation UA over the folds' validation actors, unless a simpler "
    "candidate trails it by no more than the noise of that judge"
)


def trust_lines(metrics: Metrics) -> list[str]:
    """The model card's calibration and robustness lines (none for older metrics)."""
    lines = []
    c = shipped_calibration(metrics)
    if c:
        lines.append(
            f"Calibration: temperature scaling fitted on validation actors; held-out ECE "
            f"{c['ece_before']:.3f} → {c['ece_after']:.3f}. Below its threshold the predictor says "
            f"it is unsure: it then answers {c['answered_share']:.0%} of held-out clips, with "
            f"accuracy {c['answered_accuracy']:.3f}."
        )
    if metrics.robustness:
        shipped = shipped_robustness(metrics)
        lines.append(
            "Robustness (held-out actors, UA): "
            + ", ".join(f"{name} {row['uar']:.3f}" for name, row in shipped.items())
            + "."
        )
    return lines


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
        f" Then, among it and its augmentation variants, by a validation score in which "
        f"clean UA and the mean UA under damage count half each ({others}): `{metrics.recipe}`."
    )


def calibration_summary(metrics: Metrics, shipped_model_calibration: dict | None) -> str:
    """What calibration changed on the shipped family's held-out actors, and what the shipped
    model uses."""
    c = shipped_calibration(metrics)
    text = (
        f"On the held-out actors of the {len(c['temperature'])} folds, temperature scaling takes "
        f"the expected calibration error from **{c['ece_before']:.3f}** to **{c['ece_after']:.3f}** "
        f"(negative log-likelihood {c['nll_before']:.3f} → {c['nll_after']:.3f}); it never changes "
        f"the predicted emotion. Each fold's threshold is the lowest confidence at which that "
        f"fold's validation clips reach {c['target_accuracy']:.0%} accuracy. Applied to the "
        f"held-out clips, the model answers **{c['answered_share']:.0%}** of them, with accuracy "
        f"**{c['answered_accuracy']:.3f}** (all clips: {c['accuracy']:.3f}); on the clips it calls "
        f"unsure it is right {c['unsure_accuracy']:.0%} of the time."
    )
    if shipped_model_calibration:
        used = shipped_model_calibration
        text += (
            f" The shipped model uses temperature {used['temperature']:.3f} and "
            f"threshold {used['threshold']:.3f}, fitted on its own {used['fitted_on']}."
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
    return text


TESS_TARGET_UA, TESS_TARGET_RECALL = 0.65, 0.30  # issue 15's generalisation target


def tess_summary(metrics: Metrics) -> str:
    """What TESS says about the shipped model beyond RAVDESS, from ``metrics.tess``, or
    plainly that it was not run."""
    record = metrics.tess
    if not record:
        return (
            "**TESS was not evaluated in this run**: `TESS_DIR` is not set. Set it to a TESS "
            "folder with `manifest.csv` (`.ci/run` uses `../shared/tess`) to judge the models "
            "beyond RAVDESS."
        )
    shipped = next(name for name in record["ua"] if name.startswith("ours"))
    ua, recall = record["ua"][shipped], record["recall"][shipped]
    weak = [f"{e} ({r:.2f})" for e, r in recall.items() if r < TESS_TARGET_RECALL]
    met = ua >= TESS_TARGET_UA and not weak
    best_other = max((n for n in record["ua"] if n != shipped), key=record["ua"].get, default=None)
    text = (
        f"On {record['clips']} TESS clips (two speakers, other sentences, another studio) the "
        f"shipped model's UA over the seven emotions is **{ua:.3f}** (chance {1 / 7:.3f}), against "
        f"{metrics.shipped.scores.uar:.3f} on its held-out RAVDESS actors. "
    )
    if best_other:
        text += f"The best other model here is {best_other} at {record['ua'][best_other]:.3f}. "
    text += (
        f"The target (UA ≥ {TESS_TARGET_UA}, no emotion below {TESS_TARGET_RECALL}) is "
        f"**{'met' if met else 'not met'}**"
        + (f"; emotions below {TESS_TARGET_RECALL}: {', '.join(weak)}." if weak else ".")
        + " For your own recordings this is the better guide than the RAVDESS numbers: a voice, "
        f"microphone and sentence the model never heard took {metrics.shipped.scores.uar - ua:.3f} "
        "off its UA here, and the weak emotions above are the answers to trust least."
    )
    return text


def write_model_card(metrics: Metrics, models_dir: Path) -> Path:
    path = Path(models_dir) / "model_card.md"
    path.write_text(model_card(metrics))
    return path


def headline_figure(reports_dir: Path) -> str | None:
    """The comparison figure of notebook 04, base64-encoded (None if not drawn yet)."""
    path = Path(reports_dir).parent / FIGURES_DIR.name / "04_comparison.png"
    return base64.b64encode(path.read_bytes()).decode() if path.exists() else None


def targets_rows(metrics: Metrics) -> list[dict]:
    """The targets for the index page: what, which model (in words), value, pass or fail."""
    return [
        {**row, "model_name": model_name(metrics, row["model"]),
         "shown": f"{row['value']:.1f} min" if row["target"].startswith("time") else f"{row['value']:.3f}"}
        for row in target_rows(metrics)
    ]  # fmt: skip


def model_rows(metrics: Metrics) -> list[dict]:
    """The compared models (not the ablation): name in words, role and headline numbers."""
    rows = []
    for name, model in metrics.models.items():
        if model.role == "ablation":
            continue
        si, rnd = model.protocols.get("speaker_independent"), model.protocols.get("random")
        rows.append({
            "name": model_name(metrics, name), "code": name, "role": model.role,
            "si": f"{si.mean['uar']:.3f} ± {si.std['uar']:.3f}" if si else "",
            "random": _random_accuracy(model) if rnd else "",
        })  # fmt: skip
    return rows


def _random_accuracy(model) -> str:
    """Random-split accuracy: mean ± std over seeds where there are several (a seed
    ensemble: its own)."""
    spread = model.seeds.get("random")
    if spread and len(spread.seeds) > 1 and not is_seed_ensemble(model.name):
        return f"{spread.mean['accuracy']:.3f} ± {spread.std['accuracy']:.3f}"
    return f"{model.protocols['random'].mean['accuracy']:.3f}"


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
        ("seed (our model's seeds)", f"{plan.get('seed', '')} ({', '.join(map(str, plan.get('seeds', [])))})"),
        ("the random split's seeds", ", ".join(map(str, plan.get("random_seeds") or plan.get("seeds", [])))),
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write reports/index.html from the run's files.")
    parser.add_argument("reports_dir", type=Path, nargs="?", default=REPORTS_DIR)
    args = parser.parse_args(argv)
    page = args.reports_dir / "index.html"
    page.write_text(render_index(args.reports_dir))
    print(f"wrote {page} ({datetime.now():%H:%M:%S})")


if __name__ == "__main__":
    main()
