"""The robustness conditions do what their names say."""

import io

import numpy as np
import pytest
import soundfile as sf

from ser.evaluation.robustness import (
    TELEPHONE_RATE,
    add_at_snr,
    babble,
    conditions,
    encoded,
    speech_power,
    telephone,
)

RATE = 22_050


def speech_like(seconds=3.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    voice = 0.3 * np.sin(2 * np.pi * (150 + 17 * seed) * t) * (1 + np.sin(2 * np.pi * 3 * t))
    return (voice + 0.01 * rng.normal(size=t.size)).astype(np.float32)


@pytest.mark.parametrize("snr", [20, 10])
def test_noise_is_added_at_the_snr_of_the_speech(snr):
    speech = speech_like()
    clean = np.concatenate([np.zeros(RATE, np.float32), speech])  # a second of silence first
    noise = np.random.default_rng(1).normal(size=clean.size)
    noisy = add_at_snr(clean, noise, snr)
    # against the speech's power, not the whole recording's (which the silence dilutes)
    assert speech_power(clean) == pytest.approx(
        np.mean(np.square(speech, dtype=np.float64)), rel=0.02
    )
    measured = 10 * np.log10(speech_power(clean) / np.mean(np.square(noisy - clean)))
    assert measured == pytest.approx(snr, abs=0.01)


def test_babble_is_several_talkers_at_unit_power_each():
    pool = [speech_like(2.0, seed) for seed in range(8)]
    mix = babble(pool, RATE * 3, np.random.default_rng(0))
    assert mix.shape == (RATE * 3,)
    assert 2 < np.mean(np.square(mix)) < 12  # six unit-power talkers, partly cancelling


def test_telephone_removes_everything_above_the_band():
    narrow = telephone(np.random.default_rng(2).normal(size=RATE * 2).astype(np.float32), RATE)
    spectrum = np.abs(np.fft.rfft(narrow)) ** 2
    freqs = np.fft.rfftfreq(narrow.size, 1 / TELEPHONE_RATE)
    in_band = spectrum[(freqs > 500) & (freqs < 3000)].mean()
    assert spectrum[freqs < 100].mean() < in_band / 100  # below 300 Hz: cut
    assert narrow.size == pytest.approx(2 * TELEPHONE_RATE, abs=2)


@pytest.mark.parametrize("name", ["MP3 24 kbps", "OGG Vorbis"])
def test_codecs_round_trip_through_libsndfile(name):
    condition = next(c for c in conditions() if c.name == name)
    data, rate = condition.apply(speech_like(), RATE, {})
    assert rate is None and isinstance(data, bytes)
    decoded, decoded_rate = sf.read(io.BytesIO(data))
    assert decoded_rate == RATE and abs(decoded.shape[0] - RATE * 3) < RATE * 0.2
    assert len(data) < len(encoded(speech_like(), RATE, format="WAV")) / 5


def test_every_condition_keeps_the_audio_usable():
    clip = speech_like()
    context = {"rng": np.random.default_rng(0), "pool": [speech_like(2.0, s) for s in range(8)],
               "group": [clip] * 5}  # fmt: skip
    names = [c.name for c in conditions()]
    assert names[0] == "clean" and len(names) == len(set(names)) == 12
    for condition in conditions():
        data, rate = condition.apply(clip, RATE, context)
        if rate is not None:
            assert np.all(np.isfinite(data)) and data.size > 0
    padded, _ = next(c for c in conditions() if c.name == "silence padding").apply(
        clip, RATE, context
    )
    assert padded.size == clip.size + 4 * RATE and not padded[: 2 * RATE].any()


@pytest.mark.slow  # starts worker processes (make check stays under a minute)
def test_damage_does_not_depend_on_how_many_processes_share_it(tmp_path):
    """Each clip's damage is seeded by itself: one process and two give the same windows,
    and a model is scored on them exactly as its own predictions would score it."""
    import pandas as pd

    from ser.config import EMOTION_NAMES
    from ser.evaluation.robustness import damage_clips, score
    from ser.features.extraction import FeatureParams
    from ser.inference.predict import ModelPredictor

    from .conftest import tone

    rows = []
    for i in range(16):
        path = tmp_path / f"clip{i:02d}.wav"
        sf.write(path, tone(1.0, 22_050, freq=150 + 40 * i), 22_050)
        rows.append({"clip_id": f"clip{i:02d}", "actor": i % 4 + 1, "path": path,
                     "emotion": EMOTION_NAMES[i // 4 % 2]})  # fmt: skip
    index = pd.DataFrame(rows)
    predictor = ModelPredictor(None, FeatureParams.of("logmel"))
    one = damage_clips(predictor, index, [1, 2], [3, 4], seed=3, progress=False, workers=1)
    two = damage_clips(predictor, index, [1, 2], [3, 4], seed=3, progress=False, workers=2)
    pd.testing.assert_frame_equal(one.rows, two.rows)
    assert len(one.windows) == len(conditions()) * 8
    for a, b in zip(one.windows, two.windows, strict=True):
        np.testing.assert_array_equal(a, b)
    other = damage_clips(predictor, index, [1, 2], [3, 4], seed=4, progress=False, workers=1)
    noisy = list(one.rows["condition"]).index("white noise 20 dB")
    assert not np.array_equal(one.windows[noisy], other.windows[noisy])  # the seed is used

    class Loudness(ModelPredictor):
        """A stand-in model: "angry" when the first window's mean level is high."""

        def window_probabilities(self, windows):
            loud = windows.mean(axis=(1, 2)) > -40
            p = np.full((len(windows), 8), 0.01)
            p[np.arange(len(windows)), np.where(loud, 4, 1)] = 0.93
            return p

    table, predictions = score(Loudness(None, FeatureParams.of("logmel")), one)
    assert list(table.index) == [c.name for c in conditions()]
    assert set(predictions["predicted"]) <= {"angry", "calm"}
    assert table.loc["clean", "UA drop"] == 0
