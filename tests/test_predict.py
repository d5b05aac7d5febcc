"""The predictor and the `predict` command line on good and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser.app import cli
from ser.config import EMOTION_NAMES, PROJECT_ROOT, SAMPLES_DIR
from ser.data.audio import AudioError
from ser.features.cache import load_features
from ser.features.extraction import FeatureParams, clip_features
from ser.inference.predict import Predictor, window_starts
from ser.inference.speech import non_speech_signals
from ser.models.artifacts import read_metadata

from .conftest import speech, tone

LOGMEL = FeatureParams.of("logmel")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """An untrained model of our architecture, saved as the shipped one: no training needed."""
    from dataclasses import asdict

    from ser.models.architectures import CNN, build_model
    from ser.models.artifacts import export_onnx, save_model
    from ser.training.fitting import seed_everything

    seed_everything(0)
    folder = tmp_path_factory.mktemp("model")
    metadata = {"model": CNN.name, "spec": CNN.as_dict(), "held_out_actors": [1, 11, 20, 21],
                "features": asdict(LOGMEL)}  # fmt: skip
    model = build_model(CNN, n_features=LOGMEL.n_features)
    save_model(model, folder, metadata)
    export_onnx(model, folder)
    return folder


@pytest.fixture(scope="session")
def predictor(model_dir) -> Predictor:
    return Predictor(model_dir)


def assert_valid(prediction):
    assert prediction.emotion in EMOTION_NAMES
    assert set(prediction.probabilities) == set(EMOTION_NAMES)
    assert abs(sum(prediction.probabilities.values()) - 1) < 1e-4


def test_window_starts_cover_the_recording():
    assert window_starts(1000, 4000) == [0]
    assert window_starts(4000, 4000) == [0]
    assert window_starts(9000, 4000) == [0, 2000, 4000, 5000]


def test_predictor_features_equal_training_features(predictor):
    """No second implementation: a sample clip's predictor features are its training features."""
    path = SAMPLES_DIR / "03-01-01-01-01-01-01.flac"
    samples = predictor.load(path)
    assert predictor.params == LOGMEL
    assert samples.size <= LOGMEL.n_samples  # one window, like training
    np.testing.assert_array_equal(predictor.features(samples)[0], clip_features(path, LOGMEL))


def test_predictor_features_equal_the_cached_training_features(predictor, ravdess_root):
    from ser.data.dataset import build_index

    index = build_index(ravdess_root)
    index = index[index["actor"] == 1].reset_index(drop=True)  # one actor's clips: fast
    cached = load_features(index, [LOGMEL], progress=False)[LOGMEL.kind]
    position = index.index[index["clip_id"] == "03-01-01-01-01-01-01"][0]
    samples = predictor.load(index.loc[position, "path"])
    np.testing.assert_array_equal(predictor.features(samples)[0], cached.features[position])


def test_path_bytes_and_array_agree(predictor):
    path = SAMPLES_DIR / "03-01-05-02-01-01-01.flac"
    by_path = predictor.predict(path)
    by_bytes = predictor.predict(path.read_bytes(), name=path.name)
    samples, rate = sf.read(path, dtype="float32")
    by_array = predictor.predict(samples, rate)
    assert_valid(by_path)
    for other in (by_bytes, by_array):
        # the same features exactly, not only similar probabilities from an untrained model
        np.testing.assert_array_equal(other.features, by_path.features)
        assert other.emotion == by_path.emotion
        np.testing.assert_allclose(
            list(other.probabilities.values()), list(by_path.probabilities.values()), atol=1e-6
        )


def test_long_recording_is_windowed(predictor, write_speech):
    prediction = predictor.predict(write_speech("long.wav", seconds=12.0, rate=16_000))
    assert_valid(prediction)
    assert prediction.windows == len(window_starts(12 * 22_050, LOGMEL.n_samples))
    assert prediction.windows > 1


