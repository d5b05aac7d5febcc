"""The two architectures, the custom layers of ours, and the saved-model round trip."""

import numpy as np
import pytest

from ser.config import EMOTION_NAMES
from ser.models import artifacts
from ser.models.architectures import (
    BILSTM,
    CNN,
    ChannelAugment,
    SpecAugment,
    UtteranceNormalization,
    build_model,
)
from ser.training.plan import CNN_RECIPE, QUICK_EPOCHS, SPECS, Plan


def test_bilstm_matches_the_original():
    model = build_model(BILSTM)
    standardise = model.get_layer("standardise")  # the scaler's statistics: 2 × 40, not trained
    assert model.count_params() == 259_912 + 80 and not standardise.trainable_weights
    assert model.input_shape == (None, 174, 40) and model.output_shape == (None, 8)
    layers = {layer.name: layer for layer in model.layers}
    bilstm = layers["bilstm"]
    assert bilstm.forward_layer.units == 128 and bilstm.forward_layer.return_sequences
    assert bilstm.count_params() == 173_056
    assert layers["lstm"].units == 64 and not layers["lstm"].return_sequences
    assert layers["dropout_1"].rate == layers["dropout_2"].rate == 0.5
    assert layers["dense"].units == 64 and layers["dense"].activation.__name__ == "relu"
    assert layers["emotion"].units == 8 and layers["emotion"].activation.__name__ == "softmax"
    assert [type(layer).__name__ for layer in model.layers] == [
        "Standardize",
        "Bidirectional", "Dropout", "LSTM", "Dropout", "Dense", "Dense",
    ]  # fmt: skip


def test_utterance_normalisation_ignores_gain_and_padding_depth():
    rng = np.random.default_rng(0)
    clip = rng.normal(-40, 10, size=(1, 174, 64)).astype(np.float32)
    layer = UtteranceNormalization()
    out = np.asarray(layer(clip))
    # a 20 dB quieter recording is the same clip shifted down in dB
    np.testing.assert_allclose(np.asarray(layer(clip - 20)), out, atol=1e-4)
    # zero padding (-100 dB) and a -200 dB floor are both raised to 80 dB below the peak
    padded, deeper = clip.copy(), clip.copy()
    padded[:, 150:] = -100.0
    deeper[:, 150:] = -200.0
    np.testing.assert_allclose(np.asarray(layer(padded)), np.asarray(layer(deeper)), atol=1e-4)
    assert abs(float(out.mean())) < 1e-3 and abs(float(out.std()) - 1) < 1e-3


def test_utterance_normalisation_keeps_the_bands_relative_spread():
    """One standard deviation for the whole clip, not one per band: louder bands stay louder."""
    rng = np.random.default_rng(1)
    spread = np.linspace(1, 10, 64, dtype=np.float32)
    clip = (rng.normal(size=(1, 174, 64)) * spread - 30).astype(np.float32)
    out = np.asarray(UtteranceNormalization()(clip))[0]
    np.testing.assert_allclose(out.std(axis=0) / out.std(axis=0)[0], spread / spread[0], rtol=0.15)


def test_utterance_normalisation_floor_round_trips(tmp_path):
    """The floor (what replaced the scaler's statistics) survives saving and loading."""
    import keras

    clip = np.full((1, 174, 64), -10.0, dtype=np.float32)
    clip[:, 100:140] = -30.0
    clip[:, 140:] = -90.0  # 80 dB below the peak: inside the default floor, below a 40 dB one
    inputs = keras.Input(shape=(174, 64))
    model = keras.Model(inputs, UtteranceNormalization(floor_db=40.0)(inputs))
    model.save(tmp_path / "norm.keras")
    loaded = keras.saving.load_model(tmp_path / "norm.keras", safe_mode=True)
    assert loaded.layers[-1].floor_db == 40.0
    np.testing.assert_allclose(np.asarray(loaded(clip)), np.asarray(model(clip)), atol=1e-6)
    default = np.asarray(UtteranceNormalization()(clip))
    assert not np.allclose(default, np.asarray(model(clip)), atol=1e-3)


def test_spec_augment_masks_only_while_training():
    x = np.ones((4, 174, 64), np.float32)
    layer = SpecAugment(time_masks=2, time_mask_width=20, freq_masks=2, freq_mask_width=8,
                        max_shift=0, seed=1)  # fmt: skip
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    masked = np.asarray(layer(x, training=True))
    assert masked.shape == x.shape and set(np.unique(masked)) <= {0.0, 1.0}
    assert 0 < (masked == 0).mean() < 0.5  # some cells masked, most kept


