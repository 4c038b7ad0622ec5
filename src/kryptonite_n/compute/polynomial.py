"""Polynomial-basis logistic regression (the polynomial LR model): the response paper's
interaction-only model, streamed.

Inputs are standardised with training statistics and expanded into every interaction-only
monomial with a degree in [min_degree, max_degree]; a logistic regression with an L1 or L2
penalty is fitted by minibatch SGD, as the paper did with scikit-learn's ``SGDClassifier``
(objective: mean log loss + alpha * R(w), R = ||w||_1 or ||w||^2 / 2, intercept unpenalised).

The expanded matrix is never built (31180 monomials x 21600 rows at n = 18):
``kryptonite_n.compute.monomial_basis.MonomialBasis`` computes the decision function and its gradient
from half products, which is exact. L1 uses a proximal (soft-threshold) step, so unused
monomials get true zeros, and the saved model keeps only the nonzero ones.

The degree range is configured per n (the response paper's table). For an n without its own
row (``min_degree``/``max_degree`` null), it is taken from each repeat's training rows
(``support_degrees``): the size k of the parity that the GF(2) search finds on the training
bits (each feature thresholded between its two levels), and the degrees k - 1 .. k + 1 around
it, so that the model still has to find *which* monomial of about that size carries the label.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from kryptonite_n import streams
from kryptonite_n.compute.explore import feature_thresholds
from kryptonite_n.compute.gf2 import search_parity
from kryptonite_n.compute.monomial_basis import MonomialBasis
from kryptonite_n.compute.monomials import check_monomials, enumerate_monomials, monomial_label
from kryptonite_n.contract import FitTask
from kryptonite_n.plan.limits import SUPPORT_WINDOW
from kryptonite_n.stats import logistic

log = logging.getLogger(__name__)

#: Rows of the coefficients table (largest |coefficient| first).
TOP_COEFFICIENTS = 50
#: Rows per chunk when predicting, to bound memory on large sets.
PREDICT_CHUNK = 8192


@dataclass
class PolyLogregPredictor:
    """A fitted model: standardisation, the nonzero monomials and their coefficients."""

    mean: np.ndarray
    scale: np.ndarray
    monomials: np.ndarray  # (kept monomials x n) bool incidence
    coefficients: np.ndarray
    intercept: float
    min_degree: int
    max_degree: int
    penalty: str
    alpha: float
    monomials_total: int
    epoch_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: How the degree range was chosen, and any doubt about it (for metrics.json and the note).
    degree_source: str = "configured"
    warning: str = ""

    def __post_init__(self) -> None:
        self.monomials = np.asarray(self.monomials, dtype=bool).reshape(-1, len(self.mean))
        self.coefficients = np.asarray(self.coefficients, dtype=np.float32)
        self._basis = MonomialBasis(self.monomials) if len(self.monomials) else None
        self._matrices: dict[torch.dtype, torch.Tensor] = {}

    def _matrix(self, dtype: torch.dtype) -> torch.Tensor:
        if dtype not in self._matrices:
            self._matrices[dtype] = self._basis.to_matrix(self.coefficients, dtype=dtype)
        return self._matrices[dtype]

    def logit(self, X: torch.Tensor) -> torch.Tensor:
        """The decision function on raw features, differentiable in X."""
        mean = torch.as_tensor(self.mean, dtype=X.dtype)
        scale = torch.as_tensor(self.scale, dtype=X.dtype)
        standard = (X - mean) / scale
        if self._basis is None:
            return standard.sum(dim=1) * 0 + self.intercept
        left, right = self._basis.halves(standard)
        return self._basis.decision(left, right, self._matrix(X.dtype)) + self.intercept

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        with torch.no_grad():
            parts = [self.logit(torch.from_numpy(X[start:start + PREDICT_CHUNK])).numpy()
                     for start in range(0, len(X), PREDICT_CHUNK)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(np.int64)

    def probability(self, X: np.ndarray) -> np.ndarray:
        return logistic(self.decision_function(X))

    def ranking(self) -> np.ndarray:
        """Kept monomials by decreasing |coefficient| (ties keep enumeration order)."""
        return np.argsort(-np.abs(self.coefficients), kind="stable")

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "mean": self.mean, "scale": self.scale,
            "monomials": self.monomials.astype(np.uint8), "coefficients": self.coefficients,
            "intercept": np.float64(self.intercept),
            "degrees": np.array([self.min_degree, self.max_degree], dtype=np.int64),
            "penalty": np.array(self.penalty), "alpha": np.float64(self.alpha),
            "monomials_total": np.int64(self.monomials_total),
            "epoch_losses": np.asarray(self.epoch_losses, dtype=np.float64),
        }

    def details(self) -> dict[str, Any]:
        order = self.ranking()
        magnitudes = np.abs(self.coefficients)
        top = order[0] if len(order) else None
        return {
            "monomials": self.monomials_total,
            "nonzero_coefficients": len(self.coefficients),
            "min_degree": self.min_degree, "max_degree": self.max_degree,
            "penalty": self.penalty, "alpha": self.alpha,
            "top_monomial": [] if top is None else np.flatnonzero(self.monomials[top]).tolist(),
            "top_coefficient": None if top is None else float(self.coefficients[top]),
            # How much of the model the top monomial is: near 1 when L1 finds the parity term.
            "top_share": None if top is None else float(magnitudes[top] / magnitudes.sum()),
            "intercept": float(self.intercept),
            "epochs": len(self.epoch_losses),
            "final_train_loss": float(self.epoch_losses[-1]) if len(self.epoch_losses) else None,
            "degree_source": self.degree_source,
            **({"warning": self.warning} if self.warning else {}),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        order = self.ranking()[:TOP_COEFFICIENTS]
        return {"coefficients": pd.DataFrame({
            "rank": np.arange(1, len(order) + 1),
            "monomial": [monomial_label(np.flatnonzero(self.monomials[j])) for j in order],
            "degree": self.monomials[order].sum(axis=1).astype(int),
            "coefficient": self.coefficients[order],
        })}


def load(arrays: dict[str, np.ndarray]) -> PolyLogregPredictor:
    degrees = arrays["degrees"]
    return PolyLogregPredictor(
        mean=arrays["mean"], scale=arrays["scale"], monomials=arrays["monomials"].astype(bool),
        coefficients=arrays["coefficients"], intercept=float(arrays["intercept"]),
        min_degree=int(degrees[0]), max_degree=int(degrees[1]), penalty=str(arrays["penalty"]),
        alpha=float(arrays["alpha"]), monomials_total=int(arrays["monomials_total"]),
        epoch_losses=arrays["epoch_losses"],
    )


def standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training mean and (population) standard deviation; constant features keep scale 1."""
    mean = X.mean(axis=0, dtype=np.float64)
    scale = X.std(axis=0, dtype=np.float64)
    return mean, np.where(scale > 0, scale, 1.0)


