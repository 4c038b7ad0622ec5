"""The mock paper's failing baseline: polynomial logistic regression on raw features.

A scikit-learn pipeline of ``PolynomialFeatures(degree)`` (full polynomial, bias column
included) on the raw, unstandardised features and ``LogisticRegression(C, solver='sag')``.
A degree-2 polynomial cannot express the parity of 6 or more bits, so it stays near chance:
the paper's evidence that "no model" solves Kryptonite-n.
"""

from __future__ import annotations

import logging
import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from kryptonite_n import streams
from kryptonite_n.contract import FitTask
from kryptonite_n.stats import logistic

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


log = logging.getLogger(__name__)


@dataclass
class MockBaselinePredictor:
    """Decision = sum_k coefficients[k] * prod_i x_i ** powers[k, i] + intercept."""

    powers: np.ndarray  # (terms x n) int exponents, as PolynomialFeatures.powers_
    coefficients: np.ndarray
    intercept: float
    C: float
    iterations: int = 0

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        terms = np.stack([np.prod(X ** row, axis=1) for row in self.powers], axis=1)
        return terms @ self.coefficients + self.intercept

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(np.int64)

    def probability(self, X: np.ndarray) -> np.ndarray:
        return logistic(self.decision_function(X))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"powers": self.powers.astype(np.int64), "coefficients": self.coefficients,
                "intercept": np.float64(self.intercept), "C": np.float64(self.C),
                "iterations": np.int64(self.iterations)}

    def details(self) -> dict[str, Any]:
        return {"terms": len(self.powers), "degree": int(self.powers.sum(axis=1).max()),
                "C": self.C, "iterations": self.iterations, "intercept": self.intercept}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


def load(arrays: dict[str, np.ndarray]) -> MockBaselinePredictor:
    return MockBaselinePredictor(
        powers=arrays["powers"].astype(np.int64), coefficients=arrays["coefficients"].astype(np.float64),
        intercept=float(arrays["intercept"]), C=float(arrays["C"]), iterations=int(arrays["iterations"]),
    )


def fit_pipeline(X: np.ndarray, y: np.ndarray, settings: dict[str, Any], seed: int) -> Pipeline:
    """The baseline as the mock paper ran it (sag's random order seeded)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import PolynomialFeatures

    pipeline = Pipeline([
        ("poly", PolynomialFeatures(degree=int(settings["degree"]))),
        ("logreg", LogisticRegression(C=float(settings["C"]), solver="sag",
                                      max_iter=int(settings["max_iter"]), random_state=seed)),
    ])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(X, y)
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            # Unscaled polynomial terms slow sag down; the paper's baseline had the same handicap.
            log.warning("mock_baseline: %s", warning.message)
    return pipeline


def fit(task: FitTask) -> list[MockBaselinePredictor]:
    predictors = []
    for i, repeat in enumerate(tqdm(task.repeats, desc=f"mock_baseline n={task.n}", file=sys.stderr)):
        X, y = task.part(i, "train")
        seed = streams.seed("mock_baseline", seed=task.seed, n=task.n, repeat=repeat)
        pipeline = fit_pipeline(X, y, task.settings, seed)
        logreg = pipeline.named_steps["logreg"]
        predictors.append(MockBaselinePredictor(
            powers=pipeline.named_steps["poly"].powers_.astype(np.int64),
            coefficients=logreg.coef_[0].astype(np.float64), intercept=float(logreg.intercept_[0]),
            C=float(task.settings["C"]), iterations=int(np.max(logreg.n_iter_)),
        ))
    return predictors
