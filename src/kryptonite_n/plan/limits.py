"""Where a model can run, computed before anything is fitted: the size of a model's feature
expansion at n, and why an n is beyond it. The plan leaves such n out, the scaling stage
reports the sizes, the summary gives the reasons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def monomial_count(n: int, min_degree: int, max_degree: int) -> int:
    """How many interaction-only monomials of n features have a degree in [min, max]."""
    return sum(math.comb(n, d) for d in range(max(min_degree, 0), min(max_degree, n) + 1))


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


def poly_basis_size(settings: Mapping[str, Any], n: int) -> int:
    """Interaction-only monomials of degrees min_degree..max_degree over n features (the
    largest the fit may pick when the degrees come from the training rows, ``degree_range``)."""
    return int(monomial_count(n, *degree_range(settings, n)))


def _terms(settings: Mapping[str, Any], n: int) -> str:
    low, high = degree_range(settings, n)
    bound = "" if settings.get("min_degree") is not None else "at most "
    return f"sum C({n}, {low}..{high}) = {bound}{monomial_count(n, low, high):,} interaction terms per row"


def poly_beyond_limits(settings: Mapping[str, Any], n: int) -> str | None:
    """The expansion at n is past ``max_monomials``: the model cannot run there."""
    limit = settings.get("max_monomials")
    if limit is not None and poly_basis_size(settings, n) > int(limit):
        return f"not run: monomial count explodes, {_terms(settings, n)} (max_monomials {int(limit):,})"
    return None


def poly_explain_skip(settings: Mapping[str, Any], n: int) -> str | None:
    """Say so when the expansion at n is what keeps the model from running."""
    return poly_beyond_limits(settings, n) or (
        f"not run: n={n} is outside models.poly_logreg.dimensions ({_terms(settings, n)})")
