"""Interaction-only monomials of features: how many a degree range holds, which they are, their
labels. Light (numpy only): the plan reads the counts to say where polynomial LR cannot run.
The factorised torch basis that trains over them is ``kryptonite_n.compute.monomial_basis``.
"""

from __future__ import annotations

import itertools

import numpy as np

from kryptonite_n.io import DataError
from kryptonite_n.plan.limits import monomial_count


def check_monomials(n: int, min_degree: int, max_degree: int, max_monomials: int) -> int:
    """The monomial count, or a DataError saying why this expansion is not allowed."""
    if min_degree < 1 or min_degree > max_degree:
        raise DataError(f"polynomial LR settings: degree range {min_degree}..{max_degree} is empty or "
                        "starts below 1")
    if min_degree > n:
        raise DataError(f"polynomial LR settings: min_degree={min_degree} exceeds n={n}: no monomial")
    count = monomial_count(n, min_degree, max_degree)
    if count > max_monomials:
        raise DataError(
            f"polynomial LR settings: n={n} with degrees {min_degree}..{max_degree} gives {count} "
            f"monomials, more than max_monomials={max_monomials}; lower the degrees or drop n={n} "
            "from the model's dimensions"
        )
    return count


def enumerate_monomials(n: int, min_degree: int, max_degree: int) -> np.ndarray:
    """Incidence matrix (monomials x n, bool), in scikit-learn's PolynomialFeatures column order.

    That order is by degree, then lexicographic in the feature indices, as
    ``PolynomialFeatures(degree=(min, max), interaction_only=True, include_bias=False)``.
    """
    blocks = []
    for degree in range(min_degree, min(max_degree, n) + 1):
        members = np.array(list(itertools.combinations(range(n), degree)), dtype=np.int64).reshape(-1, degree)
        block = np.zeros((len(members), n), dtype=bool)
        block[np.arange(len(members))[:, None], members] = True
        blocks.append(block)
    return np.concatenate(blocks) if blocks else np.zeros((0, n), dtype=bool)


def monomial_label(features: np.ndarray | list[int]) -> str:
    """A monomial as space-separated 0-based feature indices, e.g. '0 3 5'."""
    return " ".join(str(int(i)) for i in features)


def monomial_features(X: np.ndarray, incidence: np.ndarray) -> np.ndarray:
    """The expanded matrix itself, product by product: only for small batches and checks."""
    X = np.asarray(X, dtype=np.float64)
    columns = [X[:, row].prod(axis=1) for row in np.asarray(incidence, dtype=bool)]
    return np.stack(columns, axis=1) if columns else np.zeros((len(X), 0))
