"""k-nearest neighbours (scikit-learn's ``KNeighborsClassifier``, brute force) on the raw features.

Every bit sits near 0 or 1, so the rows form one cluster per cell of the 2^n bit patterns, and
a row's nearest training rows share its cell, and with it its parity, as long as the cell holds
k of them: kNN learns a parity without knowing which features make it. When the cells hold
fewer rows than k, the neighbours come from the cells one bit away, whose parity is the
opposite one whenever that bit is informative (2/3 of the bits): kNN is then *anti*-correlated
with the labels, far below chance (k = 15 on n = 12's 14400 training rows: 0.19). So a small k
suits a parity; k and the rows per cell decide the accuracy more than anything else (k = 1 on
10000 rows: 0.92 at n = 9, 0.86 at n = 12, below chance from n = 15, where most cells are
empty). Prediction compares each row with every stored training row, so it trains on a seeded
subsample of at most ``max_train_rows`` training rows.

The predictor is saved as the training rows it used, their labels and k, and rebuilt on load.
``probability`` is the fraction of the k neighbours labelled 1 (``predict_proba[:, 1]``, uniform
weights); ``predict`` is the majority (probability > 0.5), which for an even k gives a tie to
class 0 as scikit-learn's argmax does (an odd k has no ties). Neighbours at equal distances
are chosen as scikit-learn's brute-force search chooses them.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from kryptonite_n import streams
from kryptonite_n.contract import FitTask, sample_rows

#: Rows whose neighbours are searched at once (bounds the memory of a prediction).
CHUNK = 4096

log = logging.getLogger(__name__)


class Knn:
    """probability = mean label of the k training rows nearest to x (Euclidean)."""

    def __init__(self, X_train: np.ndarray, y_train: np.ndarray, neighbours: int) -> None:
        from sklearn.neighbors import KNeighborsClassifier

        self.X_train = np.asarray(X_train)
        self.y_train = np.asarray(y_train, dtype=np.int64).reshape(-1)
        self.neighbours = int(neighbours)
        if self.X_train.ndim != 2 or len(self.X_train) != len(self.y_train) \
                or not 1 <= self.neighbours <= len(self.y_train):
            raise ValueError(f"inconsistent kNN arrays: rows {self.X_train.shape}, "
                             f"labels {self.y_train.shape}, k = {self.neighbours}")
        self.classifier = KNeighborsClassifier(n_neighbors=self.neighbours, algorithm="brute", n_jobs=1)
        self.classifier.fit(self.X_train, self.y_train)
        # predict_proba's column of label 1 (none when the rows hold only 0s).
        ones = np.flatnonzero(self.classifier.classes_ == 1)
        self._column = int(ones[0]) if len(ones) else None

    def probability(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=self.X_train.dtype)
        out = np.zeros(len(X))
        if self._column is not None:
            for start in range(0, len(X), CHUNK):
                part = X[start:start + CHUNK]
                out[start:start + CHUNK] = self.classifier.predict_proba(part)[:, self._column]
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.probability(X) > 0.5).astype(np.int64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"X_train": self.X_train, "y_train": self.y_train, "neighbours": np.int64(self.neighbours)}

    def details(self) -> dict[str, Any]:
        return {"rows": len(self.y_train), "neighbours": self.neighbours}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


def load(arrays: dict[str, np.ndarray]) -> Knn:
    return Knn(arrays["X_train"], arrays["y_train"], int(arrays["neighbours"]))



def fit(task: FitTask) -> list[Knn]:
    settings = task.settings
    predictors = []
    for i, repeat in enumerate(tqdm(task.repeats, desc=f"knn n={task.n}", file=sys.stderr)):
        rng = streams.rng("knn", seed=task.seed, n=task.n, repeat=repeat)
        X, y = task.part(i, "train")
        rows = sample_rows(rng, len(y), settings["max_train_rows"])
        predictor = Knn(X[rows], y[rows], int(settings["neighbours"]))
        log.info("knn n=%d repeat %d: %s", task.n, repeat, predictor.details())
        predictors.append(predictor)
    return predictors
