"""The training cache: a training is reused only when nothing that can change it changed."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ser.config import EMOTION_NAMES
from ser.data.splits import Split
from ser.features.extraction import FeatureParams
from ser.models.specs import CNN
from ser.training import training_cache
from ser.training.training_cache import TrainingCache, key_ingredients, training_key

N = 48
VERSIONS = {"tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"}


def tiny_data():
    rng = np.random.default_rng(0)
    features = rng.normal(-30, 10, size=(N, 174, 64)).astype(np.float32)
    index = pd.DataFrame({
        "clip_id": [f"clip{i:02d}" for i in range(N)], "actor": np.arange(N) % 4 + 1,
        "emotion": [EMOTION_NAMES[i % 8] for i in range(N)], "emotion_code": np.arange(N) % 8 + 1,
    })  # fmt: skip
    split = Split("speaker_independent", 1, np.arange(0, 32), np.arange(32, 40), np.arange(40, N))
    return index, features, split


TINY = CNN.with_changes("tiny", "a tiny model", epochs=1, batch_size=16)


def key_of(spec=TINY, params=None, features=None, clip_ids=None, split=None, seed=7,
           epoch_cap=None, versions=VERSIONS) -> str:  # fmt: skip
    index, base_features, base_split = tiny_data()
    return training_key(key_ingredients(
        spec, params or FeatureParams.of("logmel"),
        base_features if features is None else features,
        index["clip_id"].to_numpy() if clip_ids is None else clip_ids,
        split or base_split, seed=seed, epoch_cap=epoch_cap, versions=versions,
    ))  # fmt: skip


def test_every_key_ingredient_changes_the_key(monkeypatch):
    index, features, split = tiny_data()
    base = key_of()
    assert key_of() == base  # deterministic
    changed_features = features.copy()
    changed_features[40, 0, 0] += 1e-3  # one value of one test clip
    renamed = index["clip_id"].to_numpy().copy()
    renamed[3] = "another_clip"
    swapped = Split("speaker_independent", 1, np.r_[0:31, 40], np.arange(32, 40),
                    np.r_[31, 41:N])  # fmt: skip
    misses = {
        "a spec field": key_of(spec=replace(TINY, dropout=0.31)),
        "the epochs": key_of(spec=replace(TINY, epochs=2)),
        "the augmentation": key_of(spec=replace(TINY, augmentation=False)),
        "the waveform versions": key_of(spec=replace(TINY, waveform_versions=3)),
        "class balance": key_of(spec=replace(TINY, balanced_classes=True)),
        "the feature parameters": key_of(params=replace(FeatureParams.of("logmel"), fmax=7000.0)),
        "the feature values": key_of(features=changed_features),
        "a clip id": key_of(clip_ids=renamed),
        "which clips train and test": key_of(split=swapped),
        "the protocol": key_of(split=replace(split, protocol="random")),
        "the seed": key_of(seed=8),
        "the epoch cap": key_of(epoch_cap=3),
        "TensorFlow": key_of(versions={**VERSIONS, "tensorflow": "2.22.0"}),
        "Keras": key_of(versions={**VERSIONS, "keras": "3.16.0"}),
        "NumPy": key_of(versions={**VERSIONS, "numpy": "2.5.0"}),
    }
    monkeypatch.setattr(training_cache, "source_digest", lambda *modules: "edited code")
    misses["the code a training runs"] = key_of()
    monkeypatch.undo()
    assert {name for name, key in misses.items() if key == base} == set()
    assert len(set(misses.values())) == len(misses)  # and no two changes collide
    # what cannot change a result keeps the key: the spec's name and description
    assert key_of(spec=TINY.with_changes("renamed", "other words")) == base


def test_a_bank_of_versions_is_keyed_by_its_values():
    _, features, _ = tiny_data()
    bank = np.stack([features, features - 3.0], axis=1)  # (clips, versions, frames, bands)
    spec = replace(TINY, waveform_versions=1)
    base = key_of(spec=spec, features=bank)
    changed = bank.copy()
    changed[5, 1, 0, 0] += 1e-3  # one value of one augmented version of one training clip
    assert key_of(spec=spec, features=changed) != base
    assert key_of(spec=spec, features=bank[:, :1]) != base


def test_a_second_run_reuses_the_training_and_gets_the_same_predictions(tmp_path):
    from ser.training.fitting import run_protocol

    index, features, split = tiny_data()
    cache = TrainingCache(tmp_path)
    first = run_protocol(TINY, index, features, [split], seed=7, cache=cache)
    second = run_protocol(TINY, index, features, [split], seed=7, cache=cache)
    assert [t["reused"] for t in first.trainings.values()] == [False]
    assert [t["reused"] for t in second.trainings.values()] == [True]
    assert first.trainings[1]["key"] == second.trainings[1]["key"]
    pd.testing.assert_frame_equal(first.predictions, second.predictions, check_exact=True)
    pd.testing.assert_frame_equal(first.validation, second.validation, check_exact=True)
    assert first.histories == second.histories and first.seconds == second.seconds
    # the entry holds the model: it predicts what the training predicted
    from ser.training.fitting import predict_proba
    from ser.training.runs import PROBABILITY_COLUMNS

    model = cache.entry(first.trainings[1]["key"]).load_model()
    np.testing.assert_allclose(
        predict_proba(model, features[split.test]), first.predictions[PROBABILITY_COLUMNS],
        atol=1e-6,
    )  # fmt: skip
    # another seed is another training
    third = run_protocol(TINY, index, features, [split], seed=8, cache=cache)
    assert [t["reused"] for t in third.trainings.values()] == [False]
    assert not third.predictions.equals(first.predictions)  # the seed is really used
    # FRESH: the existing entry is ignored, trained again and replaced
    fresh = run_protocol(
        TINY, index, features, [split], seed=7, cache=TrainingCache(tmp_path, ignore_existing=True)
    )
    assert [t["reused"] for t in fresh.trainings.values()] == [False]
    # training is deterministic for a seed (TensorFlow op determinism is on)
    pd.testing.assert_frame_equal(fresh.predictions, first.predictions, check_exact=True)
    assert fresh.histories == first.histories


def test_an_interrupted_training_leaves_no_entry(tmp_path):
    """A training killed while saving leaves a staging folder, which is never read."""
    cache = TrainingCache(tmp_path)
    (tmp_path / ".staging-abc-1-2").mkdir(parents=True)
    (tmp_path / "abc").mkdir()  # a folder without training.json: incomplete
    (tmp_path / "abc" / "test.csv").write_text("clip_id\n")
    assert cache.load("abc") is None
    frame = pd.DataFrame({"clip_id": ["c"], "fold": [1]})
    saved = cache.save("abc", {"x": 1}, test=frame, validation=frame, history={"loss": [1.0]},
                       validation_uar=0.5, seconds=2.0, spec_name="tiny")  # fmt: skip
    loaded = cache.load("abc")
    assert loaded is not None and loaded.reused and not saved.reused
    assert json.loads((tmp_path / "abc" / "training.json").read_text())["ingredients"] == {"x": 1}
    assert {"cpu", "commit", "trained_at", "spec"} <= set(loaded.provenance)


def test_derived_results_are_kept_per_ingredients(tmp_path):
    cache = TrainingCache(tmp_path)
    frame = pd.DataFrame({"clip_id": ["c"]})
    cache.save("k", {}, test=frame, validation=frame, history={}, validation_uar=0.5,
               seconds=1.0, spec_name="tiny")  # fmt: skip
    calls = []

    def compute():
        calls.append(1)
        return pd.DataFrame({"clean": [0.5 + len(calls)]})

    first = cache.derived("k", "scores", {"seed": 1}, compute)
    again = cache.derived("k", "scores", {"seed": 1}, compute)
    other = cache.derived("k", "scores", {"seed": 2}, compute)
    assert len(calls) == 2 and first.equals(again) and not other.equals(first)


def test_reuse_is_summarised_with_where_the_trainings_ran():
    records = [
        {"reused": True, "cpu": "AMD EPYC", "commit": "abc1234", "seconds": 60.0},
        {"reused": True, "cpu": "AMD EPYC", "commit": "abc1234", "seconds": 30.0},
        {"reused": False, "cpu": "AMD EPYC", "commit": "def5678", "seconds": 10.0},
    ]
    summary = training_cache.describe_trainings(records)
    assert (summary["trainings"], summary["reused"], summary["ran"]) == (3, 2, 1)
    assert summary["reused_from"] == [{"cpu": "AMD EPYC", "commit": "abc1234"}]
    assert summary["seconds_reused"] == pytest.approx(90.0)


def test_runs_and_the_report_load_without_tensorflow():
    """Reading runs and rendering the index page never import TensorFlow."""
    code = (
        "import sys\n"
        "import ser.training.runs, ser.reporting.index_page, ser.training.plan\n"
        "import ser.training.training_cache, ser.evaluation.tables\n"
        "loaded = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
