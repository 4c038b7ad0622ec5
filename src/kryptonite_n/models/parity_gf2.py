"""Learning the parity from the training split alone, as a linear system over GF(2).

Thresholding every feature at 0.5 recovers its bit (the noise almost never crosses 0.5), and
the label is the parity of some bits plus a constant, with a few labels flipped: learning
parity with noise. A random subset of ``n + 1 + extra_rows`` rows is free of flips with
probability (1 - p)^(n + 1 + extra_rows), about 0.4 for n = 45, and then Gaussian elimination
over GF(2) returns the true parity. So solving many random subsets and keeping the solution
that agrees best with all training labels finds the informative set with no hint from the
noise shapes: a wrong solution agrees with about half the labels, the true one with 1 - p.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from kryptonite_n.io import DataError
from kryptonite_n.models.xor_oracle import ParityRule, load_rule

log = logging.getLogger(__name__)

#: Mixed into the seed so these draws differ from the split's (which use tag 1).
SEED_TAG = 0x6F2


def solve_gf2(A: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """One solution w of A @ w = b over GF(2), or None when the system is inconsistent.

    A is (rows, unknowns) of 0/1, b is (rows,). Free unknowns are set to 0. Elimination runs
    above and below each pivot (reduced row echelon form), one vectorised XOR per pivot.
    """
    A = np.asarray(A)
    b = np.asarray(b).reshape(-1)
    if A.ndim != 2 or len(b) != A.shape[0]:
        raise ValueError(f"A has shape {A.shape} but b has {len(b)} entries")
    rows, unknowns = A.shape
    M = np.empty((rows, unknowns + 1), dtype=np.uint8)
    M[:, :unknowns] = A & 1
    M[:, unknowns] = b & 1
    pivots: list[int] = []
    rank = 0
    for col in range(unknowns):
        if rank == rows:
            break
        below = np.flatnonzero(M[rank:, col])
        if not below.size:
            continue
        pivot = rank + int(below[0])
        if pivot != rank:
            M[[rank, pivot]] = M[[pivot, rank]]
        others = M[:, col].astype(bool)
        others[rank] = False
        M[others] ^= M[rank]
        pivots.append(col)
        rank += 1
    if M[rank:, unknowns].any():  # a row 0 = 1 remains
        return None
    w = np.zeros(unknowns, dtype=np.uint8)
    w[pivots] = M[:rank, unknowns]
    return w


def parity_predictions(bits: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(bits @ w) mod 2, exact: the float sums are small integers."""
    return (bits.astype(np.float32) @ w.astype(np.float32)).astype(np.int64) & 1


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
    agreement_of: dict[bytes, float] = {}
    best, best_agreement, consistent = np.zeros(unknowns, dtype=np.uint8), -1.0, 0
    for _ in range(subsets):
        chosen = rng.choice(rows, size=take, replace=False)
        w = solve_gf2(bits[chosen], y[chosen])
        if w is None:
            continue
        consistent += 1
        key = w.tobytes()
        if key not in agreement_of:  # most clean subsets give the same, true, solution
            agreement_of[key] = float(np.mean(parity_predictions(bits, w) == y))
            if agreement_of[key] > best_agreement:
                best, best_agreement = w, agreement_of[key]
    summary = {"subsets": subsets, "rows_per_subset": take, "consistent_subsets": consistent,
               "distinct_solutions": len(agreement_of), "train_agreement": best_agreement}
    return best, summary


def fit(task) -> list[ParityRule]:
    """One rule per repeat, learned from that repeat's training rows only."""
    subsets = int(task.settings.get("subsets", 300))
    extra_rows = int(task.settings.get("extra_rows", 4))
    rules = []
    for i, repeat in enumerate(task.repeats):
        X_train, y_train = task.part(i, "train")
        if len(X_train) == 0:
            raise DataError(f"n={task.n} repeat {repeat}: the training split is empty")
        rng = np.random.default_rng(np.random.SeedSequence([task.seed, task.n, repeat, SEED_TAG]))
        w, summary = learn_parity(X_train > 0.5, y_train, subsets=subsets, extra_rows=extra_rows, rng=rng)
        support = np.flatnonzero(w[:task.n]).tolist()
        log.info("n=%d repeat %d: support %s, flip %d, %s", task.n, repeat, support, w[task.n], summary)
        rules.append(ParityRule(support, np.full(len(support), 0.5), int(w[task.n]),
                                extra={"support": support, **summary}))
    return rules


def load(arrays: dict[str, np.ndarray]) -> ParityRule:
    return load_rule(arrays)