def learning_rate(base: float, step: int, total: int) -> float:
    """Constant for the first half, then linear decay to a tenth: settles the SGD noise."""
    half = total / 2
    if step < half:
        return base
    return base * (1.0 - 0.9 * (step - half) / max(total - half, 1))


def train_sgd(basis: MonomialBasis, X: np.ndarray, y: np.ndarray, settings: dict[str, Any],
              rng: np.random.Generator, progress: tqdm | None = None
              ) -> tuple[np.ndarray, float, list[float]]:
    """Minibatch SGD on the penalised log loss over ``basis`` monomials of standardised X.

    Returns the coefficient vector (basis order), the intercept and the mean training log
    loss of each epoch (measured on the batches as they were visited).
    """
    left_all, right_all = basis.halves(torch.from_numpy(np.asarray(X, dtype=np.float32)))
    target = torch.from_numpy(np.asarray(y, dtype=np.float32))
    rows = len(target)
    batch = int(settings["batch_size"])
    epochs = int(settings["epochs"])
    alpha = float(settings["alpha"])
    l1 = settings["penalty"] == "l1"
    steps = epochs * math.ceil(rows / batch)
    matrix = torch.zeros(basis.shape)
    intercept = torch.zeros(())
    losses: list[float] = []
    step = 0
    for _epoch in range(epochs):
        order = torch.from_numpy(rng.permutation(rows))
        total_loss = 0.0
        for start in range(0, rows, batch):
            index = order[start:start + batch]
            left, right, truth = left_all[index], right_all[index], target[index]
            logit = basis.decision(left, right, matrix) + intercept
            total_loss += float(torch.nn.functional.binary_cross_entropy_with_logits(
                logit, truth, reduction="sum"))
            residual = torch.sigmoid(logit) - truth
            gradient = basis.gradient(left, right, residual) / len(index)
            rate = learning_rate(float(settings["learning_rate"]), step, steps)
            if l1:
                matrix.sub_(rate * gradient)
                # Proximal step of rate * alpha * ||w||_1: exact zeros, as SGDClassifier's L1 gives.
                matrix = torch.sign(matrix) * torch.clamp(matrix.abs() - rate * alpha, min=0.0)
            else:
                matrix.mul_(1.0 - rate * alpha).sub_(rate * gradient)
            intercept -= rate * residual.mean()
            step += 1
        losses.append(total_loss / rows)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(loss=f"{losses[-1]:.4f}")
    return basis.coefficients(matrix), float(intercept), losses


