"""How much labelled data a user's own model needs: UA on a held-out speaker against the
number of clips per label, alone and with a base corpus (``--base``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ser.data.own_corpus import Corpus
from ser.scoring import unweighted_accuracy
from ser.training.own_data import Base, fit_with_base

BUDGETS = (5, 10, 20, 50, None)  # clips per label; None: every clip
ALONE, WITH_BASE = "alone", "with --base"


def learning_curve(
    states: np.ndarray, corpus: Corpus, base: Base | None, *, budgets=BUDGETS,
    head: str = "linear_all", seed: int = 42,
) -> pd.DataFrame:  # fmt: skip
    """UA on each held-out speaker when training on the others' first ``budget`` clips per
    label (a seeded draw), mean over the speakers held out in turn; one row per budget,
    columns alone and (with ``base``) with the base corpus."""
    if not corpus.has_speakers or corpus.clips["speaker"].nunique() < 2:
        raise ValueError("a learning curve by held-out speaker needs two speakers or more")
    labels, rng = corpus.labels, np.random.default_rng(seed)
    truth = corpus.clips["label"].to_numpy()
    speakers = corpus.clips["speaker"].to_numpy()
    rows = []
    for budget in budgets:
        scores = {ALONE: [], WITH_BASE: []}
        for speaker in sorted(set(speakers)):
            train, test = np.flatnonzero(speakers != speaker), np.flatnonzero(speakers == speaker)
            if budget is not None:
                train = np.concatenate([
                    rng.choice(pool, min(budget, pool.size), replace=False)
                    for pool in (train[truth[train] == label] for label in labels)
                ])  # fmt: skip
            for name, with_base in ((ALONE, None), (WITH_BASE, base)):
                if name == WITH_BASE and base is None:
                    continue
                fitted = fit_with_base(head, states[train], truth[train], labels, with_base,
                                       seed=seed)  # fmt: skip
                scores[name].append(unweighted_accuracy(truth[test], fitted.predict(states[test])))
        rows.append({"clips per label": "all" if budget is None else budget,
                     **{k: float(np.mean(v)) for k, v in scores.items() if v}})  # fmt: skip
    return pd.DataFrame(rows).set_index("clips per label")
