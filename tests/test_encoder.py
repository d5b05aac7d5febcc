"""The Whisper encoder in Keras equals CTranslate2's own, on real clips of any length."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest

from ser.config import SAMPLES_DIR
from ser.data.audio import load_audio
from ser.features.encoder_states import FrontEnd, StateExtractor, pool_states
from ser.models.whisper_encoder import (
    EncoderError,
    build_encoder,
    load_encoder_weights,
    read_ctranslate2,
    whisper_log_mel,
)

CLIPS = sorted(SAMPLES_DIR.glob("*.flac"))


@pytest.fixture(scope="module")
def weights():
    return load_encoder_weights()


@pytest.fixture(scope="module")
def encoder(weights):
    return build_encoder(weights)


def test_sizes_are_read_from_the_weights(weights):
    assert (weights.n_mels, weights.width, weights.n_heads, weights.n_layers) == (80, 384, 6, 4)
    assert weights.max_positions == 1500 and weights.n_states == 5


@pytest.mark.parametrize("seconds", [None, 1.0])
def test_last_state_equals_ctranslate2_encode(encoder, weights, seconds):
    """A whole clip (3-4 s) and its first second: positions are sliced to the input."""
    ctranslate2 = pytest.importorskip("ctranslate2")
    reference = ctranslate2.models.Whisper(
        str(weights.folder), device="cpu", compute_type="float32"
    )
    for path in CLIPS[:2]:
        samples = load_audio(path, 16_000)
        if seconds:
            samples = samples[: int(seconds * 16_000)]
        mel = whisper_log_mel(samples)
        ours = np.asarray(encoder(mel[None])[-1])[0]
        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel.T[None]))
        theirs = np.asarray(reference.encode(view, to_cpu=True))[0]
        assert ours.shape == theirs.shape == (mel.shape[0] // 2, 384)
        assert np.abs(ours - theirs).max() < 1e-3 * np.abs(theirs).max()


def test_log_mel_has_whisper_framing():
    mel = whisper_log_mel(np.zeros(16_000 * 2 + 77, np.float32) + 0.01)
    assert mel.shape == (200, 80) and mel.dtype == np.float32
    assert (
        whisper_log_mel(np.random.default_rng(0).normal(size=16_000).astype(np.float32)).max()
        <= 2.0
    )


def test_pooled_states_are_mean_and_std_per_layer():
    states = [np.arange(12, dtype=np.float32).reshape(1, 3, 4)] * 2
    pooled = pool_states(states)
    assert pooled.shape == (2, 8)
    np.testing.assert_allclose(pooled[0, :4], [4, 5, 6, 7])
    np.testing.assert_allclose(pooled[0, 4:], np.full(4, np.std([0, 4, 8])), rtol=1e-6)


def test_extractor_front_end_trims_and_levels():
    front = FrontEnd(trim_db=30, level_dbfs=-20, window_seconds=None)
    quiet = np.concatenate([np.zeros(16_000), 0.01 * np.sin(np.arange(8000) / 5), np.zeros(16_000)])
    out = front(quiet.astype(np.float32))
    assert out.size < 16_000  # the silence is gone
    assert abs(20 * np.log10(np.sqrt(np.mean(out**2))) + 20) < 0.1
    assert FrontEnd(window_seconds=2.0)(quiet.astype(np.float32)).size == 32_000


def test_extractor_pools_every_layer(weights):
    extractor = StateExtractor()
    pooled = extractor(load_audio(CLIPS[0], 16_000))
    assert pooled.shape == (weights.n_states, 2 * weights.width)
    assert np.isfinite(pooled).all()
    # the predictor's 4 s windows, batched, give the same states as one clip at a time
    from ser.features.encoder_states import DEFAULT_FRONT, whisper_window

    windows = np.stack(
        [whisper_window(load_audio(c, 16_000), 64_000, DEFAULT_FRONT) for c in CLIPS[:3]]
    )
    batched = extractor.pooled_windows(windows, batch=2)
    single = np.stack([extractor(load_audio(c, 16_000)) for c in CLIPS[:3]])
    np.testing.assert_allclose(batched, single, atol=1e-4)


def test_not_a_whisper_folder_is_named(tmp_path):
    with pytest.raises(EncoderError, match="no model.bin"):
        load_encoder_weights(tmp_path)
    bad = tmp_path / "model.bin"
    bad.write_bytes(struct.pack("<I", 99))
    with pytest.raises(EncoderError, match="binary version 99"):
        read_ctranslate2(bad)


@pytest.mark.slow  # starts a Dask worker process that builds its own encoder
def test_states_on_a_dask_cluster_equal_the_local_ones():
    from dask.distributed import LocalCluster

    from ser.features.encoder_states import extract_states

    paths = CLIPS[:3]
    local = extract_states(paths, progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:  # fmt: skip
        remote = extract_states(paths, progress=False, scheduler=cluster.scheduler_address)
    np.testing.assert_allclose(remote, local, atol=1e-4)


def test_states_key_follows_the_clips_bytes_and_the_front_end(tmp_path):
    import shutil
    from dataclasses import replace

    from ser.features.encoder_states import DEFAULT_FRONT, states_key

    first = tmp_path / "a" / CLIPS[0].name
    first.parent.mkdir()
    shutil.copy(CLIPS[0], first)
    key = states_key([first])
    copy = tmp_path / "b" / "a" / CLIPS[0].name  # a fresh copy elsewhere: same key
    copy.parent.mkdir(parents=True)
    shutil.copy(CLIPS[0], copy)
    assert states_key([copy]) == key
    assert states_key([first], front=FrontEnd(window_seconds=4.0)) != key
    assert states_key([first], front=replace(DEFAULT_FRONT, level_dbfs=-20.0)) != key
    data = bytearray(first.read_bytes())
    data[-1] ^= 1  # one bit of the audio changed, same size
    first.write_bytes(bytes(data))
    assert states_key([first]) != key


def test_states_cache_is_listed_with_the_features(tmp_path):
    from ser.data.dataset import parse_filename
    from ser.features.cache import describe_cache
    from ser.features.encoder_states import load_encoder_states

    index = pd.DataFrame({"path": [str(p) for p in CLIPS[:2]],
                          "clip_id": [parse_filename(p)["clip_id"] for p in CLIPS[:2]]})  # fmt: skip
    first = load_encoder_states(index, cache_dir=tmp_path, progress=False)
    again = load_encoder_states(index, cache_dir=tmp_path, progress=False)
    assert not first.from_cache and again.from_cache
    np.testing.assert_array_equal(first.states, again.states)
    listed = describe_cache(tmp_path)
    assert listed["kind"].tolist() == ["whisper_states"] and listed["clips"].tolist() == [2]


def test_the_same_clips_named_otherwise_share_the_states_cache(tmp_path):
    """TESS's index and a manifest of TESS name the same files differently (stem against path
    below the folder): the states depend on the bytes alone, so the second reader hits."""
    from ser.features.encoder_states import load_encoder_states

    paths = [str(p) for p in CLIPS[:2]]
    first = load_encoder_states(pd.DataFrame({"path": paths, "clip_id": ["a", "b"]}),
                                cache_dir=tmp_path, progress=False)  # fmt: skip
    renamed = load_encoder_states(pd.DataFrame({"path": paths, "clip_id": ["x/a", "x/b"]}),
                                  cache_dir=tmp_path, progress=False)  # fmt: skip
    assert not first.from_cache and renamed.from_cache
    np.testing.assert_array_equal(first.states, renamed.states)
