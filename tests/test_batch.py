"""Batch prediction: all cores, streamed results, --resume, and a Dask cluster give one answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ser.app import cli
from ser.config import SAMPLES_DIR
from ser.inference import batch

from .test_predict import model_dir  # noqa: F401  (the untrained model fixture)


@pytest.fixture
def folder(tmp_path) -> Path:
    """The bundled samples and one broken file."""
    clips = tmp_path / "clips"
    shutil.copytree(SAMPLES_DIR, clips, ignore=shutil.ignore_patterns("*.md", "*.txt"))
    (clips / "broken.wav").write_bytes(b"RIFF\x00\x00")
    return clips


def rows_of(argv, capsys) -> list[dict]:
    cli.main(argv)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.slow  # starts two worker processes (about 6 s)
def test_two_jobs_give_the_answers_of_one(model_dir, folder, capsys):  # noqa: F811
    base = ["predict", str(folder), "--json", "--model-dir", str(model_dir)]
    one = rows_of([*base, "--jobs", "1"], capsys)
    two = rows_of([*base, "--jobs", "2"], capsys)
    assert len(one) == len(list(folder.iterdir())) == 9
    assert one == two  # same order, same probabilities to the last digit
    assert sum("error" in row for row in one) == 1


def test_resume_skips_what_is_done_and_drops_a_half_written_row(model_dir, folder, capsys):  # noqa: F811
    out = folder.parent / "results.jsonl"
    base = ["predict", str(folder), "--json", "--out", str(out), "--model-dir", str(model_dir)]
    full = rows_of([*base, "--jobs", "1"], capsys)
    lines = out.read_text().splitlines(keepends=True)
    assert [json.loads(line) for line in lines] == full
    # An interrupted run: three files written, the fourth cut off mid-line.
    out.write_text("".join(lines[:3]) + lines[3][:20])
    assert batch.files_in_output(out) == {row["file"] for row in full[:3]}
    resumed = rows_of([*base, "--jobs", "1", "--resume"], capsys)
    assert resumed == full[3:]  # only what was missing ran
    assert [json.loads(line) for line in out.read_text().splitlines()] == full


def test_resume_needs_an_output_file(model_dir, folder, capsys):  # noqa: F811
    assert cli.main(["predict", str(folder), "--resume", "--model-dir", str(model_dir)]) == 2
    assert "--resume needs --out" in capsys.readouterr().err


def test_csv_output_resumes_too(model_dir, folder, capsys):  # noqa: F811
    out = folder.parent / "results.csv"
    base = ["predict", str(folder), "--out", str(out), "--model-dir", str(model_dir), "--jobs", "1"]
    cli.main(base)
    complete = out.read_text()
    out.write_text("\n".join(complete.splitlines()[:4]) + "\n")
    cli.main([*base, "--resume"])
    capsys.readouterr()
    assert sorted(out.read_text().splitlines()) == sorted(complete.splitlines())


@pytest.mark.slow
def test_a_dask_cluster_gives_the_local_answers(model_dir, folder, capsys):  # noqa: F811
    from dask.distributed import LocalCluster

    base = ["predict", str(folder), "--json", "--model-dir", str(model_dir)]
    local = rows_of([*base, "--jobs", "1"], capsys)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:  # fmt: skip
        on_cluster = rows_of([*base, "--scheduler", cluster.scheduler_address], capsys)
        workers = len(cluster.workers)
    assert workers == 2
    assert on_cluster == local
