"""Robustness: the shipped model on its held-out actors, clean and under real-world damage.

Every condition goes through the predictor (:mod:`ser.inference.predict`), the same path
as the demo and the CLI, so long recordings are windowed and re-encoded files
are decoded exactly as an upload would be. Each perturbation is seeded.

- ``gain -20 dB``: the whole recording 10 times quieter.
- ``clipping``: hard clipping at a quarter of the clip's peak (12 dB overdrive).
- ``telephone``: resampled to 8 kHz and band-passed to 300-3400 Hz; the predictor
  resamples it back, as it would a phone recording.
- ``white noise`` and ``babble`` at 20 and 10 dB SNR: Gaussian noise, or the sum of
  six clips of other actors (the shipped model's training actors), scaled to the
  SNR against the speech power (the clip's non-silent parts).
- ``MP3 24 kbps`` and ``OGG Vorbis``: encoded by libsndfile at its lowest quality
  and decoded again.
- ``silence padding``: 2 s of digital silence before and after.
- ``20 s, five clips``: five clips of one actor and one emotion in a row (the
  clip and the next four of its group, cyclically): one label from the windows'
  average.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from ser.data.audio import load_audio
from ser.scoring import unweighted_accuracy

BABBLE_TALKERS = 6
PADDING_SECONDS = 2.0
CONCATENATED_CLIPS = 5
TELEPHONE_RATE = 8_000
TELEPHONE_BAND = (300.0, 3400.0)
CLIP_FRACTION = 0.25


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    apply: Callable  # (samples, rate, context) -> (samples_or_bytes, rate or None)


def speech_power(samples: np.ndarray, top_db: float = 40.0) -> float:
    """Mean power of the non-silent parts (librosa's split at ``top_db`` below the peak)."""
    import librosa

    intervals = librosa.effects.split(samples, top_db=top_db)
    speech = np.concatenate([samples[a:b] for a, b in intervals]) if len(intervals) else samples
    return float(np.mean(np.square(speech, dtype=np.float64)))


def add_at_snr(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``samples + noise`` with the noise scaled to ``snr_db`` below the speech power."""
    noise = noise[: samples.size]
    scale = np.sqrt(speech_power(samples) / 10 ** (snr_db / 10) / np.mean(np.square(noise)))
    return (samples + scale * noise).astype(np.float32)


def babble(pool: list[np.ndarray], n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """The sum of ``BABBLE_TALKERS`` clips from ``pool``, each at unit power, looped to length."""
    total = np.zeros(n_samples, dtype=np.float64)
    for i in rng.choice(len(pool), size=BABBLE_TALKERS, replace=False):
        talker = pool[i] / np.sqrt(np.mean(np.square(pool[i], dtype=np.float64)))
        total += np.resize(talker, n_samples)
    return total


def encoded(samples: np.ndarray, rate: int, **format_options) -> bytes:
    """The recording encoded in memory by libsndfile (what an upload of that file holds)."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, **format_options)
    return buffer.getvalue()


def telephone(samples: np.ndarray, rate: int) -> np.ndarray:
    """8 kHz, 300-3400 Hz: a narrow-band phone line."""
    import soxr
    from scipy.signal import butter, sosfilt

    narrow = soxr.resample(samples, rate, TELEPHONE_RATE, quality="HQ")
    sos = butter(6, TELEPHONE_BAND, btype="bandpass", fs=TELEPHONE_RATE, output="sos")
    return sosfilt(sos, narrow).astype(np.float32)


def conditions() -> list[Condition]:
    """The conditions in table order, each a function of (samples, rate, context)."""
    pad = lambda x, r: np.pad(x, int(PADDING_SECONDS * r))  # noqa: E731
    peak_clip = lambda x: np.clip(x, *(np.array([-1, 1]) * CLIP_FRACTION * np.abs(x).max()))  # noqa: E731
    listing = [
        Condition("clean", "as recorded", lambda x, r, c: (x, r)),
        Condition("gain -20 dB", "10 times quieter", lambda x, r, c: (x * 0.1, r)),
        Condition("clipping", "hard clipped at 1/4 of the peak", lambda x, r, c: (peak_clip(x), r)),
        Condition("telephone", "8 kHz, 300-3400 Hz", lambda x, r, c: (telephone(x, r), TELEPHONE_RATE)),
    ]  # fmt: skip
    for snr in (20, 10):
        listing += [
            Condition(f"white noise {snr} dB", f"Gaussian noise at {snr} dB SNR",
                      lambda x, r, c, s=snr: (add_at_snr(x, c["rng"].normal(size=x.size), s), r)),
            Condition(f"babble {snr} dB", f"{BABBLE_TALKERS} other talkers at {snr} dB SNR",
                      lambda x, r, c, s=snr: (add_at_snr(x, babble(c["pool"], x.size, c["rng"]), s), r)),
        ]  # fmt: skip
    listing += [
        Condition("MP3 24 kbps", "MPEG layer III, constant 24 kbit/s",
                  lambda x, r, c: (encoded(x, r, format="MP3", subtype="MPEG_LAYER_III",
                                           compression_level=0.9, bitrate_mode="CONSTANT"), None)),
        Condition("OGG Vorbis", "Vorbis at libsndfile's lowest quality (about 40 kbit/s)",
                  lambda x, r, c: (encoded(x, r, format="OGG", subtype="VORBIS",
                                           compression_level=1.0), None)),
        Condition("silence padding", f"{PADDING_SECONDS:g} s of silence before and after",
                  lambda x, r, c: (pad(x, r), r)),
        Condition("20 s, five clips", f"{CONCATENATED_CLIPS} clips of one emotion in a row",
                  lambda x, r, c: (np.concatenate(c["group"]), r)),
    ]  # fmt: skip
    return listing


@dataclass
class DamagedClips:
    """Every clip of some actors under every condition, as the predictor's feature windows.

    The damage and the features do not depend on the model, so they are computed once
    (:func:`damage_clips`) and any number of models is scored on them (:func:`score`).
    """

    rows: pd.DataFrame  # condition, clip_id, emotion: one row per damaged clip
    windows: list[np.ndarray]  # the row's analysis windows, (windows, frames, features)
    descriptions: dict[str, str]  # condition -> what it does


def damage_clips(
    predictor, index: pd.DataFrame, actors: list[int], pool_actors: list[int], *, seed: int,
    progress: bool = True, workers: int | None = None,
) -> DamagedClips:  # fmt: skip
    """Damage ``actors``' clips under every condition and compute their feature windows
    through the predictor's loading, resampling and windowing (the upload path).

    ``pool_actors`` provide the babble talkers. Each clip's damage draws from its own
    generator, seeded with ``seed`` and the clip's position, so the result does not
    depend on how the clips are shared among the ``workers`` processes (default: one
    per core).
    """
    from ser.features.extraction import map_in_processes

    clips = index[index["actor"].isin(actors)].sort_values("clip_id").reset_index(drop=True)
    pool_rows = index[index["actor"].isin(pool_actors)]
    pool_paths = [
        str(p) for p in pool_rows.sample(min(60, len(pool_rows)), random_state=seed)["path"]
    ]
    paths = dict(zip(clips["clip_id"], clips["path"].astype(str), strict=True))
    groups = {key: sorted(group["clip_id"]) for key, group in clips.groupby(["actor", "emotion"])}
    jobs = []
    for number, clip in enumerate(clips.itertuples()):
        group = groups[(clip.actor, clip.emotion)]
        start = group.index(clip.clip_id)
        members = [paths[group[(start + k) % len(group)]] for k in range(CONCATENATED_CLIPS)]
        jobs.append((number, clip.clip_id, clip.emotion, members))
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    front = predictor.front  # an encoder model's front end (level, window); None for the CNN
    chunks = [(predictor.params, front, jobs[i::workers], pool_paths, seed) for i in range(workers)]
    parts = list(map_in_processes(_damage_chunk, chunks, workers))
    listing = conditions()
    order = {c.name: i for i, c in enumerate(listing)}
    found = sorted(
        (item for part in parts for item in part),
        key=lambda item: (order[item[0]["condition"]], item[0]["clip_id"]),
    )  # fmt: skip
    if progress:
        print(f"damaged {len(clips)} clips under {len(listing)} conditions")
    return DamagedClips(
        pd.DataFrame([row for row, _ in found]), [windows for _, windows in found],
        {c.name: c.description for c in listing},
    )  # fmt: skip


def _damage_chunk(args) -> list[tuple[dict, np.ndarray]]:
    """Some clips under every condition, as (row, windows): the work of one process."""
    from ser.inference.predict import ModelPredictor

    params, front, jobs, pool_paths, seed = args
    loader = ModelPredictor(None, params, front=front)  # its loading and windowing, no model
    rate = params.sample_rate
    pool = [load_audio(path, rate) for path in pool_paths]
    audio = {}
    found = []
    listing = conditions()
    for number, clip_id, emotion, members in jobs:
        for path in members:
            if path not in audio:
                audio[path] = load_audio(path, rate)
        rng = np.random.default_rng([seed, number])
        context = {"rng": rng, "pool": pool, "group": [audio[m] for m in members]}
        for condition in listing:
            source, source_rate = condition.apply(audio[members[0]], rate, context)
            samples = loader.load(source, source_rate) if source_rate else loader.load(source)
            found.append(({"condition": condition.name, "clip_id": clip_id, "emotion": emotion},
                          loader.features(samples)))  # fmt: skip
    return found


def score(predictor, damaged: DamagedClips) -> tuple[pd.DataFrame, pd.DataFrame]:
    """UA and accuracy of ``predictor`` per condition of ``damaged``, with the drop from clean.

    One batched forward pass over every window; each clip's windows are then averaged and
    calibrated exactly as :meth:`ser.inference.predict.Predictor.predict` does. Returns the table and
    every clip's prediction per condition (long format).
    """
    counts = [len(w) for w in damaged.windows]
    raw = predictor.window_probabilities(np.concatenate(damaged.windows))
    bounds = np.cumsum([0, *counts])
    answers = [predictor.answer(raw[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    predictions = damaged.rows.copy()
    predictions["predicted"] = [answer.emotion for answer in answers]
    predictions["confidence"] = [answer.confidence for answer in answers]
    predictions["windows"] = counts
    table = []
    for name, description in damaged.descriptions.items():
        part = predictions[predictions["condition"] == name]
        table.append({"condition": name, "what": description,
                      "clips": len(part), "UA": unweighted_accuracy(part["emotion"], part["predicted"]),
                      "accuracy": float(np.mean(part["emotion"] == part["predicted"])),
                      "mean confidence": float(part["confidence"].mean())})  # fmt: skip
    table = pd.DataFrame(table).set_index("condition")
    table["UA drop"] = table.loc["clean", "UA"] - table["UA"]
    return table, predictions


def robustness_table(
    predictor, index: pd.DataFrame, actors: list[int], pool_actors: list[int], *, seed: int,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """:func:`damage_clips` then :func:`score`, for one model."""
    damaged = damage_clips(predictor, index, actors, pool_actors, seed=seed, progress=progress)
    return score(predictor, damaged)


def held_out_robustness(index: pd.DataFrame, model_dir: Path, seed: int) -> pd.Series:
    """UA per condition (clean first) of the model in ``model_dir`` on its held-out actors,
    through the predictor the demo and the command line use (ONNX)."""
    from ser.inference.predict import Predictor
    from ser.training.fitting import progress

    predictor = Predictor(model_dir)
    held_out = predictor.metadata["held_out_actors"]
    trained_on = predictor.metadata["trained_on_actors"]
    progress(f"robustness of {predictor.metadata['model']} on held-out actors {held_out}")
    damaged = damage_clips(predictor, index, held_out, trained_on, seed=seed, progress=False)
    table, _ = score(predictor, damaged)
    return table["UA"]
