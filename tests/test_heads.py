"""Heads on pooled encoder states: class order, enrolment centres, and the Keras copy."""

from __future__ import annotations

import numpy as np
import pytest

from ser.models.heads import enrolment_centres, fit_head, speaker_centred


def _data(n_classes: int, n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.array([f"c{i % n_classes}" for i in range(n)])
    shift = np.array([int(label[1:]) for label in labels], float)[:, None, None]
    return (rng.normal(size=(n, 5, 8)) + shift).astype(np.float32), labels


def test_probability_columns_follow_the_given_class_order():
    states, labels = _data(3)
    head = fit_head("linear_all", states, labels, classes=["c2", "c0", "c1"])
    assert head.classes == ["c2", "c0", "c1"]
    assert (head.predict(states) == labels).mean() > 0.9
    with pytest.raises(ValueError, match=r"labels \['c2'\] are not among"):
        fit_head("linear_all", states, labels, classes=["c0", "c1"])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_keras_copy_of_a_linear_head_gives_the_same_probabilities(n_classes):
    from ser.inference.encoder_model import head_as_keras

    states, labels = _data(n_classes)
    for name in ("linear_all", "linear_layer3"):
        head = fit_head(name, states, labels)
        keras_head = head_as_keras(head, n_states=5, width=4)
        np.testing.assert_allclose(
            np.asarray(keras_head(states)), head.predict_proba(states), atol=1e-5
        )


def test_enrolment_never_uses_the_clip_judged():
    states = np.arange(6, dtype=np.float32).reshape(6, 1, 1)
    speakers = np.array(["a", "a", "a", "b", "b", "b"])
    rng = np.random.default_rng(0)
    centres = enrolment_centres(states, speakers, k=None, rng=rng)
    np.testing.assert_allclose(centres[:, 0, 0], [1.5, 1.0, 0.5, 4.5, 4.0, 3.5])
    one = enrolment_centres(states, speakers, k=1, rng=rng)[:, 0, 0]
    assert all(v != i and (v < 3) == (i < 3) for i, v in enumerate(one))
    neutral_only = enrolment_centres(states, speakers, k=None, rng=rng,
                                     enrol_mask=np.array([1, 1, 0, 1, 1, 0], bool))  # fmt: skip
    np.testing.assert_allclose(neutral_only[:, 0, 0], [1, 0, 0.5, 4, 3, 3.5])
    with pytest.raises(ValueError, match="its speaker 'a' has no other enrolment clip"):
        enrolment_centres(states, speakers, k=None, rng=rng, enrol_mask=np.arange(6) == 0)
    np.testing.assert_allclose(speaker_centred(states, speakers)[:, 0, 0], [-1, 0, 1, -1, 0, 1])