def test_every_planned_model_builds_and_round_trips_in_safe_mode(tmp_path):
    for spec in SPECS.values():
        n_features = 40 if spec.features == "mfcc" else 64
        x = np.random.default_rng(1).normal(-30, 10, size=(3, 174, n_features)).astype(np.float32)
        model = build_model(spec, n_features=n_features, adapt_on=x)
        assert model.output_shape == (None, 8)
        folder = tmp_path / spec.name
        artifacts.save_model(model, folder, {"model": spec.name, "spec": spec.as_dict()})
        loaded, labels, metadata = artifacts.load_model(folder)
        assert labels[0] == "neutral" and labels[7] == "surprised"
        assert metadata["spec"]["features"] == spec.features
        np.testing.assert_allclose(
            loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6
        )
        assert not list(folder.glob("*.pkl")) and not (folder / "scaler.json").exists()


def test_the_bilstm_standardises_with_its_training_clips_statistics():
    rng = np.random.default_rng(0)
    train = rng.normal(5, 2, size=(30, 174, 40)).astype(np.float32)
    model = build_model(BILSTM, adapt_on=train)
    standardise = model.get_layer("standardise")
    scaled = np.asarray(standardise(train)).reshape(-1, 40)
    np.testing.assert_allclose(scaled.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(scaled.std(0), 1, atol=1e-3)
    constant = build_model(BILSTM, n_frames=3, n_features=4, adapt_on=np.ones((2, 3, 4)))
    assert np.all(np.isfinite(constant.predict(np.ones((1, 3, 4), np.float32), verbose=0)))


@pytest.mark.parametrize(("quick", "epochs"), [(True, None), (False, None), (False, 5)])
def test_plan_caps_epochs_and_folds(quick, epochs):
    plan = Plan.resolve(7, quick=quick, epochs=epochs)
    if quick:
        assert plan.folds == [1, 2] and plan.spec(CNN_RECIPE.name).epochs == QUICK_EPOCHS == 2
    else:
        assert plan.folds == [1, 2, 3, 4, 5, 6] and plan.seed == 7
        assert plan.spec(CNN_RECIPE.name).epochs == (5 if epochs else CNN.epochs)
        assert plan.spec("bilstm").epochs == (5 if epochs else BILSTM.epochs)
    assert Plan.from_dict(plan.as_dict()) == plan


def fake_run(name: str, seed: int, model, x: np.ndarray, cache, fold: int = 1):
    """A ProtocolRun whose validation clips are ``x`` (labels cycling over the emotions), its
    fold's training saved in ``cache`` with ``model``."""
    import pandas as pd

    from ser.training.runs import PROBABILITY_COLUMNS, ProtocolRun

    probabilities = model.predict(x, verbose=0)
    frame = pd.DataFrame(probabilities, columns=PROBABILITY_COLUMNS)
    frame.insert(
        0, "clip_id", [f"03-01-0{i % 8 + 1}-01-01-01-{13 + i % 2:02d}" for i in range(len(x))]
    )
    frame.insert(1, "fold", fold)
    frame.insert(2, "emotion", [EMOTION_NAMES[i % 8] for i in range(len(x))])
    frame.insert(3, "predicted", [EMOTION_NAMES[i] for i in probabilities.argmax(axis=1)])
    key = f"{name}-{seed}"
    training = cache.save(
        key, {}, test=frame, validation=frame, history={"loss": [1.0]}, validation_uar=0.5,
        seconds=1.0, spec_name=name, model=model,
    )  # fmt: skip
    return ProtocolRun(
        name, "speaker_independent", seed, frame, {fold: 0.5}, {fold: {}}, {fold: 1.0}, frame,
        {fold: training.record()},
    )  # fmt: skip


def test_shipping_writes_the_shipped_folds_model_with_its_calibration(tmp_path):
    import pandas as pd

    from ser.models.calibration import fit_temperature
    from ser.training.plan import CNN_RECIPE
    from ser.training.session import Session
    from ser.training.shipping import ship_cnn
    from ser.training.training_cache import TrainingCache

    plan = Plan(seed=5, folds=[1])
    index = pd.DataFrame({"actor": np.arange(1, 25), "clip_id": [f"c{i}" for i in range(24)]})
    session = Session(index, {}, plan, tmp_path / "runs", TrainingCache(tmp_path / "cache"))
    x = np.random.default_rng(3).normal(-30, 10, size=(16, 174, 64)).astype(np.float32)
    __import__("keras").utils.set_random_seed(5)
    model = build_model(CNN, n_features=64)
    output = model.predict(x, verbose=0)
    run = fake_run(CNN_RECIPE.name, 5, model, x, session.cache)
    session.runs[CNN_RECIPE.name, "speaker_independent", 5] = run
    shipped = ship_cnn(session, tmp_path / "cnn")
    written = (shipped / artifacts.MODEL_FILE).stat().st_mtime_ns
    ship_cnn(session, tmp_path / "cnn")  # the same training: nothing rewritten
    assert (shipped / artifacts.MODEL_FILE).stat().st_mtime_ns == written
    loaded, _, info = artifacts.load_model(shipped)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), output, atol=1e-6)
    assert info["model"] == CNN_RECIPE.name and info["seed"] == 6
    assert info["held_out_actors"] == [1, 11, 20, 21] and info["trainings"] == [
        f"{CNN_RECIPE.name}-5"
    ]
    # The ONNX export is the same model.
    from ser.inference.predict import Predictor

    np.testing.assert_allclose(Predictor(shipped).window_probabilities(x), output, atol=1e-5)
    # The calibration was fitted on the shipped fold's validation clips.
    targets = [EMOTION_NAMES.index(e) for e in run.validation["emotion"]]
    probabilities = run.validation[[c for c in run.validation.columns if c.startswith("p_")]]
    temperature = fit_temperature(probabilities.to_numpy(), targets)
    assert info["calibration"]["temperature"] == pytest.approx(temperature, rel=1e-6)
    assert info["calibration"]["fitted_on"] == "validation actors 13, 14 (16 clips)"


