"""Intervals the report quotes: one home, so that the summary and the pages agree.

The study's repeats re-split the same labelled rows: their training sets share most rows and
their test sets overlap, so the per-repeat accuracies are correlated and the plain Student-t
interval of their mean is too narrow. ``mean_interval`` with ``test_over_train`` (the ratio of
test to training rows) gives the corrected resampled t interval of Nadeau and Bengio (2003,
"Inference for the generalization error", Machine Learning 52): the sample variance over the
J repeats multiplied by (1/J + n_test/n_train) instead of 1/J, with J − 1 degrees of freedom.
With ``test_over_train = 0`` (independent repeats, e.g. the scaling stage's fresh rows) it is
the plain t interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

#: ``ci_method`` of an interval over independent repeats, and over repeats that re-split one set.
PLAIN_T = "t"
CORRECTED_T = "corrected_resampled_t"


@dataclass(frozen=True)
class MeanInterval:
    """The mean of some values and the t interval of that mean (bounds None with fewer than
    two values; mean None with none). ``half`` is the interval's half-width before any bounds."""

    mean: float | None
    low: float | None
    high: float | None
    half: float | None
    count: int


def mean_interval(values: Iterable[float], level: float = 0.95, *, test_over_train: float = 0.0,
                  bounds: tuple[float, float] | None = (0.0, 1.0)) -> MeanInterval:
    """The mean of ``values`` (None and NaN left out) and its interval, within ``bounds``.

    The repeats are few (2 to 10), so the t quantile, not the normal one: with 2 repeats the
    plain 95 % interval is 12.7 standard errors wide on each side, as it should be.
    ``test_over_train`` > 0 widens it for repeats that re-split the same rows (module docstring).
    Accuracies live in [0, 1], the default ``bounds``: a bound beyond them says nothing more
    than the bound itself. A difference of accuracies takes ``bounds=None``.
    """
    array = np.asarray([float(v) for v in values if v is not None and not math.isnan(float(v))])
    if len(array) == 0:
        return MeanInterval(None, None, None, None, 0)
    mean = float(array.mean())
    if len(array) < 2:
        return MeanInterval(mean, None, None, None, 1)
    half = half_width(array, level, test_over_train=test_over_train)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return MeanInterval(mean, low, high, half, len(array))


def half_width(values: np.ndarray, level: float = 0.95, *, test_over_train: float = 0.0) -> float:
    """Half the width of the t interval of the mean of two or more ``values`` (unclipped: also
    for differences, which may be negative); corrected for overlapping re-splits when
    ``test_over_train`` > 0."""
    # Imported here: the workflow's planning imports this module (through scaling) on every parse.
    from scipy import stats

    if test_over_train < 0:
        raise ValueError(f"test_over_train must be >= 0, got {test_over_train}")
    count = len(values)
    variance = float(np.var(values, ddof=1)) * (1 / count + test_over_train)
    return float(stats.t.ppf(0.5 + level / 2, count - 1) * math.sqrt(variance))


def resampling_ratio(split: Mapping[str, float]) -> float:
    """n_test / n_train of a ``split`` section (fractions of the same labelled rows)."""
    try:
        train, test = float(split["train"]), float(split["test"])
    except KeyError as error:
        raise ValueError(f"split needs 'train' and 'test' fractions, got {dict(split)}") from error
    if train <= 0 or test <= 0:
        raise ValueError(f"split fractions must be positive, got {dict(split)}")
    return test / train


def interval_method(test_over_train: float) -> str:
    """The ``ci_method`` name of intervals made with this ratio."""
    return CORRECTED_T if test_over_train > 0 else PLAIN_T


def hoeffding_lower(accuracy: float, rows: int, confidence: float = 0.95) -> float:
    """The accuracy that a test set of ``rows`` rows guarantees with probability ``confidence``
    (Hoeffding's inequality, one-sided): accuracy - sqrt(ln(1 / delta) / (2 rows)), delta =
    1 - confidence, at least 0. Nothing but the test set's size is assumed."""
    return max(0.0, accuracy - math.sqrt(math.log(1 / (1 - confidence)) / (2 * rows)))


def chebyshev_lower(accuracy: float, rows: int, confidence: float = 0.95) -> float:
    """The same guarantee from Chebyshev's inequality with the largest variance a 0/1 outcome
    can have (1/4): accuracy - sqrt(1 / (4 rows delta)), at least 0; looser than Hoeffding's."""
    return max(0.0, accuracy - math.sqrt(1 / (4 * rows * (1 - confidence))))


def logistic(logits: np.ndarray) -> np.ndarray:
    """The probability 1 / (1 + e^-z) of each logit z, in float64, without overflow."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(logits, dtype=np.float64)))
