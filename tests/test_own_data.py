"""Your own recordings: manifests and folders read, bad input named, a model trained and used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ser.config import SAMPLES_DIR
from ser.data.own_corpus import Corpus, CorpusError, read_corpus
from ser.training.own_data import cross_validate, train_own_model

SAMPLES = sorted(SAMPLES_DIR.glob("*.flac"))


def _manifest(folder: Path, rows: list[dict], name: str = "manifest.csv") -> Path:
    path = folder / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _speech_rows(folder: Path, n_per_label: int, labels=("calm", "angry"), speakers=("a", "b")):
    """Real speech clips (the bundled samples, cut differently) written under ``folder``."""
    rows = []
    for i in range(n_per_label):
        for j, label in enumerate(labels):
            samples, rate = sf.read(SAMPLES[(i + j) % len(SAMPLES)], dtype="float32")
            name = f"{label}_{i}.wav"
            sf.write(folder / name, samples[: rate * 2 + 97 * i], rate)
            rows.append({"path": name, "label": label, "speaker": speakers[i % len(speakers)]})
    return rows


def test_manifest_relative_paths_are_read_from_its_folder(tmp_path):
    rows = _speech_rows(tmp_path, 6)
    corpus = read_corpus(_manifest(tmp_path, rows), speaker_column="speaker")
    assert len(corpus.clips) == 12 and corpus.labels == ["angry", "calm"]
    assert all(Path(p).is_file() for p in corpus.clips["path"])
    assert corpus.has_speakers and corpus.summary()["speakers"] == 2


def test_folder_of_label_folders(tmp_path):
    for label in ("yes", "no"):
        (tmp_path / label).mkdir()
        for i in range(5):
            sf.write(tmp_path / label / f"{i}.wav", np.full(1600, 0.1, np.float32), 16_000)
    corpus = read_corpus(tmp_path)
    assert corpus.labels == ["no", "yes"] and len(corpus.clips) == 10
    assert not corpus.has_speakers


def test_labels_lose_stray_whitespace_and_case(tmp_path):
    rows = _speech_rows(tmp_path, 6)
    for row, label in zip(rows, [" Calm", "ANGRY "] * 6, strict=True):
        row["label"] = label
    corpus = read_corpus(_manifest(tmp_path, rows))
    assert corpus.labels == ["angry", "calm"]


def test_missing_and_unreadable_files_are_listed_and_the_rest_kept(tmp_path):
    rows = _speech_rows(tmp_path, 6)
    (tmp_path / "broken.wav").write_bytes(b"not audio at all")
    rows += [{"path": "gone.wav", "label": "calm", "speaker": "a"},
             {"path": "broken.wav", "label": "angry", "speaker": "b"}]  # fmt: skip
    corpus = read_corpus(_manifest(tmp_path, rows), speaker_column="speaker")
    assert len(corpus.clips) == 12
    reasons = dict(corpus.skipped)
    assert reasons[str(tmp_path / "gone.wav")] == "no such file"
    assert "not readable audio" in reasons[str(tmp_path / "broken.wav")]


def test_too_few_usable_clips_is_an_error_naming_them(tmp_path):
    rows = [{"path": f"missing_{i}.wav", "label": "a" if i % 2 else "b"} for i in range(12)]
    with pytest.raises(CorpusError, match=r"only 0 usable clips.*missing_0.wav: no such file"):
        read_corpus(_manifest(tmp_path, rows))


def test_a_missing_column_names_the_columns_there(tmp_path):
    path = _manifest(tmp_path, [{"file": "x.wav", "emotion": "sad"}])
    with pytest.raises(CorpusError, match=r"no column 'path', 'label'.*'file', 'emotion'"):
        read_corpus(path)
    with pytest.raises(CorpusError, match=r"no column 'speaker'"):
        read_corpus(path, path_column="file", label_column="emotion", speaker_column="speaker")


def test_duplicate_paths_are_an_error(tmp_path):
    rows = _speech_rows(tmp_path, 6)
    rows.append(dict(rows[0]))
    with pytest.raises(CorpusError, match=r"1 paths appear more than once: .*calm_0.wav"):
        read_corpus(_manifest(tmp_path, rows))


def test_rows_without_a_label_or_speaker_are_named(tmp_path):
    rows = _speech_rows(tmp_path, 6)
    rows[3]["label"] = "  "
    with pytest.raises(CorpusError, match=r"1 rows have no label, e.g. .*angry_1.wav"):
        read_corpus(_manifest(tmp_path, rows))
    rows = _speech_rows(tmp_path, 6)
    rows[0]["speaker"] = ""
    with pytest.raises(CorpusError, match="1 rows have no speaker"):
        read_corpus(_manifest(tmp_path, rows), speaker_column="speaker")


def test_one_label_is_an_error(tmp_path):
    rows = _speech_rows(tmp_path, 12, labels=("calm",))
    with pytest.raises(CorpusError, match="one label only"):
        read_corpus(_manifest(tmp_path, rows))


def _corpus(labels, speakers=None) -> Corpus:
    n = len(labels)
    clips = pd.DataFrame({"path": [f"{i}.wav" for i in range(n)], "clip_id": list(map(str, range(n))),
                          "label": labels, "speaker": speakers if speakers is not None else None})  # fmt: skip
    return Corpus(clips, "test corpus")


def test_one_speaker_only_is_an_error():
    corpus = _corpus(["a", "b"] * 10, ["same"] * 20)
    with pytest.raises(CorpusError, match="one speaker only"):
        cross_validate(np.zeros((20, 5, 8), np.float32), corpus)


def test_a_label_with_fewer_clips_than_folds_is_named_with_its_count():
    corpus = _corpus(["a"] * 10 + ["b"] * 3)
    with pytest.raises(
        CorpusError, match=r"5 folds need at least 5 clips of every label; 'b' has 3"
    ):
        cross_validate(np.zeros((13, 5, 8), np.float32), corpus)


def test_cross_validation_groups_by_speaker_when_given():
    rng = np.random.default_rng(0)
    labels = np.array(["a", "b"] * 30)
    states = rng.normal(size=(60, 5, 8)).astype(np.float32) + (labels == "a")[:, None, None]
    speakers = np.repeat(["s1", "s2", "s3", "s4", "s5", "s6"], 10)
    cv = cross_validate(states, _corpus(labels, speakers), folds=3)
    assert cv.grouped_by == "speaker"
    for fold in range(3):
        tested = set(speakers[cv.fold_of_clip == fold])
        trained = set(speakers[cv.fold_of_clip != fold])
        assert not tested & trained
    assert cv.ua > 0.9
    clip_cv = cross_validate(states, _corpus(labels), folds=3)
    assert clip_cv.grouped_by == "clip" and "optimistic" in clip_cv.report()


@pytest.mark.slow  # builds and exports the encoder (about a minute)
def test_train_writes_a_model_that_predicts_with_the_users_labels(tmp_path):
    from ser.inference.predict import Predictor

    rows = _speech_rows(tmp_path, 8, labels=("calm", "angry"), speakers=("a", "b", "c", "d"))
    corpus = read_corpus(_manifest(tmp_path, rows), speaker_column="speaker")
    out = tmp_path / "my_model"
    result = train_own_model(corpus, out, folds=2, progress=False, cache_dir=tmp_path / "cache",
                             log=lambda _: None)  # fmt: skip
    metadata = json.loads((out / "labels.json").read_text())
    assert metadata["index_to_emotion"] == {"0": "angry", "1": "calm"}
    assert metadata["cross_validation"]["grouped_by"] == "speaker"
    assert 0 <= result.cross_validation.ua <= 1 and (out / "model_card.md").is_file()
    with pytest.raises(CorpusError, match="already holds a model"):
        train_own_model(corpus, out, folds=2, progress=False, cache_dir=tmp_path / "cache",
                        log=lambda _: None)  # fmt: skip

    predictor = Predictor(out)
    # The ONNX graph on the predictor's windows answers as the head on the cached states (to
    # float32 across two runtimes, which 16 clips' near-constant features magnify to ~0.003).
    from ser.data.audio import load_audio

    position = corpus.clips.index[corpus.clips["path"] == str(tmp_path / "angry_3.wav")][0]
    windows = predictor.features(load_audio(tmp_path / "angry_3.wav", 16_000))
    np.testing.assert_allclose(
        predictor.window_probabilities(windows)[0],
        result.head.predict_proba(result.states[[position]])[0], atol=0.01,
    )  # fmt: skip
    prediction = predictor.predict(tmp_path / "angry_3.wav")
    assert prediction.emotion in ("angry", "calm")
    assert set(prediction.probabilities) == {"angry", "calm"}
    assert abs(sum(prediction.probabilities.values()) - 1) < 1e-5


def test_a_base_corpus_joins_training_folds_only_and_for_shared_labels():
    from ser.training.own_data import Base

    rng = np.random.default_rng(1)
    labels = np.array(["a", "b"] * 20)
    states = (rng.normal(size=(40, 5, 8)) + (labels == "a")[:, None, None]).astype(np.float32)
    speakers = np.repeat(["s1", "s2", "s3", "s4"], 10)
    base_labels = np.array(["a", "b", "zzz"] * 30)
    base = Base("test", rng.normal(size=(90, 5, 8)).astype(np.float32), base_labels)
    shared_states, shared_labels = base.shared(["a", "b"])
    assert len(shared_labels) == 60 and "zzz" not in shared_labels
    cv = cross_validate(states, _corpus(labels, speakers), folds=2, base=base)
    assert cv.probabilities.shape == (40, 2)  # the base's clips are never scored
    assert cv.labels == ["a", "b"]


def test_the_demo_describes_a_users_model_from_its_metadata():
    from types import SimpleNamespace

    from ser.app.demo import about, is_own_model, model_summary
    from ser.features.extraction import FeatureParams

    metadata = {"model": "whisper_linear_all", "description": "my head",
                "data": {"clips": 40}, "cross_validation": {"ua": 0.5, "folds": 2,
                                                            "grouped_by": "speaker"}}  # fmt: skip
    predictor = SimpleNamespace(metadata=metadata, labels=["angry", "calm"],
                                params=FeatureParams.of("whisper"))  # fmt: skip
    assert is_own_model(metadata) and not is_own_model({"trained_on_actors": [2]})
    assert "40 clips" in about(predictor) and "angry, calm" in about(predictor)
    assert "UA 0.500 in 2-fold cross-validation grouped by speaker" in model_summary(predictor)
