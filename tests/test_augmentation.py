"""The waveform bank: versions that change the channel, not the speech, computed once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import soundfile as sf

from ser.config import SAMPLE_RATE
from ser.features import waveform_bank
from ser.features.extraction import FeatureParams, feature_matrix
from ser.features.waveform_bank import load_bank, waveform_version

from .conftest import tone


def test_a_version_keeps_length_and_pitch_and_changes_the_channel():
    clean = tone(1.0, freq=180.0)
    versions = [waveform_version(clean, SAMPLE_RATE, np.random.default_rng(i)) for i in range(6)]
    spectrum = np.abs(np.fft.rfft(clean))
    for version in versions:
        assert version.shape == clean.shape and version.dtype == np.float32
        assert np.abs(version).max() <= 1.0
        assert not np.allclose(version, clean, atol=1e-3)  # something was done to it
        # the fundamental stays where it was: no pitch shift
        low = slice(int(100 * clean.size / SAMPLE_RATE), int(400 * clean.size / SAMPLE_RATE))
        assert np.argmax(np.abs(np.fft.rfft(version))[low]) == np.argmax(spectrum[low])
    again = waveform_version(clean, SAMPLE_RATE, np.random.default_rng(0))
    np.testing.assert_array_equal(again, versions[0])  # seeded: the same version again


def test_the_bank_is_cached_and_its_first_version_is_the_clean_clip(tmp_path, monkeypatch):
    paths = []
    for i, f0 in enumerate((150.0, 220.0, 300.0)):
        path = tmp_path / f"clip{i}.wav"
        sf.write(path, tone(1.0, freq=f0), SAMPLE_RATE)
        paths.append(str(path))
    index = pd.DataFrame({"path": paths, "clip_id": [f"clip{i}" for i in range(3)]})
    params = FeatureParams.of("logmel")
    clean = np.stack([feature_matrix(tone(1.0, freq=f0), params) for f0 in (150.0, 220.0, 300.0)])
    bank = load_bank(
        index, params, clean, 2, cache_dir=tmp_path / "cache", workers=1, progress=False
    )
    assert bank.shape == (3, 3, params.n_frames, params.n_mels)
    np.testing.assert_array_equal(bank[:, 0], clean)
    assert not np.allclose(bank[:, 1], clean) and not np.allclose(bank[:, 1], bank[:, 2])
    assert len(list((tmp_path / "cache").glob("bank_logmel_*.npz"))) == 1

    def never(*args, **kwargs):
        raise AssertionError("the bank was computed again")

    monkeypatch.setattr(waveform_bank, "map_clips", never)
    cached = load_bank(index, params, clean, 2, cache_dir=tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(cached, bank)
