import numpy as np
import pytest
import soundfile as sf

from ser.data.audio import AudioError, load_audio


@pytest.mark.parametrize(
    ("name", "rate", "channels", "subtype"),
    [
        ("mono.wav", 22_050, 1, "PCM_16"),
        ("mono.flac", 48_000, 1, "PCM_16"),
        ("stereo.wav", 44_100, 2, "PCM_16"),
        ("phone.wav", 8_000, 1, "PCM_16"),
        ("studio.wav", 96_000, 1, "PCM_24"),
        ("deep.flac", 96_000, 2, "PCM_24"),
        ("float.wav", 16_000, 1, "FLOAT"),
        ("double.wav", 32_000, 1, "DOUBLE"),
        ("clip.aiff", 44_100, 1, "PCM_16"),
        ("clip.ogg", 48_000, 1, "VORBIS"),
    ],
)
def test_loader_returns_mono_float32_at_target_rate(write_audio, name, rate, channels, subtype):
    path = write_audio(name, seconds=0.5, rate=rate, channels=channels, subtype=subtype)
    samples = load_audio(path, 22_050)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - 0.5 * 22_050) <= 2
    peak = float(np.max(np.abs(samples)))
    assert 0.25 < peak < 0.35, peak  # the tone's amplitude survives resampling and downmix


def test_stereo_is_averaged_not_summed(tmp_path):
    left = np.full(1000, 0.4, dtype=np.float32)
    right = np.full(1000, -0.2, dtype=np.float32)
    sf.write(tmp_path / "lr.wav", np.stack([left, right], axis=1), 22_050, subtype="FLOAT")
    samples = load_audio(tmp_path / "lr.wav", 22_050)
    assert np.allclose(samples, 0.1)


def test_bytes_and_paths_give_the_same_samples(write_audio):
    path = write_audio("x.flac", rate=48_000)
    assert np.array_equal(load_audio(path), load_audio(path.read_bytes()))


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").touch()
    with pytest.raises(AudioError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    with pytest.raises(AudioError, match="empty"):
        load_audio(b"")


def test_garbage_bytes_named_wav(tmp_path):
    path = tmp_path / "fake.wav"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError, match="not a readable audio file") as info:
        load_audio(path)
    assert "fake.wav" in str(info.value)


def test_text_file(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 50)
    with pytest.raises(AudioError, match="not a readable audio file"):
        load_audio(path)


def test_header_without_samples(tmp_path):
    sf.write(tmp_path / "none.wav", np.zeros((0,), dtype=np.float32), 22_050)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(tmp_path / "none.wav")


def test_digital_silence(tmp_path):
    sf.write(tmp_path / "silence.wav", np.zeros(22_050, dtype=np.float32), 22_050)
    with pytest.raises(AudioError, match="silent"):
        load_audio(tmp_path / "silence.wav")


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "absent.wav")


def test_real_stereo_clip_is_downmixed(ravdess_root):
    path = next((ravdess_root / "Actor_01").glob("03-01-02-01-01-02-01.*"))
    assert sf.info(path).channels == 2
    samples = load_audio(path, 22_050)
    assert samples.ndim == 1 and samples.dtype == np.float32
