"""The generator against the law measured on the published files, as literal numbers.

The expectations here are typed in from /work/shared/STUDY.md ("What the data is"), not taken
from the functions under test: a generator whose flip rate drifts at one n, or whose families
change shape or count, fails here even though it agrees with itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kryptonite_n.compute.data import FAMILIES, GeneratorSettings, default_flip_rate, draw_rows, generate

#: Flip rates measured on the published labelled files (n = 9..18, 2000·n rows each) and implied
#: by the response paper's XOR-oracle table (n = 24, 30, 45: its whole-set accuracy, 2000·n rows).
PUBLISHED_FLIP_RATES = {9: 0.0417, 12: 0.0358, 15: 0.0328, 18: 0.0290, 24: 0.0249, 30: 0.0236, 45: 0.0195}
#: The law the study fits to them, p(n) = 1/(8·√n), worked out by hand to four significant digits.
LAW = {9: 0.04167, 12: 0.03608, 15: 0.03227, 18: 0.02946, 24: 0.02552, 30: 0.02282, 45: 0.01863}
#: Per family: the noise's standard deviation and kurtosis measured on the published files.
NOISE = {"uniform": (0.0144, 1.8), "laplace": (0.0707, 6.0), "gaussian": (0.100, 3.0)}
STUDY_N = tuple(PUBLISHED_FLIP_RATES)


def test_the_law_fits_every_published_flip_rate_within_sampling_error():
    """The literal law against the literal measurements: each within 3 standard errors of 2000·n rows."""
    for n, measured in PUBLISHED_FLIP_RATES.items():
        se = math.sqrt(LAW[n] * (1 - LAW[n]) / (2000 * n))
        assert abs(measured - LAW[n]) < 3 * se, (n, measured, LAW[n], se)


@pytest.mark.parametrize("n", STUDY_N)
def test_the_generator_uses_the_published_flip_rate(n):
    assert default_flip_rate(n) == pytest.approx(LAW[n], abs=5e-6)
    truth = generate(n, seed=1, settings=GeneratorSettings(rows_per_feature=4, hidden_rows=4)).truth
    assert truth["flip_rate"] == pytest.approx(LAW[n], abs=5e-6)


@pytest.mark.parametrize("n", STUDY_N)
def test_a_large_draws_flip_share_is_within_one_percent_of_the_law(n):
    """Enough rows that 1 % relative is three standard errors (90 000 expected flips).

    The flips do not depend on the features' noise, so the draw uses the generator's own rate for
    n on a three-feature layout (drawing n noisy features per row would cost ten times as much);
    the next test checks the n-feature layouts' labels at the published size.
    """
    rate = generate(n, seed=1, settings=GeneratorSettings(rows_per_feature=4, hidden_rows=4)).truth[
        "flip_rate"
    ]
    rows = math.ceil(90_000 / LAW[n])
    rng = np.random.default_rng(np.random.SeedSequence([2026, n]))
    _, _, flips = draw_rows(
        rng,
        rows,
        ["uniform", "laplace", "gaussian"],
        {"uniform": 0.025, "laplace": 0.05, "gaussian": 0.1},
        np.array([1, 2]),
        rate,
    )
    assert flips.mean() == pytest.approx(LAW[n], rel=0.01)


@pytest.mark.parametrize("n", STUDY_N)
def test_published_size_draws_flip_labels_at_the_law_and_lay_out_the_families(n):
    dataset = generate(n, seed=5, settings=GeneratorSettings(hidden_rows=5000))
    truth, rows = dataset.truth, len(dataset.y)
    assert rows == 2000 * n and dataset.hidden_X.shape == (5000, n)
    # Labelled-set flips: within 4 standard errors of the law at the published row count.
    se = math.sqrt(LAW[n] * (1 - LAW[n]) / rows)
    assert abs(truth["flipped_rows"] / rows - LAW[n]) < 4 * se
    # Exactly n/3 features per family; the informative ones are the two non-uniform families.
    families = truth["families"]
    assert {family: families.count(family) for family in FAMILIES} == {f: n // 3 for f in FAMILIES}
    assert truth["informative"] == [j for j, f in enumerate(families) if f != "uniform"]
    # The label is the parity of the informative bits, flipped: where no informative value crossed
    # 0.5 (the bits are the rounded values), the labels disagree with that parity at the flip rate.
    informative = np.asarray(truth["informative"])
    bits = np.rint(dataset.X[:, informative]).astype(np.int64)
    disagree = (np.bitwise_xor.reduce(bits, axis=1) != dataset.y).mean()
    assert abs(disagree - LAW[n]) < 4 * se + 0.004  # Laplace values crossing 0.5 add about 0.1 % per feature


def test_families_are_shuffled_and_shared_by_the_hidden_set():
    layouts = [
        generate(n, seed=5, settings=GeneratorSettings(rows_per_feature=4, hidden_rows=4)).truth["families"]
        for n in STUDY_N
    ]
    assert not all(layout == sorted(layout, key=FAMILIES.index) for layout in layouts)
    dataset = generate(12, seed=5, settings=GeneratorSettings(rows_per_feature=1000, hidden_rows=12000))
    for part in (dataset.X, dataset.hidden_X):
        noise = part - np.rint(part)
        for j, family in enumerate(dataset.truth["families"]):
            std, kurtosis = NOISE[family]
            assert noise[:, j].std() == pytest.approx(std, rel=0.05), (j, family)
            assert stats.kurtosis(noise[:, j], fisher=False) == pytest.approx(kurtosis, rel=0.15), (j, family)
