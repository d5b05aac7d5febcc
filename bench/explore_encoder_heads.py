"""Heads on pooled Whisper encoder states, judged on validation actors and TESS (issue 27).

Every candidate is trained on each EmoBox fold's training actors (its two validation
actors and four test actors held out) and scored on the validation actors, and on TESS
(seven emotions; never training data). Test actors are never scored here.

    RAVDESS_DIR=... TESS_DIR=... .venv/bin/python bench/explore_encoder_heads.py [--heads ...]

Prints one row per head: mean validation UA over the six folds, its paired standard
error against the best row, and TESS UA (mean over the six fold models).

Results (2026-12-04, Whisper tiny.en, seed 42; validation UA over six folds / TESS UA).
The project's front end, now ser.features.encoder_states.DEFAULT_FRONT, is the row marked *.

| front end (flags) | linear_layer3 | linear_all | layer_mix_mlp | linear_all_speaker_norm |
|---|---|---|---|---|
| each clip's own length (`--window-seconds 0`) | 0.760 / 0.353 | 0.767 / 0.471 | 0.732 / 0.343 | 0.822 / 0.748 |
| 4 s window (default flags) | 0.764 / 0.504 | 0.772 / 0.531 | 0.732 / 0.509 | 0.822 / 0.723 |
| own length, trimmed at 40 dB, level -25 dBFS | 0.742 / 0.342 | 0.788 / 0.441 | 0.751 / 0.399 | 0.861 / 0.722 |
| 4 s, trimmed, level -25 dBFS | | 0.776 / 0.514 | | |
| 4 s, level -25 dBFS (whole clip) | | 0.777 / 0.649 | | |
| 4 s, level -20 dBFS (whole clip) | | 0.772 / 0.647 | | |
| * 4 s, speech level -25 dBFS (`--level-dbfs -25 --speech-level`) | | 0.780 / 0.646 | | 0.832 / 0.660 |
| * and at most 0.5 s of quiet around the speech (`--max-silence 0.5`) | | 0.772 / 0.601 | | |
| * and at most 1.0 s (`--max-silence 1.0`) | | 0.780 / 0.648 | | |

- One layer (own length, linear): layer 0 0.548, 1 0.665, 2 0.727, 3 0.760, 4 0.727; every
  layer 0.767 (C 0.003: 0.759, C 0.03: 0.763). With 4 s windows: layers 1-4 0.766 / 0.544,
  layers 2-3 0.763 / 0.517.
- Levelling is the one change that moves TESS: 0.531 -> 0.646 for linear_all at the same
  validation UA (+0.008, paired SE 0.008 over the six folds). Trimming silence lifts
  validation but costs TESS (0.441-0.514).
- The learned layer mix with a hidden layer (layer_mix_mlp) is 4-5 points below the
  linear head on every front end: 1,000 clips do not feed it.
- Speaker normalisation (every clip of the speaker, unlabelled) is the largest lever;
  bench/explore_enrolment.py measures it as a user would use it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ser.data.dataset import build_index
from ser.data.splits import EMOBOX_FOLDS, speaker_split
from ser.data.tess import TESS_EMOTIONS, tess_index, tess_root
from ser.features.encoder_states import WINDOW_SECONDS, FrontEnd, load_encoder_states
from ser.models.heads import HEADS, fit_head
from ser.scoring import paired_standard_error, unweighted_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", nargs="*", default=list(HEADS))
    parser.add_argument("--folds", nargs="*", type=int, default=sorted(EMOBOX_FOLDS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--trim-db", type=float, help="trim leading/trailing audio this far below the peak"
    )
    parser.add_argument("--level-dbfs", type=float, help="scale each clip to this RMS level")
    parser.add_argument(
        "--speech-level",
        action="store_true",
        help="measure the level over the clip's loudest frames (within 40 dB)",
    )
    parser.add_argument(
        "--window-seconds",
        type=float,
        default=WINDOW_SECONDS,
        help="pad or cut every clip to this length (0: each clip's own length)",
    )
    parser.add_argument("--max-silence", type=float,
                        help="keep at most this many seconds of quiet around the speech")  # fmt: skip
    args = parser.parse_args()

    index = build_index()
    front = FrontEnd(args.trim_db, args.level_dbfs, args.window_seconds or None, args.speech_level,
                     args.max_silence)  # fmt: skip
    print(front)
    states = load_encoder_states(index, front=front, progress=False).states
    labels = index["emotion"].to_numpy()
    speakers = index["actor"].to_numpy()
    tess = tess_index(tess_root()) if tess_root() else None
    tess_states = (
        load_encoder_states(tess, front=front, progress=False).states if tess is not None else None
    )

    results = {}
    for name in args.heads:
        start = time.perf_counter()
        fold_ua, tess_ua = [], []
        for fold in args.folds:
            split = speaker_split(index, fold, args.seed)
            head = fit_head(name, states[split.train], labels[split.train],
                            speakers[split.train], seed=args.seed + fold)  # fmt: skip
            predicted = head.predict(states[split.validation], speakers[split.validation])
            fold_ua.append(unweighted_accuracy(labels[split.validation], predicted))
            if tess_states is not None:
                probabilities = head.predict_proba(tess_states, tess["speaker"].to_numpy())
                columns = [head.classes.index(e) for e in TESS_EMOTIONS]
                answer = np.array(TESS_EMOTIONS)[probabilities[:, columns].argmax(1)]
                tess_ua.append(unweighted_accuracy(tess["emotion"], answer))
        results[name] = (fold_ua, tess_ua)
        print(f"{name:32s} validation UA {np.mean(fold_ua):.3f} (folds "
              f"{' '.join(f'{u:.3f}' for u in fold_ua)})  TESS {np.mean(tess_ua) if tess_ua else float('nan'):.3f}"
              f"  {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    best = max(results, key=lambda n: np.mean(results[n][0]))
    print(f"\nbest on validation: {best}")
    for name, (fold_ua, tess_ua) in results.items():
        se = paired_standard_error(results[best][0], fold_ua) if name != best else 0.0
        print(f"{name:32s} {np.mean(fold_ua):.3f}  behind {np.mean(results[best][0]) - np.mean(fold_ua):.3f}"
              f"  1 SE {se:.3f}  TESS {np.mean(tess_ua) if tess_ua else float('nan'):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
