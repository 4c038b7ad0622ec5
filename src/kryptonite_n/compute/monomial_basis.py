"""Interaction-only monomials of standardised features, without the expanded matrix.

A monomial is a set S of distinct features; its value on a row x is prod_{i in S} x_i. At
n = 18 with degrees 12..18 there are 31180 of them, and the expanded (rows x monomials) matrix
of a training set no longer fits a laptop. A linear model over monomials never needs it:
split the features into a left half A and a right half B. Every S is a pair (S_A, S_B) and
x^S = x^{S_A} * x^{S_B}, so with P_A (rows x left subsets) and P_B (rows x right subsets)
holding the half products and W[S_A, S_B] = w_S,

    decision = sum_S w_S x^S = rowsum((P_A @ W) * P_B),
    gradient = sum_rows r * x^S = (P_A^T @ (r * P_B))[S_A, S_B].

Two dense matrix products per batch (restricted to the blocks of W that hold monomials, about
one multiply-add per monomial and row), exact up to floating-point rounding, in memory of
rows x (|left subsets| + |right subsets|) instead of rows x monomials: at n = 18, 466 + 466
half products per row stand for 31180 monomials.
"""

from __future__ import annotations

import numpy as np
import torch

from kryptonite_n.io import DataError

#: Largest W (left subsets x right subsets) the factorisation builds, about 256 MB in float32.
MAX_FACTOR_ENTRIES = 1 << 26


class SubsetProducts:
    """Products of x over a fixed list of feature subsets, built level by level.

    A subset of size k is its prefix of size k - 1 times one more feature, so each level is
    one gather and one product over the level below: far cheaper than a product per subset.
    """

    def __init__(self, sets: list[tuple[int, ...]]) -> None:
        closure = {s[:k] for s in sets for k in range(len(s) + 1)} | {()}
        levels: list[list[tuple[int, ...]]] = [[] for _ in range(max(len(s) for s in closure) + 1)]
        for s in sorted(closure):
            levels[len(s)].append(s)
        self.parents: list[torch.Tensor] = []
        self.features: list[torch.Tensor] = []
        position = {(): 0}
        offset = 1
        for k in range(1, len(levels)):
            local = {s: j for j, s in enumerate(levels[k - 1])}
            self.parents.append(torch.tensor([local[s[:-1]] for s in levels[k]], dtype=torch.int64))
            self.features.append(torch.tensor([s[-1] for s in levels[k]], dtype=torch.int64))
            position.update({s: offset + j for j, s in enumerate(levels[k])})
            offset += len(levels[k])
        self.select = torch.tensor([position[s] for s in sets], dtype=torch.int64)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        # Subsets as rows: each gather then copies whole contiguous rows, much faster than columns.
        columns = X.T.contiguous()
        level = torch.ones(1, len(X), dtype=X.dtype)
        levels = [level]
        for parents, features in zip(self.parents, self.features, strict=True):
            level = level[parents] * columns[features]
            levels.append(level)
        return torch.cat(levels)[self.select].T.contiguous()


def _codes(incidence: np.ndarray) -> np.ndarray:
    return incidence.astype(np.int64) @ (np.int64(1) << np.arange(incidence.shape[1], dtype=np.int64))


def _sorted_sets(codes: np.ndarray, offset: int) -> list[tuple[int, ...]]:
    sets = [tuple(int(i) + offset for i in range(int(code).bit_length()) if code >> i & 1) for code in codes]
    return sorted(sets, key=lambda s: (len(s), s))


def _positions(codes: np.ndarray, sets: list[tuple[int, ...]], offset: int) -> np.ndarray:
    """Where each monomial's half subset sits in ``sets``."""
    set_codes = np.array([sum(1 << (i - offset) for i in s) for s in sets], dtype=np.int64)
    order = np.argsort(set_codes)
    return order[np.searchsorted(set_codes[order], codes)]


