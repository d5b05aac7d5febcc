"""Time the extraction of pooled Whisper encoder states for all of RAVDESS (issue 27 target:
3 min or less on 2 cores), and of TESS when ``TESS_DIR`` is set; a second call shows the
cache hit.

    RAVDESS_DIR=... [TESS_DIR=...] .venv/bin/python bench/encoder_states.py
"""

from __future__ import annotations

import argparse
import time

from ser.data.dataset import build_index
from ser.data.tess import tess_index, tess_root
from ser.features.encoder_states import load_encoder_states


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    corpora = {"RAVDESS": build_index()}
    if tess_root():
        corpora["TESS"] = tess_index(tess_root())
    for name, index in corpora.items():
        for attempt in ("first", "second"):
            start = time.perf_counter()
            states = load_encoder_states(index)
            seconds = time.perf_counter() - start
            print(f"{name} {attempt} call: {len(index)} clips, states {states.states.shape}, "
                  f"{'cache hit' if states.from_cache else 'extracted'}, {seconds:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
