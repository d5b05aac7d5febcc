"""Caches cannot go stale: their keys hash the code a result depends on, not a version typed by hand."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "ser"
# The cache keys' code digests (see ser.features.*, ser.training.training_cache).
STAGES = {
    "features": ["ser.features.extraction"],
    "waveform bank": ["ser.features.waveform_bank"],
    "encoder states": ["ser.features.encoder_states"],
    "training": ["ser.training.fitting", "ser.features.waveform_bank"],
}


def digests(root: Path) -> dict[str, str]:
    """Each stage's digest of the package copy under ``root``, computed in a fresh process."""
    code = (
        "import json, sys\n"
        "from ser.environment import source_digest\n"
        f"stages = {STAGES!r}\n"
        "print(json.dumps({s: source_digest(*m) for s, m in stages.items()}))\n"
        "assert 'tensorflow' not in sys.modules and 'librosa' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(root)},
                            capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(result.stdout)


@pytest.fixture()
def package(tmp_path):
    shutil.copytree(SOURCE, tmp_path / "ser", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}: update the test"
    path.write_text(text.replace(old, new, 1))


def changed(before: dict, after: dict) -> set[str]:
    return {stage for stage in before if before[stage] != after[stage]}


def test_editing_a_function_a_stage_uses_is_a_miss(package):
    before = digests(package)
    # a layer of the models: every training runs it, no feature does
    edit(package / "ser/models/architectures.py", "def build_model(", "def build_model(  # x\n")
    assert changed(before, digests(package)) == set()  # a comment alone: still a hit
    edit(
        package / "ser/models/architectures.py",
        "return x",
        "return x + 0",
    )
    assert changed(before, digests(package)) == {"training", "encoder states"}


def test_editing_audio_loading_reaches_every_cache(package):
    before = digests(package)
    edit(package / "ser/data/audio.py", '"""', '"""Edited docstring. ')
    assert changed(before, digests(package)) == set()
    edit(
        package / "ser/data/audio.py",
        "def load_audio(",
        "def _unused():\n    pass\n\n\ndef load_audio(",
    )
    assert changed(before, digests(package)) == set(STAGES)


def test_editing_code_no_stage_runs_is_a_hit(package):
    before = digests(package)
    edit(package / "ser/app/demo.py", "def ", "def _new_helper():\n    return 1\n\n\ndef ")
    edit(package / "ser/reporting/index_page.py", "def ", "def _other():\n    return 2\n\n\ndef ")
    assert changed(before, digests(package)) == set()


def test_the_outputs_stamp_changes_only_with_what_notebook_03_wrote(tmp_path):
    from ser.reporting.outputs import update_stamp

    models, stamp = tmp_path / "models", tmp_path / "03_training.outputs"
    (models / "runs").mkdir(parents=True)
    (models / "labels.json").write_text("{}")
    (models / "runs" / "trainings.json").write_text('{"seconds": 1}')
    assert update_stamp(models, stamp)
    written = stamp.stat().st_mtime_ns
    (models / "labels.json").write_text("{}")  # rewritten, the same bytes
    (models / "runs" / "trainings.json").write_text('{"seconds": 2}')  # a log, not an output
    (models / "model_card.md").write_text("# card")  # notebook 04's
    assert not update_stamp(models, stamp) and stamp.stat().st_mtime_ns == written
    (models / "labels.json").write_text('{"model": "other"}')
    assert update_stamp(models, stamp)
