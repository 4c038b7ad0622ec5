"""Logistic regression with the feature selection oracle (FSO): one feature, one product.

The single input is the product of the informative features, each standardised with the
training split's mean and standard deviation. Its sign is the parity of the informative
bits (for an even count of them, as in every Kryptonite-N), so a one-weight logistic
regression separates the classes; the response paper reports it at the oracle's accuracy.

Like the XOR oracle it is *oracle-assisted*: the informative set comes from the noise shapes,
not from the labels; where the training rows' shapes separate no family it is not applicable
(``details()["not_applicable"]``, written as the note instead of any accuracy). Its worst case
under an L-infinity budget is computed exactly (``prediction_changeable``): gradient attacks
move every feature at once and their sign crossings cancel in pairs, so they overstate its
robustness.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.contract import FitTask
from kryptonite_n.io import DataError
from kryptonite_n.stats import logistic


class FsoLogReg:
    """sigmoid(coefficient * prod_j (x_j - mean_j) / std_j + intercept) over the selected j."""

    def __init__(self, features: list[int], mean: np.ndarray, std: np.ndarray, coefficient: float,
                 intercept: float, not_applicable: str = "") -> None:
        self.not_applicable = not_applicable
        self.features = [int(j) for j in features]
        self.mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        self.std = np.asarray(std, dtype=np.float64).reshape(-1)
        self.coefficient = float(coefficient)
        self.intercept = float(intercept)

    def product(self, X: np.ndarray) -> np.ndarray:
        return np.prod((np.asarray(X, dtype=np.float64)[:, self.features] - self.mean) / self.std, axis=1)

    def decision(self, X: np.ndarray) -> np.ndarray:
        return self.coefficient * self.product(X) + self.intercept

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.decision(X) > 0).astype(np.int64)

    def probability(self, X: np.ndarray) -> np.ndarray:
        return logistic(self.decision(X))

    def product_range(self, X: np.ndarray, mask: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest product reachable per row when features in ``mask`` move by <= eps.

        Each standardised feature ranges over an interval, and the product uses each feature
        once, so interval multiplication is exact: the range of a product of independent
        interval factors is the interval product (its extremes lie at corners of the box).
        """
        X = np.asarray(X, dtype=np.float64)
        movable = np.asarray(mask, dtype=bool)[self.features]
        values = X[:, self.features]
        step = np.where(movable, float(eps), 0.0)
        ends = np.stack([(values - step - self.mean) / self.std, (values + step - self.mean) / self.std])
        low, high = np.ones(len(X)), np.ones(len(X))
        for k in range(len(self.features)):
            corners = np.stack([low * ends[0, :, k], low * ends[1, :, k], high * ends[0, :, k],
                                high * ends[1, :, k]])
            low, high = corners.min(axis=0), corners.max(axis=0)
        return low, high

    def prediction_changeable(self, X: np.ndarray, mask: np.ndarray, eps: float) -> np.ndarray:
        """Exact worst case: can a perturbation of at most eps on ``mask`` change the prediction?

        The decision is monotone in the product, so the prediction can change iff the decision
        at one end of the reachable product range has the other sign (``predict`` is > 0).
        """
        low, high = self.product_range(X, mask, eps)
        ends = np.stack([self.coefficient * low + self.intercept, self.coefficient * high + self.intercept])
        positive = self.decision(X) > 0
        return np.where(positive, ends.min(axis=0) <= 0, ends.max(axis=0) > 0)

    def logit(self, X):
        """The same decision on a torch tensor of raw features, differentiable in X."""
        import torch

        mean = torch.as_tensor(self.mean, dtype=X.dtype, device=X.device)
        std = torch.as_tensor(self.std, dtype=X.dtype, device=X.device)
        product = torch.prod((X[:, self.features] - mean) / std, dim=1)
        return self.coefficient * product + self.intercept

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "features": np.asarray(self.features, dtype=np.int64), "mean": self.mean, "std": self.std,
            "coefficient": np.asarray(self.coefficient), "intercept": np.asarray(self.intercept),
            # A text array (no pickle): a loaded model still says it does not apply.
            **({"not_applicable": np.asarray(self.not_applicable)} if self.not_applicable else {}),
        }

    def details(self) -> dict[str, Any]:
        details = {"features": self.features, "coefficient": self.coefficient, "intercept": self.intercept}
        return details | ({"not_applicable": self.not_applicable} if self.not_applicable else {})

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


def fit(task: FitTask) -> list[FsoLogReg]:
    from sklearn.linear_model import LogisticRegression

    C = float(task.settings.get("C", 1.0))
    models = []
    for i in range(len(task.repeats)):
        reason = task.shape_failure(i)
        if reason:
            # Nothing to select: a model of no feature, marked so that no accuracy is its own.
            models.append(FsoLogReg([], np.zeros(0), np.ones(0), 0.0, 0.0,
                                    not_applicable=f"{reason} on the training rows"))
            continue
        features = task.selected_features(i, ", FSO has no product to form")
        X_train, y_train = task.part(i, "train")
        selected = np.asarray(X_train[:, features], dtype=np.float64)
        mean, std = selected.mean(axis=0), selected.std(axis=0)
        if np.any(std == 0):
            raise DataError(f"n={task.n}: a selected feature is constant on the training split")
        product = np.prod((selected - mean) / std, axis=1)
        classifier = LogisticRegression(C=C, max_iter=1000).fit(product[:, None], y_train)
        models.append(FsoLogReg(features, mean, std, classifier.coef_[0, 0], classifier.intercept_[0]))
    return models


def load(arrays: dict[str, np.ndarray]) -> FsoLogReg:
    return FsoLogReg(arrays["features"].astype(int).tolist(), arrays["mean"], arrays["std"],
                     float(arrays["coefficient"]), float(arrays["intercept"]),
                     not_applicable=str(arrays["not_applicable"]) if "not_applicable" in arrays else "")
