"""The decision boundary of every model: P(y = 1) on a grid through two informative features,
the other features fixed at a test point's values.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.attacks import informative_features, is_differentiable
from kryptonite_n.carbon import phase
from kryptonite_n.data import load_dataset, load_split
from kryptonite_n.io import DataError, write_csv

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


def map_decision_boundary(n: int, *, entries: list[dict[str, str]], split_file: str, repeat: int,
                          data_files: Mapping[str, Path | str], features_csv: Path | str,
                          outputs: Mapping[str, str], grid: int) -> None:
    """Every entry's (model, activation, file) P(y = 1) on one 2-D slice through two informative features.

    The slice goes through the first test row of ``split_file``; the two features are the
    first two (true, else inferred) informative ones. Models without an activation get
    ``activation = none``.
    """
    from kryptonite_n.models import load_predictor

    dataset = load_dataset(data_files, n)
    informative = sorted(informative_features(dataset.truth, features_csv))
    if len(informative) < 2:
        raise DataError(f"{features_csv}: fewer than two informative features, no slice to draw")
    feature_x, feature_y = informative[:2]
    anchor = dataset.X[load_split(split_file).test[0]]
    points, X = boundary_slice(anchor, feature_x, feature_y, grid)
    tables = []
    with phase("decision_boundary"):
        for entry in entries:
            predictor = load_predictor(entry["model"], entry["file"])
            activation = entry.get("activation") or "none"
            tables.append(points.assign(n=n, model=entry["model"], activation=activation, repeat=repeat,
                                        feature_x=feature_x, feature_y=feature_y,
                                        probability=probability(predictor, X)))
    write_csv(outputs["table"], pd.concat(tables, ignore_index=True)[BOUNDARY_COLUMNS])
