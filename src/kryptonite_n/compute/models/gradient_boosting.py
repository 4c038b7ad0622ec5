"""Gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``) on the raw features.

Like the random forest's, its trees split greedily on one feature at a time, and a parity
gives no feature a marginal signal: the first trees fit noise and the validation loss stops
improving at once. Early stopping watches the repeat's own validation rows (passed to ``fit``
as ``X_val``/``y_val``: scikit-learn then holds out none of the training rows), so this model
reads the validation rows; it keeps every tree up to the iteration where it stopped
(``patience`` iterations past the best one), as scikit-learn does.

The fitted model is saved as plain arrays: the baseline raw score and every tree's nodes
concatenated (children, split feature and threshold, which side a missing value takes, leaf
value) with each tree's first node in ``offsets``. A row goes left where x <= threshold, as
scikit-learn's numerical splits do. raw = baseline + the trees' leaf values, summed in the
trees' order; ``probability`` = sigmoid(raw) and ``predict`` = probability > 0.5, as
``predict_proba`` and ``predict`` (a tie goes to class 0).
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
from kryptonite_n.contract import FitTask

#: (tree, row) paths walked at once (bounds the memory of a prediction).
PATHS = 2**20

log = logging.getLogger(__name__)


class GradientBoosting:
    """probability = sigmoid(baseline + sum over trees of the value of the leaf x falls in)."""

    def __init__(self, left: np.ndarray, right: np.ndarray, feature: np.ndarray, threshold: np.ndarray,
                 missing_left: np.ndarray, value: np.ndarray, offsets: np.ndarray, baseline: float,
                 rows: int, validation_rows: int, learning_rate: float,
                 validation_loss: np.ndarray | None = None) -> None:
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.missing_left = np.asarray(missing_left, dtype=bool)
        self.value = np.asarray(value, dtype=np.float64)
        self.offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
        self.baseline = float(baseline)
        self.rows = int(rows)
        self.validation_rows = int(validation_rows)
        self.learning_rate = float(learning_rate)
        #: The validation loss before the first tree and after each (scikit-learn's
        #: validation_score_, negated).
        self.validation_loss = (np.zeros(0) if validation_loss is None
                                else np.asarray(validation_loss, dtype=np.float64).reshape(-1))
        sizes = {len(a) for a in (self.left, self.right, self.feature, self.threshold, self.missing_left,
                                  self.value)}
        if len(sizes) != 1:
            raise ValueError("inconsistent gradient boosting arrays")

    @property
    def iterations(self) -> int:
        return len(self.offsets)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The raw score (log-odds of label 1) of each row."""
        X = np.asarray(X, dtype=np.float64)
        raw = np.zeros(len(X))
        raw += self.baseline
        if self.iterations:
            chunk = max(1, PATHS // self.iterations)
            for start in range(0, len(X), chunk):
                # Added tree by tree onto the baseline, as HistGradientBoostingClassifier._raw_predict.
                for tree_values in self.value[self.leaves(X[start:start + chunk])]:
                    raw[start:start + chunk] += tree_values
        return raw

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """(trees, rows) global index of the leaf each row reaches in each tree."""
        return leaf_index(np.asarray(X, dtype=np.float64), self.offsets, self.left, self.right, self.feature,
                          self.threshold, self.missing_left)

    def probability(self, X: np.ndarray) -> np.ndarray:
        from scipy.special import expit  # the very sigmoid of scikit-learn's predict_proba

        return expit(self.raw(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.probability(X) > 0.5).astype(np.int64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"left": self.left, "right": self.right, "feature": self.feature, "threshold": self.threshold,
                "missing_left": self.missing_left.astype(np.int8), "value": self.value,
                "offsets": self.offsets, "baseline": np.float64(self.baseline), "rows": np.int64(self.rows),
                "validation_rows": np.int64(self.validation_rows),
                "learning_rate": np.float64(self.learning_rate), "validation_loss": self.validation_loss}

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {
            "rows": self.rows, "validation_rows": self.validation_rows, "iterations": self.iterations,
            "learning_rate": self.learning_rate, "leaves": int((self.left < 0).sum()),
        }
        if len(self.validation_loss):
            details |= {"validation_loss_start": float(self.validation_loss[0]),
                        "validation_loss_best": float(self.validation_loss.min()),
                        "best_iteration": int(np.argmin(self.validation_loss))}
        return details

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


def load(arrays: dict[str, np.ndarray]) -> GradientBoosting:
    return GradientBoosting(
        arrays["left"], arrays["right"], arrays["feature"], arrays["threshold"],
        arrays["missing_left"].astype(bool), arrays["value"], arrays["offsets"], float(arrays["baseline"]),
        int(arrays["rows"]), int(arrays["validation_rows"]), float(arrays["learning_rate"]),
        arrays["validation_loss"])


def from_classifier(classifier: Any, rows: int, validation_rows: int) -> GradientBoosting:
    """The arrays of a fitted binary HistGradientBoostingClassifier (numerical features only)."""
    parts: dict[str, list[np.ndarray]] = {"left": [], "right": [], "feature": [], "threshold": [],
                                          "missing_left": [], "value": []}
    offsets, start = [], 0
    for (tree,) in classifier._predictors:
        nodes = tree.nodes
        if nodes["is_categorical"].any():
            raise ValueError("gradient_boosting: a categorical split cannot be exported")
        leaf = nodes["is_leaf"].astype(bool)
        offsets.append(start)
        parts["left"].append(np.where(leaf, -1, nodes["left"].astype(np.int64) + start))
        parts["right"].append(np.where(leaf, -1, nodes["right"].astype(np.int64) + start))
        parts["feature"].append(np.where(leaf, 0, nodes["feature_idx"].astype(np.int64)))
        parts["threshold"].append(np.where(leaf, 0.0, nodes["num_threshold"]))
        parts["missing_left"].append(nodes["missing_go_to_left"].astype(bool) & ~leaf)
        parts["value"].append(np.where(leaf, nodes["value"], 0.0))
        start += len(nodes)
    empty = [np.zeros(0, dtype=np.int64)]
    scores = getattr(classifier, "validation_score_", np.zeros(0))
    return GradientBoosting(*(np.concatenate(parts[key] or empty) for key in parts), np.asarray(offsets),
                            baseline=float(np.asarray(classifier._baseline_prediction).reshape(-1)[0]),
                            rows=rows, validation_rows=validation_rows,
                            learning_rate=float(classifier.learning_rate),
                            # scoring="loss": the score is the negated loss.
                            validation_loss=-np.asarray(scores, dtype=np.float64))


def fit(task: FitTask) -> list[GradientBoosting]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    settings = task.settings
    predictors = []
    for i, repeat in enumerate(tqdm(task.repeats, desc=f"gradient_boosting n={task.n}", file=sys.stderr)):
        random_state = streams.seed("gradient_boosting", seed=task.seed, n=task.n, repeat=repeat)
        X, y = task.part(i, "train")
        X_val, y_val = task.part(i, "validation")
        if set(np.unique(y).tolist()) != {0, 1}:
            raise ValueError(f"gradient_boosting n={task.n} repeat {repeat}: the training rows hold "
                             "one class only")
        classifier = HistGradientBoostingClassifier(
            max_iter=int(settings["max_iter"]), learning_rate=float(settings["learning_rate"]),
            max_leaf_nodes=int(settings["max_leaf_nodes"]), early_stopping=True, scoring="loss",
            n_iter_no_change=int(settings["patience"]), random_state=random_state,
        ).fit(X, y, X_val=X_val, y_val=y_val)
        predictor = from_classifier(classifier, len(y), len(y_val))
        log.info("gradient_boosting n=%d repeat %d: %s", task.n, repeat, predictor.details())
        predictors.append(predictor)
    return predictors
