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
  one): the estimate is a lower one, with a Wilson 95 % interval for its sampling error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: Name of the published-data estimate, as written in summary.csv's ``bayes_source``.
LABEL_FREE_PARITY = "label-free parity rule (lower estimate, Wilson 95 %)"
GENERATOR = "generator"
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
    """The published-data estimate of the Bayes accuracy (see the module docstring)."""
    from kryptonite_n.explore import feature_table, informative_features

    informative = informative_features(feature_table(X))
    bits = np.asarray(X, dtype=np.float64)[:, informative] > 0.5
    predicted = bits.sum(axis=1) & 1
    y = np.asarray(y).astype(np.int64)
    # The constant of the parity (a flipped convention) is the one thing the rule cannot see;
    # the majority picks it, which needs no held-apart rows: it is one bit, not a fit.
    agree = int((predicted == y).sum())
    agree = max(agree, len(y) - agree)
    low, high = wilson_interval(agree, len(y))
    return {"accuracy": agree / len(y), "ci_low": low, "ci_high": high, "source": LABEL_FREE_PARITY,
            "rows": len(y), "features": [int(j) for j in informative]}


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
        from kryptonite_n.data import generator_bayes_accuracy

        accuracy = generator_bayes_accuracy(truth["families"], truth["informative"], truth["scales"],
                                            float(truth["flip_rate"]))
        return {"accuracy": accuracy, "ci_low": None, "ci_high": None, "source": GENERATOR}
    return None
