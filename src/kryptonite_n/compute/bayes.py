"""The Bayes limit of a dataset: one definition, used by the summary and every page.

* Generated data: the exact Bayes-optimal accuracy of the generator
  (``data.generator_bayes_accuracy``), which counts the label flips and the small chance that
  Laplace or Gaussian noise carries a value across 0.5. ``source`` is ``generator``.
* Published data: the flip rate is unknown, so the limit is estimated, and never from a
  fitted model's score. The estimate is the accuracy, on every labelled row, of a rule that
  sees no label: the parity of the nearest bits of the features whose noise is not of the
  irrelevant family (maximum-likelihood family inference, ``explore.feature_table``). No
  label chose anything in it, so its accuracy is an unbiased estimate of its expected
  accuracy, and that is at most the Bayes accuracy (equal when the inferred set is the true
  one): the estimate is a lower one, with a Wilson 95 % interval for its sampling error. It is
  the XOR oracle's own rule (chosen the same way, on every labelled row instead of each
  repeat's training rows), so it is a reference, not a ceiling: a model may score above it,
  and the oracle's agreement with it proves nothing.
* Published data whose noise shapes separate no family (the later edition, one noise for every
  feature): there is no label-free rule. The estimate is *cross-fitted*: the GF(2) parity
  search (``gf2.search_parity``) learns a rule on one half of the labelled rows
  (a seeded split) and is scored on the other half, then the halves swap; the accuracy over
  all rows, each scored by the rule that did not see it, is again an unbiased estimate of a
  fixed procedure's accuracy and so a lower estimate of the Bayes accuracy, Wilson 95 %.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from kryptonite_n import streams
from kryptonite_n.compute.data import generator_bayes_accuracy
from kryptonite_n.compute.explore import feature_table, feature_thresholds, informative_features, separation
from kryptonite_n.compute.gf2 import parity_predictions, search_parity
from kryptonite_n.contract import CROSS_FITTED_PARITY, GENERATOR, LABEL_FREE_PARITY

#: The published-data estimates: a reference a model may score above, never a model's ceiling.
ESTIMATES = (LABEL_FREE_PARITY, CROSS_FITTED_PARITY)
#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (stays inside [0, 1], sane near 1)."""
    if trials <= 0:
        raise ValueError("a proportion needs at least one trial")
    phat = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (phat + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(phat * (1 - phat) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def estimate_bayes(X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The published-data estimate of the Bayes accuracy (see the module docstring).

    ``source`` names the rule (``LABEL_FREE_PARITY`` or ``CROSS_FITTED_PARITY``); ``rule`` says
    in words how it was made; ``features`` is the label-free rule's set (empty when cross-fitted).
    """

    table = feature_table(X)
    y = np.asarray(y).astype(np.int64)
    reason = separation(table)
    if reason is not None:
        return cross_fitted_estimate(X, y) | {"label_free_failed": reason}
    informative = informative_features(table)
    thresholds = table.set_index("feature").loc[informative, "threshold"].to_numpy()
    bits = np.asarray(X, dtype=np.float64)[:, informative] > thresholds
    predicted = bits.sum(axis=1) & 1
    # The constant of the parity (a flipped convention) is the one thing the rule cannot see;
    # the majority picks it, which needs no held-apart rows: it is one bit, not a fit.
    agree = int((predicted == y).sum())
    agree = max(agree, len(y) - agree)
    low, high = wilson_interval(agree, len(y))
    return {"accuracy": agree / len(y), "ci_low": low, "ci_high": high, "source": LABEL_FREE_PARITY,
            "rule": "the parity of the features whose noise is not of the irrelevant shape, each "
                    "thresholded between its two levels, on every labelled row (the XOR oracle's rule)",
            "rows": len(y), "features": [int(j) for j in informative]}


def cross_fitted_estimate(X: np.ndarray, y: np.ndarray, *, max_subsets: int = 2000,
                          miss_probability: float = 1e-6, extra_rows: int = 4) -> dict[str, Any]:
    """The cross-fitted GF(2) parity estimate (module docstring): learn on one half, score on the
    other, and back; every row is scored once, by the rule that did not see it."""

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    n = X.shape[1]
    if len(y) < 2:
        raise ValueError("a cross-fitted estimate needs at least two labelled rows")
    rng = streams.rng("cross_fit", n=n, rows=len(y))
    order = rng.permutation(len(y))
    halves = [np.sort(order[: len(y) // 2]), np.sort(order[len(y) // 2:])]
    agree, supports = 0, []
    for learn, score in (halves, halves[::-1]):
        # Thresholds from the learning half only: the scored half chooses nothing.
        thresholds = feature_thresholds(X[learn])
        w, _ = search_parity(X[learn] > thresholds, y[learn], extra_rows=extra_rows, rng=rng,
                             max_subsets=max_subsets, miss_probability=miss_probability)
        scored = np.column_stack([X[score] > thresholds, np.ones(len(score), dtype=bool)])
        agree += int((parity_predictions(scored.astype(np.uint8), w) == y[score]).sum())
        supports.append(np.flatnonzero(w[:n]).tolist())
    low, high = wilson_interval(agree, len(y))
    return {"accuracy": agree / len(y), "ci_low": low, "ci_high": high, "source": CROSS_FITTED_PARITY,
            "rule": "the GF(2) parity learned on one half of the labelled rows and scored on the other, "
                    "then the halves swapped (cross-fitted)",
            "rows": len(y), "features": [], "half_supports": supports}


def is_estimate(source: str | None) -> bool:
    """Whether a ``bayes_source`` is a published-data estimate (a reference a model may pass)."""
    return source in ESTIMATES


def bayes_limit(truth: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The Bayes limit recorded in a dataset's truth.json, or None when it has none.

    Truth files written before the limit was recorded, for generated data, are completed from
    their generator settings, so that an old result folder still reads the same definition.
    """
    if not truth:
        return None
    if truth.get("bayes"):
        return dict(truth["bayes"])
    if truth.get("flip_rate") is not None and truth.get("families") and truth.get("informative") is not None:
        accuracy = generator_bayes_accuracy(truth["families"], truth["informative"], truth["scales"],
                                            float(truth["flip_rate"]))
        return {"accuracy": accuracy, "ci_low": None, "ci_high": None, "source": GENERATOR}
    return None
