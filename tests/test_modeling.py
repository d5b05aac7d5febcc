import json

import numpy as np

from ser.modeling import (
    LABELS_FILE,
    Standardizer,
    build_model,
    load_artifacts,
    resolve_training_plan,
    save_artifacts,
)


def test_architecture_matches_the_original():
    model = build_model()
    assert model.count_params() == 259_912
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
        "Bidirectional", "Dropout", "LSTM", "Dropout", "Dense", "Dense",
    ]  # fmt: skip


def test_standardizer_uses_training_statistics_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.normal(5, 2, size=(30, 174, 40)).astype(np.float32)
    scaler = Standardizer.fit(train)
    scaled = scaler.transform(train).reshape(-1, 40)
    np.testing.assert_allclose(scaled.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(scaled.std(0), 1, atol=1e-3)
    scaler.to_json(tmp_path / "scaler.json")
    json.loads((tmp_path / "scaler.json").read_text())  # plain JSON, no pickle
    again = Standardizer.from_json(tmp_path / "scaler.json")
    np.testing.assert_array_equal(again.mean, scaler.mean)
    constant = Standardizer.fit(np.ones((2, 3, 4), np.float32))
    assert np.all(np.isfinite(constant.transform(np.ones((1, 3, 4), np.float32))))


def test_artifacts_round_trip_with_labels(tmp_path):
    model = build_model()
    scaler = Standardizer(np.zeros(40, np.float32), np.ones(40, np.float32))
    save_artifacts(model, scaler, tmp_path, extra={"held_out_actors": [1, 11, 20, 21]})
    labels = json.loads((tmp_path / LABELS_FILE).read_text())
    assert (
        labels["index_to_emotion"]["0"] == "neutral"
        and labels["index_to_emotion"]["7"] == "surprised"
    )
    loaded, names, _ = load_artifacts(tmp_path)
    x = np.random.default_rng(1).normal(size=(2, 174, 40)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert names[4] == "angry"


def test_quick_plan_caps_epochs_and_folds():
    plan = resolve_training_plan(
        epochs=60, batch_size=64, seed=1, patience=10, protocols=["random"], quick=True
    )
    assert plan["epochs"] == 3 and plan["folds"] == [1, 2]
    full = resolve_training_plan(
        epochs=60, batch_size=64, seed=1, patience=10, protocols=["random"], quick=False
    )
    assert full["epochs"] == 60 and full["folds"] == [1, 2, 3, 4, 5, 6]
