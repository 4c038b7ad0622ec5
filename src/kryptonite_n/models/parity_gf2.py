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
import math
from typing import Any

import numpy as np

from kryptonite_n.io import DataError
from kryptonite_n.models.spec import FitTask, ModelSpec
from kryptonite_n.models.xor_oracle import ParityRule, load_rule

SPEC = ModelSpec(
    name="parity_gf2",
    label="GF(2) parity",
    description="the parity found by solving the bits-to-label system over GF(2), no noise-shape hint",
    decision="threshold",
    feature_set_key="features",
)

log = logging.getLogger(__name__)

#: Mixed into the seed so these draws differ from the split's (which use tag 1).
SEED_TAG = 0x6F2


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


def subsets_needed(agreement: float, rows_per_subset: int, miss: float) -> float:
    """Subsets to solve so that one is free of flipped labels with probability 1 - ``miss``,
    taking the best solution's disagreement with the labels as the flip rate (the data's own
    estimate; a wrong best solution disagrees with about half, which asks for ever more)."""
    flip = min(max(1.0 - agreement, 0.0), 0.5)
    clean = (1.0 - flip) ** rows_per_subset
    if clean >= 1.0:
        return 1.0
    if clean <= 0.0:
        return math.inf
    return math.ceil(math.log(miss) / math.log1p(-clean))


def chance_margin(rows: int, held_out: int, candidates: int, risk: float = 0.01) -> float:
    """How far above 1/2 the best of ``candidates`` wrong parities can agree with ``held_out``
    labels by chance, except with probability ``risk`` (Hoeffding and a union bound)."""
    if held_out <= 0:
        return math.inf
    return math.sqrt(math.log(max(candidates, 1) / risk) / (2 * held_out))


def learn_parity_sized(bits: np.ndarray, y: np.ndarray, *, extra_rows: int, rng: np.random.Generator,
                       round_size: int, max_subsets: int, miss: float) -> tuple[np.ndarray, dict[str, Any]]:
    """``learn_parity`` in rounds until the data says enough subsets were solved.

    The summary says whether the rows were too few to trust the result (``note``).
    """
    rows, unknowns = len(bits), bits.shape[1] + 1
    best, summary, solved = None, None, 0
    while True:
        size = min(round_size, max_subsets - solved)
        w, part = learn_parity(bits, y, subsets=size, extra_rows=extra_rows, rng=rng)
        solved += size
        if summary is None or part["train_agreement"] > summary["train_agreement"]:
            best, summary = w, dict(part)
        needed = subsets_needed(summary["train_agreement"], part["rows_per_subset"], miss)
        if solved >= needed or solved >= max_subsets:
            break
    take = summary["rows_per_subset"]
    # Agreement on the rows outside the solved subset, at worst (all subset rows agree).
    held_out = rows - take
    outside = (summary["train_agreement"] * rows - take) / held_out if held_out > 0 else math.nan
    margin = chance_margin(rows, held_out, solved)
    note = None
    if rows < unknowns + extra_rows:
        note = (f"too few rows: {rows} training rows for {unknowns} unknowns (n + 1) and "
                f"{extra_rows} extra rows per subset")
    elif not outside - 0.5 > margin:
        note = (f"too few rows or too many flips: the best parity agrees with {outside:.3f} of the "
                f"{held_out} rows outside its subset, within {margin:.3f} of chance")
    summary |= {"subsets": solved, "subsets_needed": needed, "held_out_agreement": outside,
                "chance_margin": margin, "note": note}
    return best, summary


def fit(task: FitTask) -> list[ParityRule]:
    """One rule per repeat, learned from that repeat's training rows only.

    ``subsets`` null (the default) sizes the subset count from the data (``learn_parity_sized``);
    a number solves exactly that many.
    """
    subsets = task.settings.get("subsets")
    extra_rows = int(task.settings.get("extra_rows", 4))
    rules = []
    for i, repeat in enumerate(task.repeats):
        X_train, y_train = task.part(i, "train")
        if len(X_train) == 0:
            raise DataError(f"n={task.n} repeat {repeat}: the training split is empty")
        rng = np.random.default_rng(np.random.SeedSequence([task.seed, task.n, repeat, SEED_TAG]))
        if subsets is None:
            w, summary = learn_parity_sized(
                X_train > 0.5, y_train, extra_rows=extra_rows, rng=rng,
                round_size=int(task.settings.get("round_size", 64)),
                max_subsets=int(task.settings.get("max_subsets", 5000)),
                miss=float(task.settings.get("miss_probability", 1e-6)))
            if summary["note"]:
                log.warning("n=%d repeat %d: %s", task.n, repeat, summary["note"])
        else:
            w, summary = learn_parity(X_train > 0.5, y_train, subsets=int(subsets), extra_rows=extra_rows,
                                      rng=rng)
        support = np.flatnonzero(w[:task.n]).tolist()
        log.info("n=%d repeat %d: support %s, flip %d, %s", task.n, repeat, support, w[task.n], summary)
        rules.append(ParityRule(support, np.full(len(support), 0.5), int(w[task.n]),
                                extra={"support": support, **summary}))
    return rules


def load(arrays: dict[str, np.ndarray]) -> ParityRule:
    return load_rule(arrays)
