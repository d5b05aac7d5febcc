"""Choices meant to generalise beyond RAVDESS, judged on validation actors and on TESS.

    RAVDESS_DIR=... TESS_DIR=... .venv/bin/python bench/explore_generalisation.py \
        --variants plain bank trim --folds 1 2

Our recipe (the spec notebook 03 shipped, from ``models/runs/selection.json``)
is trained on each fold's training actors (seed 42 + fold) as it is (``plain``)
and with each change:
- ``bank``: three waveform-augmented versions of every clip besides the clean one
  (pedalboard: reverb, band limits, a peaking EQ, gain; numpy: white, pink or
  brown noise at 5-30 dB SNR), computed once; each epoch draws one version per
  clip. Prosody (pitch, tempo) is left alone.
- ``trim``: leading and trailing silence cut (``librosa.effects.trim``, 30 dB)
  before the window, for training, validation and TESS alike.
It prints each fold's validation UA (two validation actors) and the TESS UA over
seven emotions of that fold's model (a validation signal: TESS is never
trained on). Test actors are never scored here.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from ser.audio import load_audio
from ser.config import EMOTION_NAMES, RUNS_DIR, SAMPLE_RATE
from ser.dataset import build_index
from ser.download import ensure_ravdess
from ser.experiments import read_selection
from ser.features import FeatureParams, feature_matrix, map_in_processes
from ser.plan import SPECS
from ser.scoring import unweighted_accuracy
from ser.splits import speaker_split
from ser.tess import seven_way, tess_index
from ser.training import predict_proba, train_model

VERSIONS = 3
TRIM_DB = 30


def waveform_version(samples: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    """One augmented version of a clip: room, microphone, level and noise; prosody untouched."""
    from pedalboard import Gain, HighpassFilter, LowpassFilter, PeakFilter, Pedalboard, Reverb

    effects = []
    if rng.random() < 0.5:
        wet = rng.uniform(0.1, 0.35)
        effects.append(Reverb(room_size=rng.uniform(0.1, 0.8), wet_level=wet, dry_level=1 - wet))
    if rng.random() < 0.5:
        effects += [HighpassFilter(rng.uniform(80, 400)), LowpassFilter(rng.uniform(3000, 8000))]
    if rng.random() < 0.5:
        effects.append(PeakFilter(rng.uniform(300, 3000), rng.uniform(-9, 9), rng.uniform(0.7, 2)))
    effects.append(Gain(rng.uniform(-12, 6)))
    out = Pedalboard(effects)(samples.astype(np.float32), rate)
    if rng.random() < 0.7:
        noise = rng.normal(size=out.size)
        colour = rng.integers(3)  # white, pink, brown
        if colour:
            spectrum = np.fft.rfft(noise) / np.maximum(1, np.arange(out.size // 2 + 1)) ** (
                colour / 2
            )
            noise = np.fft.irfft(spectrum, out.size)
        speech = np.mean(out**2) + 1e-12
        snr = rng.uniform(5, 30)
        out = out + noise * np.sqrt(speech / (np.mean(noise**2) + 1e-12) / 10 ** (snr / 10))
    return np.clip(out, -1, 1).astype(np.float32)


def trimmed(samples: np.ndarray) -> np.ndarray:
    import librosa

    cut, _ = librosa.effects.trim(samples, top_db=TRIM_DB)
    return cut if cut.size >= SAMPLE_RATE // 2 else samples


def clip_versions(args) -> list[np.ndarray]:
    """Features of a clip: clean (and its trimmed twin), then the bank's versions."""
    path, number, params = args
    samples = load_audio(path, SAMPLE_RATE)
    rng = np.random.default_rng([42, number])
    versions = [samples] + [waveform_version(samples, SAMPLE_RATE, rng) for _ in range(VERSIONS)]
    plain = [feature_matrix(v, params) for v in versions]
    trim = [feature_matrix(trimmed(v), params) for v in versions]
    return plain + trim


def tess_features(args) -> list[np.ndarray]:
    path, params = args
    samples = load_audio(path, SAMPLE_RATE)
    return [feature_matrix(samples, params), feature_matrix(trimmed(samples), params)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", nargs="+", default=["plain", "bank", "trim"])
    parser.add_argument("--folds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, default=None, help="cap (default: the spec's)")
    args = parser.parse_args()
    spec = SPECS[read_selection(RUNS_DIR)["recipe"]]
    if args.epochs:
        spec = spec.with_changes(spec.name, epochs=args.epochs)
    params = FeatureParams.of(spec.features)
    index = build_index(ensure_ravdess())
    labels = index["emotion_code"].to_numpy() - 1
    start = time.perf_counter()
    jobs = [(p, i, params) for i, p in enumerate(index["path"])]
    per_clip = list(map_in_processes(clip_versions, jobs, chunksize=8))
    n = VERSIONS + 1
    bank = np.stack([np.stack([c[v] for c in per_clip]) for v in range(n)]).astype(np.float32)
    bank_trim = np.stack([np.stack([c[n + v] for c in per_clip]) for v in range(n)]).astype(
        np.float32
    )
    tess = tess_index(Path(os.environ["TESS_DIR"]))
    tess_x = list(
        map_in_processes(tess_features, [(p, params) for p in tess["path"]], chunksize=16)
    )
    tess_plain = np.stack([t[0] for t in tess_x]).astype(np.float32)
    tess_trim = np.stack([t[1] for t in tess_x]).astype(np.float32)
    print(f"spec {spec.name}; features and bank in {time.perf_counter() - start:.0f} s", flush=True)
    for variant in args.variants:
        source = bank_trim if "trim" in variant else bank
        tess_in = tess_trim if "trim" in variant else tess_plain
        val, tess_ua = [], []
        for fold in args.folds:
            split = speaker_split(index, fold, args.seed)
            x_train = source[:, split.train] if "bank" in variant else source[0, split.train]
            x_val = source[0, split.validation]
            model, _ = train_model(spec, x_train, labels[split.train], x_val,
                                   labels[split.validation], seed=args.seed + fold)  # fmt: skip
            val.append(unweighted_accuracy(labels[split.validation],
                                           predict_proba(model, x_val).argmax(axis=1)))  # fmt: skip
            answers = seven_way(predict_proba(model, tess_in), list(EMOTION_NAMES))
            tess_ua.append(unweighted_accuracy(tess["emotion"], answers))
            print(f"  {variant} fold {fold}: validation UA {val[-1]:.3f}, TESS UA {tess_ua[-1]:.3f}",
                  flush=True)  # fmt: skip
        print(f"{variant}: validation UA {np.mean(val):.3f} (folds {args.folds}), "
              f"TESS UA {np.mean(tess_ua):.3f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
