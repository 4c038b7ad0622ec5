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


def basis_size(settings: Mapping[str, Any], n: int) -> int:
    """Interaction-only monomials of degrees min_degree..max_degree over n features."""
    from kryptonite_n.monomials import monomial_count

    return int(monomial_count(n, int(settings["min_degree"]), int(settings["max_degree"])))


def explain_skip(settings: Mapping[str, Any], n: int) -> str | None:
    """Say so when the expansion at n is what keeps the model from running."""
    from kryptonite_n.monomials import monomial_count

    low, high = int(settings["min_degree"]), int(settings["max_degree"])
    count = monomial_count(n, low, high)
    terms = f"sum C({n}, {low}..{high}) = {count:,} interaction terms per row"
    limit = settings.get("max_monomials")
    if limit is not None and count > int(limit):
        return f"not run: monomial count explodes, {terms} (max_monomials {int(limit):,})"
    return f"not run: n={n} is outside models.poly_logreg.dimensions ({terms})"


SPEC = ModelSpec(
    name="poly_logreg",
    label="Polynomial LR",
    description="interaction-only polynomial features, logistic regression trained by SGD",
    decision="differentiable",
    feature_set_key="top_monomial",
    tables=("coefficients",),
    # The full run's peak: 504 MB and 32 s at n = 18.
    resources=Resources(mem_mb=800, runtime_min=5),
    imports=("kryptonite_n.monomials", "kryptonite_n.polynomial"),
    explain_skip=explain_skip,
    basis_size=basis_size,
)


def fit(task: FitTask) -> list[PolyLogregPredictor]:
    from kryptonite_n.polynomial import fit as train

    return train(task)


def load(arrays: dict[str, np.ndarray]) -> PolyLogregPredictor:
    from kryptonite_n.polynomial import load as load_predictor

    return load_predictor(arrays)