class MonomialBasis:
    """A set of monomials, factorised into left and right half products.

    ``incidence`` (monomials x n, bool) fixes the monomials and the order of coefficient
    vectors (``coefficients`` / ``to_matrix``). Half subsets are sorted by size, so the
    monomials whose left part has size k sit in one rectangle of W (right parts of size
    min_degree - k .. max_degree - k): products run over these blocks only, which costs about
    one multiply-add per monomial and row instead of one per entry of W.
    """

    def __init__(self, incidence: np.ndarray) -> None:
        incidence = np.asarray(incidence, dtype=bool)
        if incidence.ndim != 2 or len(incidence) == 0:
            raise ValueError(f"incidence must be a non-empty (monomials x n) matrix, got {incidence.shape}")
        self.incidence = incidence
        self.n = incidence.shape[1]
        self.split = (self.n + 1) // 2
        # Each half subset as a bit code; the few distinct codes become sorted index tuples.
        left_codes = _codes(incidence[:, :self.split])
        right_codes = _codes(incidence[:, self.split:])
        left_sets = _sorted_sets(np.unique(left_codes), 0)
        right_sets = _sorted_sets(np.unique(right_codes), self.split)
        if len(left_sets) * len(right_sets) > MAX_FACTOR_ENTRIES:
            raise DataError(
                f"polynomial LR: {len(incidence)} monomials of n={self.n} need a {len(left_sets)} x "
                f"{len(right_sets)} factor matrix, above the limit of {MAX_FACTOR_ENTRIES} entries"
            )
        rows = _positions(left_codes, left_sets, 0)
        cols = _positions(right_codes, right_sets, self.split)
        self.rows, self.cols = torch.from_numpy(rows), torch.from_numpy(cols)
        self.left_products = SubsetProducts(left_sets)
        self.right_products = SubsetProducts(right_sets)
        self.shape = (len(left_sets), len(right_sets))
        mask = torch.zeros(self.shape)
        mask[self.rows, self.cols] = 1.0
        left_size = np.array([len(s) for s in left_sets])
        #: (rows, columns, mask or None when every entry of the block is a monomial)
        self.blocks: list[tuple[slice, slice, torch.Tensor | None]] = []
        for size in np.unique(left_size):
            members = np.flatnonzero(left_size == size)
            row_range = slice(int(members[0]), int(members[-1]) + 1)
            inside = cols[(rows >= row_range.start) & (rows < row_range.stop)]
            col_range = slice(int(inside.min()), int(inside.max()) + 1)
            block_mask = mask[row_range, col_range]
            self.blocks.append((row_range, col_range, None if bool(block_mask.all()) else block_mask))

    def __len__(self) -> int:
        return len(self.incidence)

    def halves(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Left and right subset products of standardised rows (differentiable)."""
        return self.left_products(X), self.right_products(X)

    def to_matrix(self, coefficients: torch.Tensor | np.ndarray, dtype: torch.dtype = torch.float32
                  ) -> torch.Tensor:
        """The factor matrix W of a coefficient vector (zeros where no monomial sits)."""
        matrix = torch.zeros(self.shape, dtype=dtype)
        matrix[self.rows, self.cols] = torch.as_tensor(np.asarray(coefficients), dtype=dtype)
        return matrix

    def coefficients(self, matrix: torch.Tensor) -> np.ndarray:
        """The coefficient vector (in incidence order) held by a factor matrix."""
        return matrix[self.rows, self.cols].detach().cpu().numpy()

    def decision(self, left: torch.Tensor, right: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        """sum_S w_S x^S for every row, from the half products (W zero off the monomials)."""
        total = torch.zeros(len(left), dtype=left.dtype)
        for rows, cols, _mask in self.blocks:
            total = total + ((left[:, rows] @ matrix[rows, cols]) * right[:, cols]).sum(dim=1)
        return total

    def gradient(self, left: torch.Tensor, right: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """sum_rows residual * x^S as a factor matrix, zero off the monomials."""
        weighted = right * residual[:, None]
        gradient = torch.zeros(self.shape, dtype=left.dtype)
        for rows, cols, mask in self.blocks:
            block = left[:, rows].T @ weighted[:, cols]
            gradient[rows, cols] = block if mask is None else block * mask.to(block.dtype)
        return gradient
