"""Learning parity with noise over GF(2): thresholded bits and labels in, the parity out.

Thresholding every feature between its two levels recovers its bit, and the label is the
parity of some bits plus a constant, with a few labels flipped: learning parity with noise. A
random subset of ``n + 1 + extra_rows`` rows is free of flips with probability
(1 - p)^(n + 1 + extra_rows), about 0.4 for n = 45 at the published rate, and then Gaussian
elimination over GF(2) returns the true parity. So solving many random subsets and keeping the
solution that agrees best with all given labels finds the informative set with no hint from the
noise shapes: a wrong solution agrees with about half the labels, the true one with 1 - p.

How many subsets to solve follows from the data (``search_parity``): the rows, n, and the
observed disagreement of the best solution so far, never the generator's flip rate.

Used by the GF(2) parity model (``models.parity_gf2``), the cross-fitted reference on published
data (``bayes``), polynomial LR's degree range (``polynomial``) and the Data page's slice.
"""

from __future__ import annotations

import math
import sys
from statistics import NormalDist
from typing import Any

import numpy as np


def solve_gf2_batch(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve many systems A[s] @ w = b[s] over GF(2) at once, by Gauss-Jordan elimination.

    A is (systems, rows, unknowns) of 0/1, b is (systems, rows). Returns the solutions
    (systems, unknowns), free unknowns set to 0, and whether each system is consistent (the
    solution of an inconsistent one is meaningless). Every step is one vectorised operation
    over all systems, each system keeping its own rank, so hundreds cost about as much as one.
    """
    A = np.asarray(A)
    b = np.asarray(b)
    if A.ndim != 3 or b.shape != A.shape[:2]:
        raise ValueError(f"A has shape {A.shape} but b has shape {b.shape}")
    systems, rows, unknowns = A.shape
    M = np.empty((systems, rows, unknowns + 1), dtype=np.uint8)
    M[..., :unknowns] = A & 1
    M[..., unknowns] = b & 1
    rank = np.zeros(systems, dtype=np.int64)
    pivot_of_row = np.full((systems, rows), -1, dtype=np.int64)
    row_index = np.arange(rows)
    for col in range(unknowns):
        # Pivot: the first row at or below the system's rank with a 1 in this column.
        candidates = M[:, :, col].astype(bool) & (row_index >= rank[:, None])
        active = np.flatnonzero(candidates.any(axis=1))
        if not active.size:
            continue
        top = rank[active]
        pivot = candidates[active].argmax(axis=1)
        pivot_rows = M[active, pivot].copy()
        M[active, pivot] = M[active, top]
        M[active, top] = pivot_rows
        # Clear the column in every other row of the active systems.
        hit = M[active, :, col].astype(bool)
        hit[np.arange(len(active)), top] = False
        M[active] ^= hit[:, :, None].astype(np.uint8) * pivot_rows[:, None, :]
        pivot_of_row[active, top] = col
        rank[active] += 1
    # Rows past the rank have a zero left side: a 1 on the right means 0 = 1.
    consistent = ~((row_index >= rank[:, None]) & M[:, :, unknowns].astype(bool)).any(axis=1)
    solutions = np.zeros((systems, unknowns), dtype=np.uint8)
    system, row = np.nonzero(pivot_of_row >= 0)
    solutions[system, pivot_of_row[system, row]] = M[system, row, unknowns]
    return solutions, consistent


def solve_gf2(A: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """One solution w of A @ w = b over GF(2) (free unknowns 0), or None when inconsistent."""
    A = np.asarray(A)
    b = np.asarray(b).reshape(-1)
    if A.ndim != 2 or len(b) != A.shape[0]:
        raise ValueError(f"A has shape {A.shape} but b has {len(b)} entries")
    solutions, consistent = solve_gf2_batch(A[None], b[None])
    return solutions[0] if consistent[0] else None


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Pack the last axis of 0/1 values into 64-bit words (zero padded)."""
    packed = np.packbits(np.asarray(bits, dtype=np.uint8) & 1, axis=-1)
    padding = [(0, 0)] * (packed.ndim - 1) + [(0, -packed.shape[-1] % 8)]
    return np.ascontiguousarray(np.pad(packed, padding)).view(np.uint64)


def parity_predictions(bits: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(bits @ w) mod 2 for 0/1 ``bits`` (rows, unknowns), or already packed by ``pack_bits``."""
    packed = bits if bits.dtype == np.uint64 else pack_bits(bits)
    ones = np.bitwise_count(packed & pack_bits(w)).sum(axis=-1, dtype=np.int64)
    return ones & 1


def learn_parity(bits: np.ndarray, y: np.ndarray, *, subsets: int, extra_rows: int,
                 rng: np.random.Generator, constant: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """The GF(2) solution on random row subsets that best agrees with all of (bits, y).

    Returns w over the columns of ``bits`` (plus a last entry for the constant term when
    ``constant``) and a summary of the search. Ties keep the first solution found.
    """
    bits = np.asarray(bits, dtype=np.uint8)
    y = np.asarray(y, dtype=np.uint8)
    if constant:
        bits = np.column_stack([bits, np.ones(len(bits), dtype=np.uint8)])
    rows, unknowns = bits.shape
    take = min(rows, unknowns + extra_rows)
    chosen = np.stack([rng.choice(rows, size=take, replace=False) for _ in range(subsets)])
    solutions, consistent = solve_gf2_batch(bits[chosen], y[chosen])
    packed = pack_bits(bits)  # once, not per candidate
    agreement_of: dict[bytes, float] = {}
    best, best_agreement = np.zeros(unknowns, dtype=np.uint8), -1.0
    for w in solutions[consistent]:
        key = w.tobytes()
        if key not in agreement_of:  # most clean subsets give the same, true, solution
            agreement_of[key] = float(np.mean(parity_predictions(packed, w) == y))
            if agreement_of[key] > best_agreement:
                best, best_agreement = w, agreement_of[key]
    summary = {"subsets": subsets, "rows_per_subset": take, "consistent_subsets": int(consistent.sum()),
               "distinct_solutions": len(agreement_of), "train_agreement": best_agreement}
    return best, summary


#: Subsets solved per round of the search (one vectorised batch).
BATCH_SUBSETS = 64


def chance_z(agreement: float, rows: int) -> float:
    """How many standard errors ``agreement`` on ``rows`` labels lies above a coin's 0.5."""
    return (agreement - 0.5) / (0.5 / math.sqrt(rows)) if rows else 0.0


def subsets_needed(disagreement: float, rows_per_subset: int, miss_probability: float) -> int:
    """Subsets to draw so that none is free of disagreeing rows with probability <= miss_probability.

    A subset is clean with probability (1 - d)^k; d is the *observed* disagreement of the
    best solution on the training rows, not the generator's flip rate, which real data hide.
    """
    clean = (1.0 - min(max(disagreement, 0.0), 1.0)) ** rows_per_subset
    if clean >= 1.0:
        return 1
    if clean <= 0.0:
        return sys.maxsize
    return math.ceil(math.log(miss_probability) / math.log1p(-clean))


def _upper_quantile(probability: float) -> float:
    """z with P(Z > z) = probability for a standard normal Z (stdlib: no scipy import in the fit)."""
    return -NormalDist().inv_cdf(probability)


def search_parity(bits: np.ndarray, y: np.ndarray, *, extra_rows: int, rng: np.random.Generator,
                  max_subsets: int, miss_probability: float) -> tuple[np.ndarray, dict[str, Any]]:
    """``learn_parity`` in rounds, as many as the data ask for (at most ``max_subsets`` subsets).

    A round's best solution is *clearly better than chance* when its agreement lies further
    above 0.5 than chance would put any of the distinct solutions tried (a one-sided normal
    bound at ``miss_probability`` shared among them). Once one is, its observed disagreement
    says how many subsets make missing a clean one unlikely (``subsets_needed``); until then
    the search goes on to ``max_subsets`` and then says that it found nothing.
    """
    rows = len(y)
    best, summary, seen = None, {}, 0
    total, distinct = 0, 0
    needed = max_subsets
    while total < max_subsets:
        batch = min(BATCH_SUBSETS, max_subsets - total)
        w, part = learn_parity(bits, y, subsets=batch, extra_rows=extra_rows, rng=rng)
        total += batch
        distinct += part["distinct_solutions"]
        seen += part["consistent_subsets"]
        if best is None or part["train_agreement"] > summary["train_agreement"]:
            best, summary = w, part
        z = chance_z(summary["train_agreement"], rows)
        clear = z > _upper_quantile(miss_probability / max(distinct, 1))
        if clear:
            needed = min(max_subsets, subsets_needed(1 - summary["train_agreement"],
                                                     part["rows_per_subset"], miss_probability))
            if total >= needed:
                break
    z = chance_z(summary["train_agreement"], rows)
    clear = bool(z > _upper_quantile(miss_probability / max(distinct, 1)))
    return best, {"subsets": total, "subsets_needed": int(needed),
                  "rows_per_subset": summary["rows_per_subset"],
                  "consistent_subsets": seen, "distinct_solutions": distinct,
                  "train_agreement": summary["train_agreement"], "train_rows": rows,
                  "chance_z": z, "better_than_chance": clear}
