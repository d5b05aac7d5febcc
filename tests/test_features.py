import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ser.features.cache import cache_key, load_features
from ser.features.extraction import FeatureParams, clip_features, mfcc_matrix

from .conftest import tone


def test_window_is_174_frames_of_40_mfccs():
    params = FeatureParams()
    assert params.n_samples == 173 * 512
    assert params.window_seconds == pytest.approx(4.04, abs=0.005)
    for seconds in (0.6, 4.0, 4.5, 7.0):
        matrix = mfcc_matrix(tone(seconds), params)
        assert matrix.shape == (174, 40) and matrix.dtype == np.float32


def one_kind(index, params, **options):
    """One parameter set's features through the cache."""
    return load_features(index, [params], **options)[params.kind]


def test_padding_is_silence_at_the_end():
    short = mfcc_matrix(tone(1.0))
    # frames well past the clip's end see only zeros: all of them are identical
    tail = short[-50:]
    assert np.allclose(tail, tail[0]) and not np.allclose(short[:10], tail[0])
    # a clip longer than the window gives the same features as its first 4.02 s
    long = tone(6.0)
    np.testing.assert_array_equal(mfcc_matrix(long), mfcc_matrix(long[: FeatureParams().n_samples]))


def test_custom_parameters_change_the_shape():
    params = FeatureParams(n_mfcc=13, n_frames=50)
    assert mfcc_matrix(tone(2.0), params).shape == (50, 13)


@pytest.fixture
def tiny_index(tmp_path):
    rows = []
    for i, freq in enumerate((180.0, 240.0, 320.0)):
        path = tmp_path / "clips" / f"Actor_0{i + 1}" / f"03-01-01-01-01-01-0{i + 1}.wav"
        path.parent.mkdir(parents=True)
        sf.write(path, tone(1.5, 16_000, freq=freq), 16_000)
        rows.append({"path": str(path), "clip_id": path.stem})
    return pd.DataFrame(rows)


def test_cache_hit_and_invalidation(tiny_index, tmp_path):
    cache = tmp_path / "features"
    first = one_kind(tiny_index, FeatureParams(), cache_dir=cache, workers=1, progress=False)
    assert not first.from_cache and first.features.shape == (3, 174, 40)
    second = one_kind(tiny_index, FeatureParams(), cache_dir=cache, workers=1, progress=False)
    assert second.from_cache and second.path == first.path
    np.testing.assert_array_equal(first.features, second.features)
    np.testing.assert_array_equal(first.features[1], clip_features(tiny_index.loc[1, "path"]))

    changed = one_kind(
        tiny_index, FeatureParams(n_mfcc=20), cache_dir=cache, workers=1, progress=False
    )
    assert (
        not changed.from_cache
        and changed.path != first.path
        and changed.features.shape == (3, 174, 20)
    )

    subset = one_kind(
        tiny_index.iloc[:2], FeatureParams(), cache_dir=cache, workers=1, progress=False
    )
    assert not subset.from_cache and subset.path not in (first.path, changed.path)

    sf.write(tiny_index.loc[0, "path"], tone(2.5, 16_000), 16_000)  # a clip's content changes
    rewritten = one_kind(tiny_index, FeatureParams(), cache_dir=cache, workers=1, progress=False)
    assert not rewritten.from_cache
    assert len(list(cache.glob("mfcc_*.npz"))) == 4


@pytest.mark.slow  # starts worker processes (make check stays under a minute)
def test_parallel_extraction_matches_serial(tiny_index, tmp_path):
    serial = one_kind(
        tiny_index, FeatureParams(), cache_dir=tmp_path / "a", workers=1, progress=False
    )
    parallel = one_kind(
        tiny_index, FeatureParams(), cache_dir=tmp_path / "b", workers=2, progress=False
    )
    np.testing.assert_array_equal(serial.features, parallel.features)


def test_same_size_edit_gets_a_new_cache_key(tiny_index):
    path = Path(tiny_index.loc[0, "path"])
    before = cache_key(tiny_index, FeatureParams())
    stat = path.stat()
    sf.write(path, tone(1.5, 16_000, freq=500.0), 16_000)  # same length and format: same size
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even the same modification time
    assert cache_key(tiny_index, FeatureParams()) != before


def test_a_fresh_copy_of_the_clips_keeps_the_cache_key(tiny_index, tmp_path):
    """A re-copied dataset (new modification times, same bytes) is not extracted again."""
    before = cache_key(tiny_index, FeatureParams())
    for path in map(Path, tiny_index["path"]):
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert cache_key(tiny_index, FeatureParams()) == before


def test_load_features_decodes_once_and_matches_each_kind(tiny_index, tmp_path):
    kinds = ("mfcc", "logmel")
    together = load_features(tiny_index, kinds, cache_dir=tmp_path / "a", workers=1, progress=False)
    assert [found.from_cache for found in together.values()] == [False, False]
    for kind in kinds:
        alone = one_kind(
            tiny_index, FeatureParams.of(kind), cache_dir=tmp_path / "b", workers=1, progress=False
        )
        np.testing.assert_array_equal(together[kind].features, alone.features)
    assert together["logmel"].features.shape == (3, 174, FeatureParams.of("logmel").n_mels)
    again = load_features(tiny_index, kinds, cache_dir=tmp_path / "a", workers=1, progress=False)
    assert all(found.from_cache for found in again.values())
