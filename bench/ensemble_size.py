"""How many seeds to average, judged on validation clips only (issue 15: ensembles sized
by validation).

    .venv/bin/python bench/ensemble_size.py [--runs models/runs]

Reads the validation predictions notebook 03 saved for every seed of the chosen recipe
(speaker-independent folds) and of the random split's model, and prints the validation
UA of the average of every subset of k seeds (mean over folds for the speaker-independent
protocol), for each k. Test clips are not read. No training: it runs in seconds.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from ser.config import RUNS_DIR
from ser.models.artifacts import read_record
from ser.scoring import ua_per_fold
from ser.training.runs import average_runs, load_run


def subset_scores(runs_dir: Path, spec: str, protocol: str) -> dict[int, list[float]]:
    """For each k, the validation UA of the seed average of every k-subset of the seeds."""
    seeds = sorted(int(p.name.split("_")[1]) for p in (runs_dir / spec / protocol).glob("seed_*"))
    runs = {seed: load_run(runs_dir, spec, protocol, seed) for seed in seeds}
    scores: dict[int, list[float]] = {}
    for k in range(1, len(seeds) + 1):
        for subset in itertools.combinations(seeds, k):
            averaged = average_runs([runs[s] for s in subset], part="validation")
            scores.setdefault(k, []).append(float(np.mean(list(ua_per_fold(averaged).values()))))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=RUNS_DIR)
    args = parser.parse_args()
    selection = read_record(args.runs, "selection.json")
    for spec, protocol in ((selection["recipe"], "speaker_independent"),
                           (selection["random_recipe"], "random")):  # fmt: skip
        print(f"{spec} ({protocol}): validation UA of the average of k seeds")
        for k, values in subset_scores(args.runs, spec, protocol).items():
            print(f"  k={k}: mean {np.mean(values):.3f} over {len(values)} subsets "
                  f"({', '.join(f'{v:.3f}' for v in values)})")  # fmt: skip


if __name__ == "__main__":
    main()
