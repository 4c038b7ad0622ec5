"""Decision trees stored as flat arrays, walked in NumPy: the random forest's and the gradient
boosting's predictors, rebuilt from ``model.npz`` without scikit-learn's pickled estimators.

Nodes of every tree are concatenated; ``offsets`` holds each tree's root. A leaf has
``left < 0``; a split sends a row left when its feature value is ``<= threshold`` (and, with
``missing_left``, when it is NaN and the split sends missing values left).
"""

from __future__ import annotations

import numpy as np


def leaf_index(X: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray, feature: np.ndarray,
               threshold: np.ndarray, missing_left: np.ndarray | None = None) -> np.ndarray:
    """(trees, rows): the global index of the leaf each row reaches in each tree, every path
    walked at once, level by level."""
    node = np.repeat(offsets[:, None], len(X), axis=1)
    flat = node.ravel()  # a view: walking ``flat`` moves ``node``
    row = np.broadcast_to(np.arange(len(X)), node.shape).ravel()
    active = np.flatnonzero(left[flat] >= 0)
    while len(active):
        at = flat[active]
        values = X[row[active], feature[at]]
        go_left = values <= threshold[at]
        if missing_left is not None:
            go_left |= np.isnan(values) & missing_left[at]
        flat[active] = np.where(go_left, left[at], right[at])
        active = active[left[flat[active]] >= 0]
    return node
