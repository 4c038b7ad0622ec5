"""A support vector machine with an RBF kernel (scikit-learn's ``SVC``) on the raw features.

Every bit sits near 0 or 1, so the rows form clusters one unit apart, one per cell of the 2^n
bit patterns, and a parity gives neighbouring cells opposite labels when they differ in an
informative bit. A kernel local at that scale (gamma of 2 to 10: exp(-gamma) small one bit
away) separates the cells it has rows of, and learns the parity of n = 9 and much of n = 12 from
a few thousand rows (4000 rows, gamma 10: 0.95 and 0.75). scikit-learn's ``gamma="scale"``
(``gamma: None``), 1 / (n Var(X)) ≈ 4 / n, is wider than a bit (exp(-0.44) = 0.64 one bit away
at n = 9) and stays near chance (0.56 and 0.49). Its fit costs about the square of the rows
and its prediction rows x support vectors, so it trains on a seeded subsample of at most
``max_train_rows`` training rows.

The predictor outputs a label only: its decision value is a distance to the margin, not a
probability, and no Platt scaling is fitted, so it has no ``probability`` method. It is saved as
its support vectors, dual coefficients, intercept, the numeric gamma used and the two classes,
and predicts from them in NumPy as ``SVC.predict`` does (its decision values agree with
``SVC.decision_function`` to rounding: a row on the margin itself could go either way).
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

#: Kernel values computed at once (rows x support vectors; 32 MB of float64).
KERNEL_BLOCK = 2**22

log = logging.getLogger(__name__)


class SvmRbf:
    """label = classes[1] if sum_i dual_coef_i exp(-gamma ||sv_i - x||²) + intercept > 0 else classes[0]."""

    def __init__(self, support_vectors: np.ndarray, dual_coef: np.ndarray, intercept: float, gamma: float,
                 classes: np.ndarray, C: float, rows: int, iterations: int = 0) -> None:
        self.support_vectors = np.asarray(support_vectors, dtype=np.float64)
        self.dual_coef = np.asarray(dual_coef, dtype=np.float64).reshape(-1)
        self.intercept = float(intercept)
        self.gamma = float(gamma)
        self.classes = np.asarray(classes, dtype=np.int64).reshape(-1)
        self.C = float(C)
        self.rows = int(rows)
        self.iterations = int(iterations)
        if self.support_vectors.ndim != 2 or len(self.support_vectors) != len(self.dual_coef) \
                or len(self.classes) != 2:
            raise ValueError(f"inconsistent SVM arrays: support vectors {self.support_vectors.shape}, "
                             f"dual coefficients {self.dual_coef.shape}, classes {self.classes.shape}")
        self._sv_norms = np.einsum("ij,ij->i", self.support_vectors, self.support_vectors)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """SVC.decision_function: positive for classes[1]."""
        X = np.asarray(X, dtype=np.float64)
        out = np.empty(len(X))
        chunk = max(1, KERNEL_BLOCK // max(1, len(self.support_vectors)))
        for start in range(0, len(X), chunk):
            part = X[start:start + chunk]
            # ||x - sv||² as ||x||² + ||sv||² - 2 x·sv (one matrix product), never below 0.
            squared = np.einsum("ij,ij->i", part, part)[:, None] + self._sv_norms[None, :]
            squared -= 2.0 * (part @ self.support_vectors.T)
            np.maximum(squared, 0.0, out=squared)
            squared *= -self.gamma
            np.exp(squared, out=squared)
            out[start:start + chunk] = squared @ self.dual_coef + self.intercept
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes[(self.decision_function(X) > 0).astype(np.int64)]

    def arrays(self) -> dict[str, np.ndarray]:
        return {"support_vectors": self.support_vectors, "dual_coef": self.dual_coef,
                "intercept": np.float64(self.intercept), "gamma": np.float64(self.gamma),
                "classes": self.classes, "C": np.float64(self.C), "rows": np.int64(self.rows),
                "iterations": np.int64(self.iterations)}

    def details(self) -> dict[str, Any]:
        return {"rows": self.rows, "support_vectors": len(self.support_vectors), "C": self.C,
                "gamma": self.gamma, "iterations": self.iterations}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


def load(arrays: dict[str, np.ndarray]) -> SvmRbf:
    return SvmRbf(arrays["support_vectors"], arrays["dual_coef"], float(arrays["intercept"]),
                  float(arrays["gamma"]), arrays["classes"], float(arrays["C"]), int(arrays["rows"]),
                  int(arrays["iterations"]))



def fit(task: FitTask) -> list[SvmRbf]:
    from sklearn.svm import SVC

    settings = task.settings
    gamma = "scale" if settings["gamma"] is None else float(settings["gamma"])
    predictors = []
    for i, repeat in enumerate(tqdm(task.repeats, desc=f"svm_rbf n={task.n}", file=sys.stderr)):
        rng = streams.rng("svm_rbf", seed=task.seed, n=task.n, repeat=repeat)
        # The estimator's seed first, so that it does not depend on whether rows are sampled.
        random_state = int(rng.integers(2**31))
        X, y = task.part(i, "train")
        rows = sample_rows(rng, len(y), settings["max_train_rows"])
        X, y = np.asarray(X[rows], dtype=np.float64), y[rows]
        svc = SVC(C=float(settings["C"]), kernel="rbf", gamma=gamma, random_state=random_state).fit(X, y)
        if len(svc.classes_) != 2:
            raise ValueError(f"svm_rbf n={task.n} repeat {repeat}: the training rows hold one class only")
        predictor = SvmRbf(svc.support_vectors_, svc.dual_coef_[0], svc.intercept_[0], svc._gamma,
                           svc.classes_, float(settings["C"]), len(y), int(np.max(svc.n_iter_)))
        log.info("svm_rbf n=%d repeat %d: %s", task.n, repeat, predictor.details())
        predictors.append(predictor)
    return predictors
