"""The report pipeline: the QUICK report end to end and the index page."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ser.config import PROJECT_ROOT
from ser.evaluation.tables import Metrics
from ser.reporting.index_page import abstract, purpose

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_states_its_purpose():
    for source in NOTEBOOKS:
        assert purpose(source), f"{source.name} has no **Purpose:** line"


def test_abstract_reads_numbers_from_metrics():
    from .conftest import make_metrics, with_encoder

    metrics = make_metrics(ours_si=0.6789, ours_random=0.8766, bilstm_si=0.4123, baseline_si=0.5432)
    text = " ".join(abstract(metrics))
    for shown in ("67.9% ± 3.2%", "41.2%", "87.7%", "54.3%", "43.2%", "1, 11, 20, 21"):
        assert shown in text, shown
    assert "CNN (reference design)" in text and "the original BiLSTM" in text  # names in words
    assert "QUICK" not in text and "QUICK" in " ".join(abstract(make_metrics(quick=True)))
    encoder = " ".join(abstract(with_encoder(make_metrics(), si=0.7712)))
    assert "77.1%" in encoder and "Whisper encoder, every layer ships" in encoder


def test_abstract_states_calibration_and_the_worst_damage():
    from ser.evaluation.schema import ConditionResult

    from .conftest import make_metrics

    metrics = make_metrics()
    metrics.calibration["cnn"].answered_share = 0.55
    metrics.calibration["cnn"].answered_accuracy = 0.8123
    metrics.robustness[0].conditions = {
        "clean": ConditionResult(0.6, 0.0), "telephone": ConditionResult(0.3, 0.3),
        "gain -20 dB": ConditionResult(0.58, 0.02), "white noise 10 dB": ConditionResult(0.4, 0.2),
    }  # fmt: skip
    text = " ".join(abstract(metrics))
    for shown in ("55.0%", "81.2%", "30.0 points of UA (telephone)", "2 of 3 conditions"):
        assert shown in text, shown


@pytest.mark.slow
def test_quick_report_end_to_end(ravdess_root, tmp_path):
    """`make report QUICK=1` into a temporary folder: every notebook runs cleanly."""
    out = tmp_path / "run"
    # a cache of its own: the run trains everything, as on a fresh clone
    env = {**os.environ, "RAVDESS_DIR": str(ravdess_root),
           "SER_TRAINING_CACHE": str(tmp_path / "cache")}  # fmt: skip
    committed = PROJECT_ROOT / "reports" / "metrics.json"
    committed_before = committed.read_bytes() if committed.exists() else None
    result = subprocess.run(
        ["make", "report", "QUICK=1", f"OUT={out}"], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    reports = out / "reports"
    for source in NOTEBOOKS:
        executed = json.loads((reports / source.name).read_text())
        assert executed["metadata"]["papermill"]["exception"] is not True, source.name
        errors = [
            o
            for c in executed["cells"]
            for o in c.get("outputs", [])
            if o["output_type"] == "error"
        ]
        assert not errors, f"{source.name}: {errors[0]['evalue']}"
        assert (reports / f"{source.stem}.html").exists() and (
            reports / f"{source.stem}.code.html"
        ).exists()
        # the reader page has no code cells, the full page has them
        assert "highlight hl-ipython3" not in (reports / f"{source.stem}.html").read_text()
        assert "highlight hl-ipython3" in (reports / f"{source.stem}.code.html").read_text()

    metrics = Metrics.read(reports / "metrics.json")
    ours = metrics.models[metrics.ours]
    assert [fold.fold for fold in ours.protocols["speaker_independent"].folds] == [1, 2]
    assert [f.test_actors for f in ours.protocols["speaker_independent"].folds] == [
        [1, 11, 20, 21], [4, 10, 12, 14],
    ]  # fmt: skip
    assert {m.role for m in metrics.models.values()} == {"encoder", "cnn", "reference", "baseline"}
    assert all(
        set(m.protocols) == {"random", "speaker_independent"} for m in metrics.models.values()
    )
    assert set(metrics.baselines()) == {"majority", "logistic_regression", "egemaps_svm"}
    assert metrics.plan["quick"] is True
    # issue 27: the encoder family is chosen with the CNN on validation actors, and shipped
    encoder = metrics.encoder
    assert {row["candidate"] for row in encoder.selection} >= {encoder.model, metrics.ours}
    assert metrics.shipped.model == encoder.shipped
    assert metrics.shipped.scores.test_actors == [1, 11, 20, 21]
    assert (out / "models" / "emotion_model.onnx").exists()
    assert set(metrics.calibration) == {encoder.model, metrics.ours}
    assert [row.condition for row in encoder.enrolment][-1] == "neutral and calm clips"
    # the CNN's own model, re-checked from disk, its ONNX export equal to Keras
    assert metrics.cnn_check.model == metrics.ours
    assert (out / "models" / "cnn" / "emotion_model.keras").exists()
    assert metrics.cnn_check.onnx_max_difference < 1e-4
    shipped_robustness = metrics.shipped_robustness()
    assert len(shipped_robustness.conditions) == 12
    assert shipped_robustness.conditions["clean"].drop == 0
    assert [r.model for r in metrics.robustness] == [encoder.shipped, metrics.ours]
    tess = metrics.corpus("TESS")
    assert {m.role for m in tess.models} == {"encoder", "cnn", "reference", "baseline"}
    trainings = json.loads((out / "models" / "runs" / "trainings.json").read_text())
    # each distinct training ran once (with the quick epoch cap, a candidate trained longer
    # is the same training as its 60-epoch twin, so the second is reused from the cache)
    distinct = {t["key"] for t in trainings["trainings"]}
    assert trainings["summary"]["ran"] == len(distinct) > 0
    assert {t["key"] for t in trainings["trainings"] if not t["reused"]} == distinct
    assert {t["key"] for t in trainings["trainings"]} == {
        p.name for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")
    }  # every training is in the cache, and the cache holds nothing else

    index = (reports / "index.html").read_text()
    for source in NOTEBOOKS:
        assert f"href='{source.stem}.html'" in index
    assert "QUICK run" in index and "TensorFlow" in index and "data:image/png;base64" in index
    assert f"{100 * metrics.shipped.scores.uar:.1f}%" in index

    # the committed full run is untouched, and a second run has nothing to do
    again = subprocess.run(
        ["make", "-q", "report", "QUICK=1", f"OUT={out}"], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert again.returncode == 0, "a second `make report` would redo work"

    # The DAG: a change re-runs the notebooks that show it, and only those.
    def would_run(changed: str) -> set[str]:
        dry = subprocess.run(
            ["make", "-n", "-W", changed, "report", "QUICK=1", f"OUT={out}"], cwd=PROJECT_ROOT,
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return {
            s.stem for s in NOTEBOOKS if f"ser.reporting.notebooks notebooks/{s.name}" in dry.stdout
        }

    assert would_run("src/ser/reporting/model_card.py") == {"04_evaluation"}
    assert would_run("src/ser/reporting/index_page.py") == set()
    assert would_run("src/ser/evaluation/tables.py") == {"04_evaluation"}
    assert {"03_training", "04_evaluation"} <= would_run("src/ser/training/fitting.py")
    assert "06_your_own_data" not in would_run("src/ser/evaluation/tables.py")
    assert {"02_feature_extraction", "03_training"} <= would_run("src/ser/features/extraction.py")
    # Notebook 03 run again (as after editing one of its markdown cells): it trains nothing
    # and writes the same models, so notebooks 04 and 05 do not run again.
    later = {p.name: p.stat().st_mtime_ns for p in reports.glob("0[456]_*.ipynb")}
    again = subprocess.run(
        ["make", "report", "QUICK=1", f"OUT={out}", "-W", "notebooks/03_training.ipynb"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "ser.reporting.notebooks notebooks/03_training.ipynb" in again.stdout
    assert "unchanged" in again.stdout, again.stdout[-2000:]
    assert {p.name: p.stat().st_mtime_ns for p in reports.glob("0[456]_*.ipynb")} == later
    rerun = json.loads((out / "models" / "runs" / "trainings.json").read_text())["summary"]
    assert rerun["ran"] == 0 and rerun["reused"] == rerun["trainings"]
    assert (committed.read_bytes() if committed.exists() else None) == committed_before
    for name in ("model_card.md", "emotion_model.onnx", "labels.json"):
        assert (out / "models" / name).exists()


def test_model_card_reads_its_numbers():
    from ser.reporting.model_card import model_card

    from .conftest import make_metrics, with_encoder

    card = model_card(make_metrics())
    assert "0.432" in card and "1, 11, 20, 21" in card and "1,234 parameters" in card
    assert "CNN (reference design)" in card and "white noise 20 dB 0.600" in card
    metrics = with_encoder(make_metrics())
    metrics.shipped.model = metrics.encoder.shipped
    card = model_card(metrics)
    assert "Whisper encoder, every layer" in card and "validation UA 0.800 ± 0.050" in card


def test_committed_report_comes_from_a_clean_tree():
    """The committed front page names its commit and never says the code differed from it."""
    page = PROJECT_ROOT / "reports" / "index.html"
    if not page.exists():
        pytest.skip("no committed report yet")
    text = page.read_text()
    assert "git commit (notebook 03)" in text
    assert "dirty" not in text


def test_index_page_is_escaped_and_flags_a_dirty_run(tmp_path, monkeypatch):
    from ser.reporting import index_page

    from .conftest import make_metrics

    reports = tmp_path / "reports"
    reports.mkdir()
    metrics = make_metrics()
    metrics.write(reports / "metrics.json")
    runs = tmp_path / "models" / "runs"
    runs.mkdir(parents=True)
    summary = {"trainings": 3, "reused": 2, "ran": 1, "seconds_reused": 120.0,
               "reused_from": [{"cpu": "AMD <EPYC>", "commit": "abc1234"}]}  # fmt: skip
    (runs / "trainings.json").write_text(json.dumps(
        {"summary": summary, "commit": "abc1234-dirty", "stage_seconds": {"1 · BiLSTM": 61.0}}
    ))  # fmt: skip
    monkeypatch.setattr(index_page, "git_commit", lambda: "def5678")
    page = index_page.render_index(reports)
    assert "AMD &lt;EPYC&gt;" in page and "<EPYC>" not in page  # autoescaped
    assert "1 of 3 trainings ran in this run; 2 were reused" in page
    assert "Not a clean run" in page and "notebook 03 ran" in page
    assert "CNN (reference design)" in page  # models named in words
    assert 'class="pass"' in page and 'class="fail"' in page
    (runs / "trainings.json").write_text(json.dumps({"summary": summary, "commit": "abc1234",
                                                     "stage_seconds": {}}))  # fmt: skip
    assert "Not a clean run" not in index_page.render_index(reports)
