"""Logistic regression with the feature selection oracle (FSO): one feature, one product.

The single input is the product of the informative features, each standardised with the
training split's mean and standard deviation. Its sign is the parity of the informative
bits (for an even count of them, as in every Kryptonite-N), so a one-weight logistic
regression separates the classes; the response paper reports it at the oracle's accuracy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.io import DataError
from kryptonite_n.models.spec import FitTask, ModelSpec

SPEC = ModelSpec(
    name="fso_logreg",
    label="LR with FSO",
    description="logistic regression on the single product of the standardised informative features",
    decision="differentiable",
    oracle_assisted=True,
    # Imported before the driver starts timing the fit: the import takes seconds.
    imports=("sklearn.linear_model",),
)


class FsoLogReg:
    """sigmoid(coefficient * prod_j (x_j - mean_j) / std_j + intercept) over the selected j."""

    def __init__(self, features: list[int], mean: np.ndarray, std: np.ndarray, coefficient: float,
                 intercept: float) -> None:
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
        }

    def details(self) -> dict[str, Any]:
        return {"features": self.features, "coefficient": self.coefficient, "intercept": self.intercept}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


def fit(task: FitTask) -> list[FsoLogReg]:
    from sklearn.linear_model import LogisticRegression

    if not task.informative:
        raise DataError(f"n={task.n}: no feature was inferred informative, FSO has no product to form")
    features = sorted(int(j) for j in task.informative)
    C = float(task.settings.get("C", 1.0))
    models = []
    for i in range(len(task.repeats)):
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
                     float(arrays["coefficient"]), float(arrays["intercept"]))
