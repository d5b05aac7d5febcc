"""Notebooks execute end to end on the real data (slow; required in CI)."""

import json
from pathlib import Path

import pytest

from ser.config import PROJECT_ROOT
from ser.reporting.notebooks import KERNEL_NAME, declared_parameters, execute

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def outputs_text(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    chunks = []
    for cell in cells:
        for output in cell.get("outputs", []):
            chunks.append(output.get("text", ""))
            chunks.extend(str(v) for v in output.get("data", {}).values())
    return "\n".join("".join(c) if isinstance(c, list) else c for c in chunks)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_source_notebooks_are_clean_and_parameterised(notebook: Path):
    nb = json.loads(notebook.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "ser"
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one parameters cell"
    assert declared_parameters(notebook), "the parameters cell assigns something"
    assert not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    assert all(not c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.slow
def test_exploration_notebook_runs_on_real_data(ravdess_root, tmp_path, monkeypatch):
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path))
    output = tmp_path / "reports" / "01_data_exploration.ipynb"
    execute(PROJECT_ROOT / "notebooks" / "01_data_exploration.ipynb", output)
    text = outputs_text(output)
    assert "1440" in text  # clips in the inventory table
    for clip in [
        "03-01-02-01-01-02-01",
        "03-01-08-01-02-02-01",
        "03-01-02-01-02-02-05",
        "03-01-03-01-02-01-20",
        "03-01-06-01-01-02-20",
    ]:  # the 5 stereo clips
        assert clip in text
    assert sorted(p.name for p in (tmp_path / "figures").glob("01_*.png")) == [
        "01_clip_counts.png",
        "01_durations.png",
        "01_waveforms_spectrograms.png",
    ]


def test_only_known_harmless_kernel_lines_are_dropped():
    from ser.reporting.notebooks import is_harmless

    harmless = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795819664.162600   20897 port.cc:153] oneDNN custom operations are on. You may see",
        "E0000 00:00:1795819667.936212   20897 node_def_util.cc:682] NodeDef mentions attribute "
        "use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset; ...",
        "[IPKernelApp] WARNING | Kernel is running over TCP without encryption. All communication",
    ]
    real = [
        "E0000 00:00:1795819667.936212   20897 some_op.cc:12] Out of memory while allocating",
        "Traceback (most recent call last):",
        "[cnn speaker_independent seed 42] fold 1/6: train 1080 clips",
    ]
    assert all(is_harmless(line) for line in harmless)
    assert not any(is_harmless(line) for line in real)


def test_the_app_page_is_one_call_served_on_localhost():
    import nbformat

    from ser.app.server import APP_NOTEBOOK, voila_command

    command = voila_command(8866)
    assert "--Voila.ip=127.0.0.1" in command and str(APP_NOTEBOOK) in command
    assert "--show_tracebacks=False" in command
    (cell,) = nbformat.read(APP_NOTEBOOK, as_version=4).cells
    assert "from ser.app.demo import app" in cell.source and "app()" in cell.source


def test_an_interrupted_or_failed_run_leaves_no_executed_notebook(tmp_path):
    """make takes an existing executed notebook for finished: a run that fails (or is
    interrupted) must not leave one, only a `.failed` copy to read."""
    import nbformat
    import papermill

    source = tmp_path / "broken.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")]
    notebook.cells[0].metadata["tags"] = ["parameters"]
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME,
                                       "language": "python"}  # fmt: skip
    nbformat.write(notebook, source)
    output = tmp_path / "reports" / "broken.ipynb"
    with pytest.raises(papermill.PapermillExecutionError):
        execute(source, output, {"x": 2})
    assert not output.exists()
    assert "ZeroDivisionError" in (output.parent / "broken.failed.ipynb").read_text()
    notebook.cells[1].source = "y = x"
    nbformat.write(notebook, source)
    assert execute(source, output, {"x": 2}) == {"x": 2} and output.exists()
    assert not list(output.parent.glob("*.partial.*"))
    assert not (output.parent / "broken.failed.ipynb").exists()
