"""Intervals the report quotes: one home, so that the summary and the pages agree."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def mean_interval(values: Iterable[float], level: float = 0.95) -> tuple[float | None, float | None]:
    """Student-t interval of the mean of ``values`` in [0, 1] (None, None for fewer than two values).

    The repeats are few (2 to 10), so the t quantile, not the normal one: with 2 repeats the
    95 % interval is 12.7 standard errors wide on each side, as it should be.
    """
    array = np.asarray([float(v) for v in values if v is not None and not math.isnan(float(v))])
    if len(array) < 2:
        return None, None
    mean = float(array.mean())
    half = half_width(array, level)
    # Accuracies live in [0, 1]: a bound beyond it says nothing more than the bound itself.
    return max(0.0, mean - half), min(1.0, mean + half)


def half_width(values: np.ndarray, level: float = 0.95) -> float:
    """Half the width of the Student-t interval of the mean of two or more ``values`` (unclipped:
    also for differences, which may be negative)."""
    # Imported here: the workflow's planning imports this module (through scaling) on every parse.
    from scipy import stats

    count = len(values)
    return float(stats.t.ppf(0.5 + level / 2, count - 1) * np.std(values, ddof=1) / math.sqrt(count))
