"""The GF(2) parity model: the parity learned from the training split alone (``gf2``).

Each feature is thresholded between its two levels, found on the training rows
(``explore.feature_thresholds``: about 0.5 for Kryptonite-N's bits 0 and 1, wherever another
edition puts the levels), and ``gf2.search_parity`` solves the bits-to-label system over GF(2).
A fit that finds no solution clearly better than chance says so in its metrics (``warning``).
"""

from __future__ import annotations

import logging

import numpy as np

from kryptonite_n import streams
from kryptonite_n.compute.explore import feature_thresholds
from kryptonite_n.compute.gf2 import search_parity
from kryptonite_n.compute.models.xor_oracle import ParityRule, load_rule
from kryptonite_n.contract import FitTask
from kryptonite_n.io import DataError

log = logging.getLogger(__name__)


def fit(task: FitTask) -> list[ParityRule]:
    """One rule per repeat, learned from that repeat's training rows only."""

    max_subsets = int(task.settings.get("max_subsets", 2000))
    miss_probability = float(task.settings.get("miss_probability", 1e-6))
    extra_rows = int(task.settings.get("extra_rows", 4))
    rules = []
    for i, repeat in enumerate(task.repeats):
        X_train, y_train = task.part(i, "train")
        if len(X_train) == 0:
            raise DataError(f"n={task.n} repeat {repeat}: the training split is empty")
        rng = streams.rng("parity_search", seed=task.seed, n=task.n, repeat=repeat)
        thresholds = feature_thresholds(X_train)
        w, summary = search_parity(X_train > thresholds, y_train, extra_rows=extra_rows, rng=rng,
                                   max_subsets=max_subsets, miss_probability=miss_probability)
        support = np.flatnonzero(w[:task.n]).tolist()
        log.info("n=%d repeat %d: support %s, flip %d, %s", task.n, repeat, support, w[task.n], summary)
        extra = {"support": support, **summary}
        if len(X_train) < task.n + 1:
            # Fewer equations than unknowns (n bits and the constant): many parities fit them all.
            extra["warning"] = (f"too few rows: {len(X_train)} training rows for {task.n + 1} unknowns "
                                f"in repeat {repeat}; the parity is not determined by them")
            log.warning(extra["warning"])
        elif not summary["better_than_chance"]:
            # Never silent: the metrics row and the summary's note carry this.
            extra["warning"] = (f"GF(2) parity: no solution agrees clearly better than chance on the "
                                f"training rows of repeat {repeat} (best {summary['train_agreement']:.4f} "
                                f"on {summary['train_rows']} rows, {summary['subsets']} subsets)")
            log.warning(extra["warning"])
        rules.append(ParityRule(support, thresholds[support], int(w[task.n]), extra=extra))
    return rules


def load(arrays: dict[str, np.ndarray]) -> ParityRule:
    return load_rule(arrays)
