"""The report pipeline: the QUICK report end to end, the index page, determinism."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest

from ser.config import EMOTION_NAMES, PROJECT_ROOT
from ser.report import abstract, purpose

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_states_its_purpose():
    for source in NOTEBOOKS:
        assert purpose(source), f"{source.name} has no **Purpose:** line"


def test_abstract_reads_numbers_from_metrics():
    block = {"accuracy": 0.5, "uar": 0.25, "macro_f1": 0.125}
    metrics = {
        "protocols": {
            "random": {**block, "accuracy": 0.6789},
            "speaker_independent": {
                "folds": [{}, {}],
                "mean": block,
                "std": {k: 0.0321 for k in block},
            },
        },
        "shipped_model": {**block, "accuracy": 0.4444, "test_actors": [1, 11, 20, 21]},
    }
    text = abstract(metrics)
    for shown in ("67.9%", "25.0% ± 3.2%", "44.4%", "1, 11, 20, 21"):
        assert shown in text


def test_training_is_deterministic_for_a_seed():
    """Same seed, same data: identical predictions (TensorFlow op determinism is on)."""
    from ser.modeling import run_protocol
    from ser.splits import Split

    rng = np.random.default_rng(0)
    n = 96
    features = rng.normal(size=(n, 174, 40)).astype(np.float32)
    index = pd.DataFrame({
        "clip_id": [f"clip{i}" for i in range(n)], "actor": np.arange(n) % 4 + 1,
        "emotion": [EMOTION_NAMES[i % 8] for i in range(n)], "emotion_code": np.arange(n) % 8 + 1,
    })  # fmt: skip
    split = Split("speaker_independent", 1, np.arange(0, 64), np.arange(64, 80), np.arange(80, 96))
    runs = [
        run_protocol(index, features, [split], epochs=2, batch_size=16, seed=7, patience=5)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0].predictions, runs[1].predictions, check_exact=True)
    assert runs[0].histories == runs[1].histories


@pytest.mark.slow
def test_quick_report_end_to_end(ravdess_root, tmp_path):
    """`make report QUICK=1` into a temporary folder: every notebook runs cleanly."""
    out = tmp_path / "run"
    env = {**os.environ, "RAVDESS_DIR": str(ravdess_root)}
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

    metrics = json.loads((reports / "metrics.json").read_text())
    si = metrics["protocols"]["speaker_independent"]
    assert [fold["fold"] for fold in si["folds"]] == [1, 2]
    for block in (metrics["protocols"]["random"], si["mean"], metrics["shipped_model"]):
        assert {"accuracy", "uar", "macro_f1", "per_class_recall"} <= set(block)
    assert metrics["shipped_model"]["test_actors"] == [1, 11, 20, 21]
    assert set(metrics["baselines"]["random"]) == {"majority", "logistic_regression"}
    assert metrics["plan"]["quick"] is True

    index = (reports / "index.html").read_text()
    for source in NOTEBOOKS:
        assert f"href='{source.stem}.html'" in index
    assert "QUICK run" in index and "TensorFlow" in index
    assert f"{100 * metrics['shipped_model']['accuracy']:.1f}%" in index

    # the committed full run is untouched, and a second run has nothing to do
    again = subprocess.run(
        ["make", "-q", "report", "QUICK=1", f"OUT={out}"], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert again.returncode == 0, "a second `make report` would redo work"
    assert (committed.read_bytes() if committed.exists() else None) == committed_before
    for name in ("model_card.md", "ser_bilstm.keras"):
        assert (out / "models" / name).exists()
