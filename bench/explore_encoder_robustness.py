"""The encoder head under real-world damage, on validation actors (issue 27: robustness).

Each EmoBox fold's validation actors are damaged under every condition of
ser.evaluation.robustness (noise, babble, telephone, codecs, padding, long recordings) through the
predictor's loading and 4 s windowing; the head trained on the fold's training actors
answers for each window and a clip's answer is its windows' average, as in the predictor.
Two heads: trained on the clean clips only, and on the clean clips plus the waveform
bank's versions of them (ser.features.encoder_states.load_bank_states). Test actors are never
scored.

    RAVDESS_DIR=... .venv/bin/python bench/explore_encoder_robustness.py [--folds 1 2 ...]

Results (2026-12-04, the project's front end, head linear_all, two bank versions per
clip, seed 42; validation UA, mean over the six folds' validation actors, 1,440 clips
under each condition; bank states 172 s, each fold's damaged clips 65-71 s):

| condition | clean head | clean + bank | bank - clean |
|---|---|---|---|
| clean | 0.776 | 0.786 | +0.010 |
| gain -20 dB | 0.776 | 0.786 | +0.010 |
| clipping | 0.758 | 0.775 | +0.017 |
| telephone | 0.612 | 0.697 | +0.085 |
| white noise 20 dB | 0.534 | 0.768 | +0.234 |
| babble 20 dB | 0.634 | 0.611 | -0.023 |
| white noise 10 dB | 0.473 | 0.763 | +0.290 |
| babble 10 dB | 0.469 | 0.486 | +0.017 |
| MP3 24 kbps | 0.764 | 0.764 | 0.000 |
| OGG Vorbis | 0.754 | 0.770 | +0.016 |
| silence padding | 0.671 | 0.680 | +0.009 |
| 20 s, five clips | 0.868 | 0.870 | +0.001 |

- The bank costs nothing clean (+0.010) and removes the white-noise loss (10 dB: 0.473 ->
  0.763). Babble, other people talking, stays the hard case (10 dB: 0.486), and so does
  2 s of silence on both sides (about 10 points: the first and last 4 s windows then hold
  half silence, which no training window did).
- Adopted: the chosen configuration trains on the clean clips and two bank versions.
- `--max-silence 0.5` (at most 0.5 s of quiet kept around the speech, in training and
  prediction), with the bank: clean 0.784, silence padding 0.706 (0.680 without), white
  noise 10 dB 0.753, babble 10 dB 0.469; TESS fell from 0.646 to 0.601
  (bench/explore_encoder_heads.py). Not adopted: the padded recording's windows still cut
  the utterance in two; trimming the recording before windowing is the next thing to try.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from ser.config import EMOTION_NAMES
from ser.data.dataset import build_index
from ser.data.splits import EMOBOX_FOLDS, speaker_split
from ser.evaluation.robustness import damage_clips, score
from ser.features.encoder_states import (
    DEFAULT_FRONT,
    StateExtractor,
    load_bank_states,
    load_encoder_states,
)
from ser.features.extraction import FeatureParams
from ser.inference.predict import ModelPredictor
from ser.models.heads import fit_head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", nargs="*", type=int, default=sorted(EMOBOX_FOLDS))
    parser.add_argument("--versions", type=int, default=2, help="bank versions per clip")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-silence", type=float,
                        help="the project's front end, keeping at most this many seconds of "
                        "silence before and after the speech")  # fmt: skip
    args = parser.parse_args()
    front = replace(DEFAULT_FRONT, max_silence_seconds=args.max_silence)
    print(front)

    index = build_index()
    states = load_encoder_states(index, front=front, progress=False).states
    start = time.perf_counter()
    bank = load_bank_states(index, args.versions, front=front, progress=False)
    print(f"bank states {bank.shape} in {time.perf_counter() - start:.0f} s")
    labels = index["emotion"].to_numpy()
    params = FeatureParams.of("whisper")
    extractor = StateExtractor(front=front)
    tables = {}
    for fold in args.folds:
        split = speaker_split(index, fold, args.seed)
        validation_actors = sorted(set(index["actor"].to_numpy()[split.validation].tolist()))
        train_actors = sorted(set(index["actor"].to_numpy()[split.train].tolist()))
        start = time.perf_counter()
        loader = ModelPredictor(None, params, front=front)
        damaged = damage_clips(loader, index, validation_actors, train_actors,
                               seed=args.seed, progress=False)  # fmt: skip
        window_states = extractor.pooled_windows(np.concatenate(damaged.windows))
        print(
            f"fold {fold}: {len(damaged.rows)} damaged clips encoded in {time.perf_counter() - start:.0f} s"
        )
        train = split.train
        with_bank = np.concatenate([states[train], bank[train].reshape(-1, *states.shape[1:])])
        bank_labels = np.concatenate([labels[train], np.repeat(labels[train], args.versions)])
        heads = {
            "clean": fit_head("linear_all", states[train], labels[train], classes=EMOTION_NAMES),
            "clean + bank": fit_head("linear_all", with_bank, bank_labels, classes=EMOTION_NAMES),
        }
        for name, head in heads.items():
            model = head_on(head, window_states)
            table, _ = score(ModelPredictor(model, params, EMOTION_NAMES), damaged)
            tables.setdefault(name, []).append(table["UA"])
    rows = {name: pd.concat(parts, axis=1).mean(axis=1) for name, parts in tables.items()}
    result = pd.DataFrame(rows)
    result["bank - clean"] = result["clean + bank"] - result["clean"]
    print(f"\nvalidation UA per condition, mean over folds {args.folds}:")
    print(result.round(3).to_string())
    for name in rows:
        drop = result.loc["clean", name] - result[name]
        print(f"{name}: largest drop from clean {drop.max():.3f} ({drop.idxmax()})")


def head_on(head, window_states: np.ndarray):
    """A 'model' for ModelPredictor: ``score`` passes every window at once, in order, so the
    head answers from their precomputed states."""
    return lambda windows, training=False: head.predict_proba(window_states)


if __name__ == "__main__":
    main()
