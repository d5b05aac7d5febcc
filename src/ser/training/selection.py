"""The rule of every choice in the report: the best validation score, unless a simpler
candidate is within the noise of the judge."""

from __future__ import annotations

import pandas as pd

from ser.scoring import paired_standard_error

BEHIND = "behind the best"


NOISE = "noise (1 SE)"


INGREDIENTS = "ingredients"


def with_noise(table: pd.DataFrame, paired: dict[str, list], score: str) -> pd.DataFrame:
    """``table`` (one row per candidate, ``score`` its mean) with how far each candidate
    trails the best, the standard error of their paired differences (``paired``: each
    candidate's scores on the same folds or clips). ``table`` holds each candidate's
    :data:`INGREDIENTS`."""
    best = str(table[score].idxmax())
    table = table.copy()
    table[BEHIND] = table.loc[best, score] - table[score]
    table[NOISE] = [
        paired_standard_error(paired[best], paired[name]) if name != best else 0.0
        for name in table.index
    ]
    return table


def choose(table: pd.DataFrame, score: str = "validation UA") -> str:
    """The rule of every choice: the highest ``score`` wins (the first listed wins a tie),
    unless a simpler candidate (fewer :data:`INGREDIENTS`) trails it by no more than the noise
    of the judge, one standard error of their paired differences; then the simplest such
    candidate wins (the first listed among equals)."""
    best = str(table[score].idxmax())
    simpler = table[
        (table[INGREDIENTS] < table.loc[best, INGREDIENTS]) & (table[BEHIND] <= table[NOISE])
    ]
    if simpler.empty:
        return best
    return str(simpler.sort_values(INGREDIENTS, kind="stable").index[0])
