"""The edges of the intervals every score is quoted with (kryptonite_n.stats), found unchecked by
mutation testing (docs/testing.md): missing values, two repeats, the level, the clip to [0, 1],
the resampling ratio's checks and the method's name."""

from __future__ import annotations

import math
import re

import pytest
from scipy import stats as scipy_stats

from kryptonite_n.stats import (
    CORRECTED_T,
    PLAIN_T,
    chebyshev_lower,
    half_width,
    hoeffding_lower,
    interval_method,
    mean_interval,
    resampling_ratio,
)


def test_missing_values_are_left_out_and_two_repeats_have_an_interval():
    interval = mean_interval([0.5, float("nan"), None, 0.7])
    low, high = interval.low, interval.high
    # Two values 0.5 and 0.7: mean 0.6, standard error 0.1, t(0.975, 1) = 12.706.
    half = scipy_stats.t.ppf(0.975, 1) * 0.1
    assert (low, high) == pytest.approx((max(0.0, 0.6 - half), min(1.0, 0.6 + half)))
    assert interval.mean == pytest.approx(0.6) and interval.count == 2
    assert interval.half == pytest.approx(half)
    for one in (mean_interval([0.5]), mean_interval([0.5, float("nan")])):
        assert (one.mean, one.low, one.high, one.half, one.count) == (0.5, None, None, None, 1)
    empty = mean_interval([])
    assert (empty.mean, empty.low, empty.high, empty.half, empty.count) == (None, None, None, None, 0)


def test_the_level_and_the_clip_to_one():
    values = [0.90, 0.92, 0.94]
    wide, narrow = mean_interval(values, 0.95), mean_interval(values, 0.5)
    assert narrow.high - narrow.low < wide.high - wide.low
    se = 0.02 / math.sqrt(3)
    assert (narrow.low, narrow.high) == pytest.approx(
        (0.92 - scipy_stats.t.ppf(0.75, 2) * se, 0.92 + scipy_stats.t.ppf(0.75, 2) * se)
    )
    assert mean_interval([0.99, 1.0, 0.8]).high == 1.0
    assert mean_interval([0.01, 0.0, 0.2]).low == 0.0
    # A difference is not an accuracy: without bounds, the interval is the t interval itself.
    difference = mean_interval([-0.02, 0.01, 0.04], bounds=None)
    assert difference.low == pytest.approx(0.01 - difference.half) and difference.low < 0


def test_the_resampling_ratio_and_its_checks():
    assert resampling_ratio({"train": 0.6, "validation": 0.2, "test": 0.2}) == pytest.approx(1 / 3)
    with pytest.raises(
        ValueError, match=re.escape("split needs 'train' and 'test' fractions, got {'train': 0.6}")
    ):
        resampling_ratio({"train": 0.6})
    for split in ({"train": 0.0, "test": 0.2}, {"train": 0.6, "test": 0.0}):
        with pytest.raises(ValueError, match="split fractions must be positive, got"):
            resampling_ratio(split)
    with pytest.raises(ValueError, match=re.escape("test_over_train must be >= 0, got -0.1")):
        half_width([0.5, 0.6], test_over_train=-0.1)
    # The corrected interval is sqrt(1 + J * ratio) times the plain one.
    plain, corrected = half_width([0.5, 0.6, 0.7]), half_width([0.5, 0.6, 0.7], test_over_train=1 / 3)
    assert corrected == pytest.approx(plain * math.sqrt(2))


def test_the_method_is_named_by_the_ratio():
    assert interval_method(0.0) == PLAIN_T and interval_method(1 / 3) == CORRECTED_T


def test_the_test_set_bounds_are_their_formulas():
    # 1000 test rows at 95 %: Hoeffding sqrt(ln 20 / 2000) = 0.0387023, Chebyshev
    # sqrt(1 / (4 * 1000 * 0.05)) = sqrt(1 / 200) = 0.0707107 (worked out by hand).
    assert hoeffding_lower(0.95, 1000) == pytest.approx(0.95 - 0.0387023, abs=1e-7)
    assert chebyshev_lower(0.95, 1000) == pytest.approx(0.95 - 0.0707107, abs=1e-7)
    # Hoeffding's is the tighter; both tighten as the test set grows, and stop at 0.
    assert chebyshev_lower(0.9, 500) < hoeffding_lower(0.9, 500) < hoeffding_lower(0.9, 5000) < 0.9
    assert hoeffding_lower(0.01, 10) == 0.0 and chebyshev_lower(0.01, 10) == 0.0
    # A 99 % guarantee is lower than a 95 % one.
    assert hoeffding_lower(0.95, 1000, confidence=0.99) < hoeffding_lower(0.95, 1000)