def support_degrees(X: np.ndarray, y: np.ndarray, n: int, seed: int, repeat: int,
                    window: int) -> tuple[int, int, str, str]:
    """The degree range taken from training rows: the parity size k that the GF(2) search finds
    on them, and k - window .. k + window (within 1..n). Returns the range, how it was found,
    and a warning when the search found no parity clearly better than chance."""

    rng = streams.rng("support_search", seed=seed, n=n, repeat=repeat)
    w, summary = search_parity(np.asarray(X) > feature_thresholds(X), y, extra_rows=4, rng=rng,
                               max_subsets=2000, miss_probability=1e-6)
    k = max(1, int(np.count_nonzero(w[:n])))
    low, high = max(1, k - window), min(n, k + window)
    source = f"training rows: GF(2) parity of {k} features found, degrees {low}..{high}"
    warning = "" if summary["better_than_chance"] else (
        f"polynomial LR: the GF(2) search found no parity clearly better than chance on the training "
        f"rows of repeat {repeat}, so its degree range {low}..{high} is a guess")
    return low, high, source, warning


def fit(task: FitTask) -> list[PolyLogregPredictor]:

    settings = task.settings
    configured = settings.get("min_degree") is not None and settings.get("max_degree") is not None
    bases: dict[tuple[int, int], tuple[int, np.ndarray, MonomialBasis]] = {}

    def basis_of(low: int, high: int) -> tuple[int, np.ndarray, MonomialBasis]:
        if (low, high) not in bases:
            total = check_monomials(task.n, low, high, int(settings["max_monomials"]))
            incidence = enumerate_monomials(task.n, low, high)
            bases[low, high] = (total, incidence, MonomialBasis(incidence))
            log.info("polynomial LR n=%d: %d monomials of degree %d..%d, factor matrix %s",
                     task.n, total, low, high, bases[low, high][2].shape)
        return bases[low, high]

    predictors = []
    with tqdm(total=len(task.repeats) * int(settings["epochs"]), file=sys.stderr,
              desc=f"polynomial LR n={task.n} epochs", mininterval=5) as progress:
        for i, repeat in enumerate(task.repeats):
            X, y = task.part(i, "train")
            if configured:
                min_degree, max_degree = int(settings["min_degree"]), int(settings["max_degree"])
                source, warning = "configured", ""
            else:
                min_degree, max_degree, source, warning = support_degrees(
                    X, y, task.n, task.seed, repeat, SUPPORT_WINDOW)
                log.info("repeat %d: %s", repeat, source)
            total, incidence, basis = basis_of(min_degree, max_degree)
            mean, scale = standardise(X)
            rng = streams.rng("polynomial_training", seed=task.seed, n=task.n, repeat=repeat)
            coefficients, intercept, losses = train_sgd(
                basis, (X - mean) / scale, y, settings, rng, progress)
            kept = np.flatnonzero(coefficients)
            predictors.append(PolyLogregPredictor(
                mean=mean, scale=scale, monomials=incidence[kept], coefficients=coefficients[kept],
                intercept=intercept, min_degree=min_degree, max_degree=max_degree,
                penalty=str(settings["penalty"]), alpha=float(settings["alpha"]),
                monomials_total=total, epoch_losses=np.array(losses),
                degree_source=source, warning=warning,
            ))
            log.info("repeat %d: %d nonzero coefficients, final train loss %.4f",
                     repeat, len(kept), losses[-1])
    return predictors
