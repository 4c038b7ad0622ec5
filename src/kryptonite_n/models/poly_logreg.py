"""Polynomial-basis logistic regression: interaction-only monomials of the standardised
features, L1 or L2 penalty, trained by minibatch SGD (implementation: ``kryptonite_n.polynomial``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from kryptonite_n.models.spec import FitTask, ModelSpec, Resources

if TYPE_CHECKING:
    from kryptonite_n.polynomial import PolyLogregPredictor


def degree_range(settings: Mapping[str, Any], n: int) -> tuple[int, int]:
    """The configured degree range, or, when the degrees are left to the training rows (null),
    the widest expansion that rule can pick at n: a window of ``SUPPORT_WINDOW`` degrees
    around n/2, where C(n, k) peaks (the plan's bound; the fit picks the window around the
    parity size found on its training rows, ``polynomial.support_degrees``)."""
    if settings.get("min_degree") is not None and settings.get("max_degree") is not None:
        return int(settings["min_degree"]), int(settings["max_degree"])
    centre = n // 2
    return max(1, centre - SUPPORT_WINDOW), min(n, centre + SUPPORT_WINDOW)


#: Degrees on each side of the parity size found on the training rows, when the degrees are
#: taken from them (n = 9: 5..7 around 6, as the paper chose knowing the size).
SUPPORT_WINDOW = 1


def basis_size(settings: Mapping[str, Any], n: int) -> int:
    """Interaction-only monomials of degrees min_degree..max_degree over n features (the
    largest the fit may pick when the degrees come from the training rows, ``degree_range``)."""
    from kryptonite_n.monomials import monomial_count

    return int(monomial_count(n, *degree_range(settings, n)))


def _terms(settings: Mapping[str, Any], n: int) -> str:
    from kryptonite_n.monomials import monomial_count

    low, high = degree_range(settings, n)
    bound = "" if settings.get("min_degree") is not None else "at most "
    return f"sum C({n}, {low}..{high}) = {bound}{monomial_count(n, low, high):,} interaction terms per row"


def beyond_limits(settings: Mapping[str, Any], n: int) -> str | None:
    """The expansion at n is past ``max_monomials``: the model cannot run there."""
    limit = settings.get("max_monomials")
    if limit is not None and basis_size(settings, n) > int(limit):
        return f"not run: monomial count explodes, {_terms(settings, n)} (max_monomials {int(limit):,})"
    return None


def explain_skip(settings: Mapping[str, Any], n: int) -> str | None:
    """Say so when the expansion at n is what keeps the model from running."""
    return beyond_limits(settings, n) or (
        f"not run: n={n} is outside models.poly_logreg.dimensions ({_terms(settings, n)})")


SPEC = ModelSpec(
    name="poly_logreg",
    label="Polynomial LR",
    description="interaction-only polynomial features, logistic regression trained by SGD",
    decision="differentiable",
    feature_set_key="top_monomial",
    tables=("coefficients",),
    # The full run's peak: 504 MB and 32 s at n = 18.
    resources=Resources(mem_mb=800, runtime_min=5),
    # explore and gf2 find the degree range of an n without its own row.
    imports=("kryptonite_n.monomials", "kryptonite_n.monomial_basis", "kryptonite_n.polynomial",
             "kryptonite_n.explore", "kryptonite_n.gf2"),
    explain_skip=explain_skip,
    beyond_limits=beyond_limits,
    basis_size=basis_size,
    # The degrees follow the parity's size: an n without its own row takes them from its
    # training rows (polynomial.support_degrees), not from another n's.
    own_n_settings=("min_degree", "max_degree"),
)


def fit(task: FitTask) -> list[PolyLogregPredictor]:
    from kryptonite_n.polynomial import fit as train

    return train(task)


def load(arrays: dict[str, np.ndarray]) -> PolyLogregPredictor:
    from kryptonite_n.polynomial import load as load_predictor

    return load_predictor(arrays)
