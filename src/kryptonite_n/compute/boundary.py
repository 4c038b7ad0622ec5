"""The decision boundary of every model: P(y = 1) on a grid through two informative features,
the other features fixed at a test point's values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.compute.attacks import is_differentiable

BOUNDARY_COLUMNS = ["n", "model", "activation", "repeat", "feature_x", "feature_y", "x", "y", "probability"]
#: The slice of the decision boundary, in raw units: the bits at 0 and 1 with a margin.
BOUNDARY_RANGE = (-0.25, 1.25)


def probability(predictor: Any, X: np.ndarray) -> np.ndarray:
    """P(y = 1) of a differentiable model; a rule's (or label-only model's) 0/1 prediction."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if is_differentiable(predictor):
        import torch

        with torch.no_grad():
            return torch.sigmoid(predictor.logit(torch.from_numpy(X).to(torch.float64))).numpy()
    return np.asarray(predictor.predict(X), dtype=np.float64)


def boundary_slice(anchor: np.ndarray, feature_x: int, feature_y: int, size: int,
                   low: float = BOUNDARY_RANGE[0], high: float = BOUNDARY_RANGE[1]
                   ) -> tuple[pd.DataFrame, np.ndarray]:
    """Grid points (size x size) varying two features over [low, high]^2, the rest at ``anchor``."""
    values = np.linspace(low, high, size)
    gx, gy = np.meshgrid(values, values, indexing="xy")
    X = np.repeat(np.asarray(anchor, dtype=np.float32)[None, :], gx.size, axis=0)
    X[:, feature_x] = gx.ravel()
    X[:, feature_y] = gy.ravel()
    return pd.DataFrame({"x": gx.ravel(), "y": gy.ravel()}), X