def test_channel_augment_damages_only_while_training():
    x = np.random.default_rng(4).normal(-40, 10, size=(8, 174, 64)).astype(np.float32)
    layer = ChannelAugment(noise_probability=1.0, band_limit_probability=0.0, snr_db=(0, 0), seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    noisy = np.asarray(layer(x, training=True))
    assert noisy.shape == x.shape and np.all(np.isfinite(noisy))
    # Noise at 0 dB SNR adds power: every cell gets louder, the quiet ones most.
    assert np.all(noisy >= x - 1e-3) and np.mean(noisy - x) > 1.0


def test_channel_augment_band_limit_empties_the_top_bands():
    x = np.full((16, 174, 64), -20.0, dtype=np.float32)
    layer = ChannelAugment(noise_probability=0.0, band_limit_probability=1.0, seed=2)
    limited = np.asarray(layer(x, training=True))
    top = limited[:, :, -1]  # the highest band is above every cutoff
    np.testing.assert_allclose(top, -100.0, atol=1e-3)
    np.testing.assert_allclose(limited[:, :, 20], -20.0, atol=1e-3)  # a middle band is never cut


def test_a_bank_epoch_draws_every_clip_once_in_one_of_its_versions():
    from ser.training.fitting import VersionDraws

    bank = np.stack([np.full((10, 2, 3), version, np.float32) for version in range(4)], axis=1)
    bank[:, :, 0, 0] = np.arange(10)[:, None]  # which clip
    draws = VersionDraws(bank, np.eye(10, dtype=np.float32), batch_size=4, seed=0)
    batches = [draws[i] for i in range(len(draws))]
    clips = np.concatenate([x[:, 0, 0] for x, _ in batches])
    assert sorted(clips.tolist()) == list(range(10)) and len(draws) == 3
    versions = np.concatenate([x[:, 1, 1] for x, _ in batches])
    assert set(versions.tolist()) <= {0, 1, 2, 3} and len(set(versions.tolist())) > 1
    targets = np.concatenate([y for _, y in batches])
    assert (targets.argmax(axis=1) == clips).all()  # labels follow their clips


def test_a_bank_epoch_returns_each_clips_own_sample_weight():
    from ser.training.fitting import VersionDraws

    bank = np.arange(8, dtype=np.float32).reshape(8, 1, 1, 1)  # (clips, versions, frames, bands)
    weights = np.arange(8, dtype=np.float32) / 10
    draws = VersionDraws(bank, np.eye(8, dtype=np.float32), batch_size=3, seed=1, weights=weights)
    for batch in range(len(draws)):
        x, y, w = draws[batch]
        clips = x[:, 0, 0].astype(int)
        np.testing.assert_array_equal(w, weights[clips])
        assert (y.argmax(axis=1) == clips).all()