@pytest.mark.parametrize(
    ("name", "rate", "channels", "subtype", "fmt"),
    [
        ("phone.wav", 8_000, 1, "PCM_16", None),
        ("hires.wav", 96_000, 1, "PCM_16", None),
        ("stereo.wav", 44_100, 2, "PCM_16", None),
        ("deep.wav", 48_000, 1, "PCM_24", None),
        ("float.wav", 44_100, 1, "FLOAT", None),
        ("aiff_named.wav", 44_100, 1, "PCM_16", "AIFF"),  # AIFF data behind a .wav name
    ],
)
def test_formats_give_a_prediction(predictor, write_speech, name, rate, channels, subtype, fmt):
    assert_valid(
        predictor.predict(
            write_speech(name, seconds=2.0, rate=rate, channels=channels, subtype=subtype, fmt=fmt)
        )
    )


def bad_inputs(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files that must be refused, with the words the refusal must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {}
    (folder / "empty.wav").touch()
    cases["empty"] = (folder / "empty.wav", "empty")
    (folder / "noise.wav").write_bytes(
        np.random.default_rng(1).integers(0, 256, 8192, dtype=np.uint8).tobytes()
    )
    cases["random bytes"] = (folder / "noise.wav", "not a readable audio file")
    sf.write(folder / "full.wav", tone(1.0), 22_050)
    (folder / "truncated.wav").write_bytes((folder / "full.wav").read_bytes()[:30])
    (folder / "full.wav").unlink()
    cases["truncated header"] = (folder / "truncated.wav", "not a readable audio file")
    sf.write(folder / "blip.wav", tone(0.1), 22_050)
    cases["0.1 s"] = (folder / "blip.wav", "at least 0.5 s")
    sf.write(folder / "ten_minutes.wav", np.tile(tone(1.0, 8_000), 600), 8_000)
    cases["10 minutes"] = (folder / "ten_minutes.wav", "the limit is 60 s")
    sf.write(folder / "silence.wav", np.zeros(44_100, np.float32), 22_050)
    cases["digital silence"] = (folder / "silence.wav", "silent")
    (folder / "notes.wav").write_text("hello, this is a text file\n" * 20)
    cases["text"] = (folder / "notes.wav", "not a readable audio file")
    return cases


@pytest.mark.parametrize(
    "case",
    ["empty", "random bytes", "truncated header", "0.1 s", "10 minutes", "digital silence", "text"],
)
def test_bad_input_gets_a_specific_message(predictor, tmp_path, case):
    path, words = bad_inputs(tmp_path)[case]
    with pytest.raises(AudioError, match=words) as info:
        predictor.predict(path)
    assert path.name in str(info.value)


def test_size_cap(predictor, tmp_path, monkeypatch):
    monkeypatch.setattr("ser.inference.predict.MAX_UPLOAD_BYTES", 1000)
    sf.write(tmp_path / "big.wav", tone(1.0), 22_050)
    with pytest.raises(AudioError, match="limit is"):
        predictor.predict(tmp_path / "big.wav")


def test_cli_predicts_samples_as_json_and_csv(model_dir, tmp_path, capsys):
    out = tmp_path / "results.csv"
    assert (
        cli.main(
            [
                "predict",
                str(SAMPLES_DIR),
                "--json",
                "--out",
                str(out),
                "--model-dir",
                str(model_dir),
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 8
    for line in lines:
        assert set(line) == {"file", "emotion", "confident", "probabilities"}
        assert set(line["probabilities"]) == set(EMOTION_NAMES)
    rows = out.read_text().splitlines()
    assert rows[0].startswith("file,emotion,confident,p_neutral") and len(rows) == 9


def test_cli_timeline_has_one_row_per_window(model_dir, tmp_path, capsys):
    long = tmp_path / "long.wav"
    sf.write(long, speech(10.0, 16_000), 16_000)  # 10 s: windows at 0, 2, 4 and 5.98 s
    out = tmp_path / "timeline.csv"
    argv = [
        "predict",
        str(long),
        "--timeline",
        "--json",
        "--out",
        str(out),
        "--model-dir",
        str(model_dir),
    ]
    assert cli.main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["start_s"] for line in lines] == pytest.approx(
        [0.0, 2.009, 4.018, 5.983], abs=2e-3
    )
    assert all(line["end_s"] - line["start_s"] == pytest.approx(4.017, abs=2e-3) for line in lines)
    assert {tuple(line) for line in lines} == {
        ("file", "start_s", "end_s", "emotion", "probabilities")
    }
    rows = out.read_text().splitlines()
    assert rows[0].startswith("file,start_s,end_s,emotion,p_neutral") and len(rows) == 1 + len(
        lines
    )


def test_below_the_threshold_the_answer_is_unsure(model_dir, tmp_path, capsys):
    import shutil

    from ser.models.artifacts import update_metadata

    calibrated = tmp_path / "calibrated"
    shutil.copytree(model_dir, calibrated)
    calibration = {"temperature": 2.0, "threshold": 0.99, "target_accuracy": 0.8, "fitted_on": "x"}
    update_metadata(calibrated, calibration=calibration)
    clip = SAMPLES_DIR / "03-01-05-02-01-01-01.flac"
    raw, tempered = Predictor(model_dir).predict(clip), Predictor(calibrated).predict(clip)
    assert raw.confident and not tempered.confident and tempered.emotion == raw.emotion
    # T = 2 flattens the probabilities: softmax(log p / 2) is proportional to sqrt(p).
    expected = np.sqrt(list(raw.probabilities.values()))
    np.testing.assert_allclose(
        list(tempered.probabilities.values()), expected / expected.sum(), atol=1e-6
    )
    assert cli.main(["predict", str(clip), "--model-dir", str(calibrated)]) == 0
    assert f"unsure (best guess {raw.emotion})" in capsys.readouterr().out


def test_cli_reports_each_bad_file_and_keeps_going(model_dir, tmp_path, capsys):
    folder = tmp_path / "mixed"
    cases = bad_inputs(folder)
    sf.write(folder / "good.wav", speech(2.0, 16_000), 16_000)
    (folder / "README.txt").write_text("not audio, not a candidate")
    code = cli.main(["predict", str(folder), "--model-dir", str(model_dir)])
    captured = capsys.readouterr()
    assert code == 1
    assert "good.wav:" in captured.out
    for path, words in cases.values():
        (line,) = [line for line in captured.err.splitlines() if f"{path.name}: ERROR" in line]
        assert words in line
    assert f"{len(cases)} of {len(cases) + 1} files failed" in captured.err
    assert "README.txt" not in captured.out + captured.err


def test_cli_one_unreadable_file_in_a_folder(model_dir, tmp_path, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("a.wav", "b.flac"):
        sf.write(folder / name, speech(1.0), 22_050)
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00")
    code = cli.main(["predict", str(folder), "--json", "--model-dir", str(model_dir)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert sorted(Path(line["file"]).name for line in lines if "emotion" in line) == [
        "a.wav",
        "b.flac",
    ]
    (error,) = [line for line in lines if "error" in line]
    assert (
        Path(error["file"]).name == "broken.wav" and "not a readable audio file" in error["error"]
    )


def test_cli_missing_path_and_missing_model(model_dir, tmp_path, capsys):
    assert cli.main(["predict", str(tmp_path / "absent.wav"), "--model-dir", str(model_dir)]) == 1
    assert "no such file or directory" in capsys.readouterr().err
    sf.write(tmp_path / "ok.wav", speech(1.0), 22_050)
    assert (
        cli.main(["predict", str(tmp_path / "ok.wav"), "--model-dir", str(tmp_path / "nomodel")])
        == 1
    )
    assert "cannot load the model" in capsys.readouterr().err


def test_cli_help_documents_the_options():
    result = subprocess.run(
        [sys.executable, "-m", "ser", "predict", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for words in ("--json", "--out", "FILE_OR_DIR", "60 s", "exit code"):
        assert words in result.stdout


@pytest.mark.parametrize("folder", ["models", "models/cnn"])
def test_committed_model_reproduces_its_held_out_metrics(ravdess_root, folder):
    """Re-evaluating models/ (the shipped model, through the predictor if it is ONNX only) and
    models/cnn/ on their held-out actors gives their blocks of metrics.json."""
    from ser.data.dataset import build_index
    from ser.evaluation.schema import Metrics
    from ser.evaluation.shipped import evaluate_shipped
    from ser.features.cache import load_features

    metrics_path = PROJECT_ROOT / "reports" / "metrics.json"
    if not metrics_path.exists() or not (PROJECT_ROOT / folder / "labels.json").exists():
        pytest.skip("no committed report or model yet")
    metrics = Metrics.read(metrics_path)
    expected = metrics.shipped if folder == "models" else metrics.cnn_check
    index = build_index(ravdess_root)
    # only the held-out actors' clips: what the check needs, without extracting all 1440
    index = index[index["actor"].isin(expected.scores.test_actors)].reset_index(drop=True)
    spec = read_metadata(PROJECT_ROOT / folder).get("spec")
    features = load_features(index, (spec["features"],), progress=False) if spec else {}
    found = evaluate_shipped(index, features, PROJECT_ROOT / folder)
    assert found.model == expected.model
    assert found.scores.test_actors == expected.scores.test_actors == [1, 11, 20, 21]
    for key in ("accuracy", "uar", "macro_f1"):
        assert getattr(found.scores, key) == pytest.approx(getattr(expected.scores, key), abs=1e-6)


def test_committed_onnx_export_equals_the_keras_model():
    """The runtime the demo and the CLI use gives Keras' probabilities on the bundled samples."""
    from ser.models.artifacts import MODEL_FILE, ONNX_FILE, load_model

    models = PROJECT_ROOT / "models"
    if not (models / MODEL_FILE).exists():  # the shipped model is the encoder's: the CNN's
        models = models / "cnn"
    if not (models / ONNX_FILE).exists():
        pytest.skip("no committed ONNX export yet")
    runtime = Predictor(models)
    keras_model, labels, _ = load_model(models)
    assert labels == runtime.labels
    windows = np.concatenate(
        [runtime.features(runtime.load(path)) for path in sorted(SAMPLES_DIR.glob("*.flac"))]
    )
    expected = np.asarray(keras_model(windows, training=False))
    np.testing.assert_allclose(runtime.window_probabilities(windows), expected, atol=1e-4, rtol=0)


NON_SPEECH = ["white noise, rms 0.1", "tone 1000 Hz", "clicks, 10/s", "chord C-E-G"]


@pytest.mark.parametrize("kind", NON_SPEECH)
def test_no_speech_gets_no_emotion(predictor, tmp_path, kind):
    path = tmp_path / "signal.wav"
    sf.write(path, non_speech_signals()[kind], 16_000)
    prediction = predictor.predict(path)
    assert prediction.emotion is None and prediction.probabilities == {}
    assert not prediction.speech.found and prediction.speech.peak < 0.15
    assert prediction.reason.startswith("no speech found")
    assert prediction.as_dict()["emotion"] is None and "reason" in prediction.as_dict()


def test_every_bundled_sample_holds_speech(predictor):
    for path in sorted(SAMPLES_DIR.glob("*.flac")):
        prediction = predictor.predict(path)
        assert prediction.speech.found, path.name
        assert_valid(prediction)


def test_cli_says_no_speech_in_json_and_csv(model_dir, tmp_path, capsys):
    noise = tmp_path / "noise.wav"
    sf.write(noise, non_speech_signals()["white noise, rms 0.1"], 16_000)
    sf.write(tmp_path / "voice.wav", speech(2.0), 22_050)
    out = tmp_path / "results.csv"
    argv = ["predict", str(tmp_path), "--json", "--out", str(out), "--model-dir", str(model_dir)]
    assert cli.main(argv + ["--jobs", "1"]) == 0  # no speech is an answer, not a failure
    lines = {
        Path(line["file"]).name: line
        for line in map(json.loads, capsys.readouterr().out.splitlines())
    }
    assert lines["noise.wav"]["emotion"] is None
    assert lines["noise.wav"]["reason"].startswith("no speech found")
    assert lines["voice.wav"]["emotion"] in EMOTION_NAMES
    import csv

    rows = {Path(row["file"]).name: row for row in csv.DictReader(out.open())}
    assert rows["noise.wav"]["emotion"] == "" and rows["noise.wav"]["reason"].startswith(
        "no speech"
    )
    assert rows["voice.wav"]["emotion"] in EMOTION_NAMES and rows["voice.wav"]["reason"] == ""
