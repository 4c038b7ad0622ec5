"""A random forest (scikit-learn's ``RandomForestClassifier``) on the raw features.

Each tree splits greedily on one feature at a time; a parity gives no single feature (nor any
few) a marginal signal, so a split's gain is noise and the forest stays near chance unless
its trees can grow deep enough to isolate the parity's cells on many rows.

The fitted forest is saved as plain arrays: every tree's nodes concatenated (children, split
feature and threshold, the leaf's fractions of class 0 and class 1) with each tree's first node in
``offsets``. Prediction walks all trees for all rows at once in NumPy, one level per step, and
averages the trees' leaf fractions of each class in the forest's order: ``probability`` equals
``predict_proba[:, 1]``, and ``predict`` (the class of the larger mean fraction, a tie going to
class 0, as scikit-learn's argmax) equals ``predict``. The two means add up to 1 only up to
rounding, so where they tie ``predict`` can differ from ``probability > 0.5`` in the last bit.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from kryptonite_n import streams
from kryptonite_n.compute.trees import leaf_index
from kryptonite_n.contract import FitTask, sample_rows

#: (tree, row) paths walked at once (bounds the memory of a prediction).
PATHS = 2**20

log = logging.getLogger(__name__)


class RandomForest:
    """probability = mean over trees of the class-1 fraction of the leaf x falls in.

    ``leaf_value`` (nodes, 2) holds each node's fractions of class 0 and class 1 (0 at a split).
    """

    def __init__(self, left: np.ndarray, right: np.ndarray, feature: np.ndarray, threshold: np.ndarray,
                 leaf_value: np.ndarray, offsets: np.ndarray, rows: int, min_samples_leaf: int) -> None:
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.leaf_value = np.asarray(leaf_value, dtype=np.float64).reshape(-1, 2)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.rows = int(rows)
        self.min_samples_leaf = int(min_samples_leaf)
        sizes = {len(a) for a in (self.left, self.right, self.feature, self.threshold, self.leaf_value)}
        if len(sizes) != 1 or self.offsets.ndim != 1 or len(self.offsets) == 0:
            raise ValueError("inconsistent random forest arrays")

    @property
    def trees(self) -> int:
        return len(self.offsets)

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """(trees, rows) global index of the leaf each row reaches in each tree.

        Like scikit-learn's trees, rows are compared in float32 (x <= threshold goes left).
        """
        return leaf_index(np.asarray(X, dtype=np.float32), self.offsets, self.left, self.right, self.feature,
                          self.threshold)

    def class_fractions(self, X: np.ndarray) -> np.ndarray:
        """(rows, 2): the mean over trees of each class's leaf fraction (predict_proba)."""
        X = np.asarray(X)
        total = np.zeros((len(X), 2))
        chunk = max(1, PATHS // self.trees)
        for start in range(0, len(X), chunk):
            # Summed tree by tree, then divided, as RandomForestClassifier.predict_proba does.
            for tree_values in self.leaf_value[self.leaves(X[start:start + chunk])]:
                total[start:start + chunk] += tree_values
        return total / self.trees

    def probability(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.class_fractions(X)[:, 1])

    def predict(self, X: np.ndarray) -> np.ndarray:
        fractions = self.class_fractions(X)
        return (fractions[:, 1] > fractions[:, 0]).astype(np.int64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"left": self.left, "right": self.right, "feature": self.feature, "threshold": self.threshold,
                "leaf_value": self.leaf_value, "offsets": self.offsets, "rows": np.int64(self.rows),
                "min_samples_leaf": np.int64(self.min_samples_leaf)}

    def details(self) -> dict[str, Any]:
        is_leaf = self.left < 0
        return {"rows": self.rows, "trees": self.trees, "min_samples_leaf": self.min_samples_leaf,
                "nodes": len(self.left), "leaves": int(is_leaf.sum()), "max_depth": self._max_depth()}

    def _max_depth(self) -> int:
        """The deepest leaf's depth over all trees (a root alone has depth 0)."""
        depth, level = 0, self.offsets
        while True:
            level = level[self.left[level] >= 0]
            if not len(level):
                return depth
            level = np.concatenate([self.left[level], self.right[level]])
            depth += 1

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


def load(arrays: dict[str, np.ndarray]) -> RandomForest:
    return RandomForest(arrays["left"], arrays["right"], arrays["feature"], arrays["threshold"],
                        arrays["leaf_value"], arrays["offsets"], int(arrays["rows"]),
                        int(arrays["min_samples_leaf"]))



def from_forest(forest: Any, rows: int, min_samples_leaf: int) -> RandomForest:
    """The arrays of a fitted binary RandomForestClassifier's trees, concatenated."""
    parts: dict[str, list[np.ndarray]] = {"left": [], "right": [], "feature": [], "threshold": [],
                                          "leaf_value": []}
    offsets, start = [], 0
    for estimator in forest.estimators_:
        tree = estimator.tree_
        leaf = tree.children_left < 0
        offsets.append(start)
        parts["left"].append(np.where(leaf, -1, tree.children_left + start))
        parts["right"].append(np.where(leaf, -1, tree.children_right + start))
        parts["feature"].append(np.where(leaf, 0, tree.feature))
        parts["threshold"].append(np.where(leaf, 0.0, tree.threshold))
        # The class fractions of the leaf's (bootstrap-weighted) rows, as the tree's predict_proba.
        value = tree.value[:, 0, :]
        parts["leaf_value"].append(np.where(leaf[:, None], value / value.sum(axis=1, keepdims=True), 0.0))
        start += tree.node_count
    return RandomForest(*(np.concatenate(parts[key]) for key in parts), np.asarray(offsets),
                        rows=rows, min_samples_leaf=min_samples_leaf)


def fit(task: FitTask) -> list[RandomForest]:
    from sklearn.ensemble import RandomForestClassifier

    settings = task.settings
    predictors = []
    for i, repeat in enumerate(tqdm(task.repeats, desc=f"random_forest n={task.n}", file=sys.stderr)):
        rng = streams.rng("random_forest", seed=task.seed, n=task.n, repeat=repeat)
        random_state = int(rng.integers(2**31))
        X, y = task.part(i, "train")
        rows = sample_rows(rng, len(y), settings["max_train_rows"])
        X, y = X[rows], y[rows]
        if set(np.unique(y).tolist()) != {0, 1}:
            raise ValueError(f"random_forest n={task.n} repeat {repeat}: the training rows hold "
                             "one class only")
        forest = RandomForestClassifier(n_estimators=int(settings["trees"]),
                                        min_samples_leaf=int(settings["min_samples_leaf"]),
                                        random_state=random_state, n_jobs=1).fit(X, y)
        predictor = from_forest(forest, len(y), int(settings["min_samples_leaf"]))
        log.info("random_forest n=%d repeat %d: %s", task.n, repeat, predictor.details())
        predictors.append(predictor)
    return predictors
