"""What the trained networks look like: the thesis' tool applied to the Kryptonite-N MLPs.

* Weight matrices (``nets.perceptron.layers``): per layer the Frobenius norm and the singular
  values (largest, smallest, their ratio: the condition number).
* Gradients: per layer the share of exactly-zero entries among the per-example gradients of
  the loss with respect to the layer's parameters (weights and biases) on the test split, and
  the share of parameters whose gradient is zero on every test example (dead: no test point
  moves them). ReLU zeroes gradients below the kink; tanh (and sigmoid) zero them only when
  the float32 activation saturates; ELU practically never.
* Activation comparison: the n's network trained again with each configured activation under
  the same settings and seeds (same initial weights, same shuffles: the fit driver with the
  activation overridden), scored for robustness (``kryptonite_n.compute.attacks``) and the statistics
  above.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.compute.nets.perceptron import activate, layers

log = logging.getLogger(__name__)

LAYER_COLUMNS = ["n", "activation", "repeat", "layer", "rows", "columns", "frobenius", "sigma_max",
                 "sigma_min", "condition", "zero_grad_share", "dead_share", "test_acc"]
ROBUSTNESS_COLUMNS = ["n", "activation", "repeat", "scope", "attack", "bound", "eps", "clean_acc",
                      "robust_acc", "label_preserving_acc", "points", "label_preserving_points"]


# --------------------------------------------------------------------------- weight matrices


def matrix_statistics(W: np.ndarray) -> dict[str, float]:
    """Frobenius norm and extreme singular values of one weight matrix."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.size == 0:
        raise ValueError(f"expected a non-empty matrix, got shape {W.shape}")
    singular = np.linalg.svd(W, compute_uv=False)
    sigma_max, sigma_min = float(singular.max()), float(singular.min())
    return {
        "rows": W.shape[0], "columns": W.shape[1],
        "frobenius": float(np.linalg.norm(W)),
        "sigma_max": sigma_max, "sigma_min": sigma_min,
        "condition": sigma_max / sigma_min if sigma_min > 0 else float("inf"),
    }


# --------------------------------------------------------------------------- gradients


def _mlp_parameters(predictor: Any) -> dict[str, Any]:
    import torch

    return {name: torch.from_numpy(np.asarray(getattr(predictor, name), dtype=np.float32))
            for name in ("W1", "b1", "W2", "b2")}


def per_example_gradients(predictor: Any, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Gradients of each example's log loss with respect to the MLP's parameters (autograd).

    ``predictor`` is a ``kryptonite_n.compute.nets.perceptron.MLPPredictor``; the forward pass is its own
    (standardise, hidden layer through ``perceptron.activate``, output), in its float32.
    """
    import torch
    from torch.func import grad, vmap

    params = _mlp_parameters(predictor)
    mean = torch.from_numpy(np.asarray(predictor.mean, dtype=np.float32))
    std = torch.from_numpy(np.asarray(predictor.std, dtype=np.float32))

    def loss(p: dict[str, Any], x: Any, target: Any) -> Any:
        hidden = activate(predictor.activation, (x - mean) / std @ p["W1"] + p["b1"])
        z = hidden @ p["W2"] + p["b2"]
        return torch.nn.functional.binary_cross_entropy_with_logits(z, target)

    X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    y_t = torch.from_numpy(np.asarray(y, dtype=np.float32))
    return vmap(grad(loss), in_dims=(None, 0, 0))(params, X_t, y_t)


#: The parameters of each layer, as named by ``perceptron.layers``.
LAYER_PARAMETERS = {"hidden": ("W1", "b1"), "output": ("W2", "b2")}


def zero_gradient_shares(predictor: Any, X: np.ndarray, y: np.ndarray,
                         chunk: int = 2048) -> dict[str, dict[str, float]]:
    """Per layer: share of exactly-zero per-example gradient entries, and of always-zero parameters."""
    import torch

    zeros = dict.fromkeys(LAYER_PARAMETERS, 0)
    entries = dict.fromkeys(LAYER_PARAMETERS, 0)
    alive: dict[str, Any] = {}
    for start in range(0, len(X), chunk):
        grads = per_example_gradients(predictor, X[start:start + chunk], y[start:start + chunk])
        for layer, names in LAYER_PARAMETERS.items():
            flat = torch.cat([grads[name].reshape(len(grads[name]), -1) for name in names], dim=1)
            zeros[layer] += int((flat == 0).sum())
            entries[layer] += flat.numel()
            moved = (flat != 0).any(dim=0)
            alive[layer] = moved if layer not in alive else alive[layer] | moved
    return {
        layer: {"zero_grad_share": zeros[layer] / entries[layer] if entries[layer] else float("nan"),
                "dead_share": float((~alive[layer]).float().mean()) if layer in alive else float("nan")}
        for layer in LAYER_PARAMETERS
    }


def analyse_mlp(predictor: Any, X_test: np.ndarray, y_test: np.ndarray) -> pd.DataFrame:
    """One row per layer: matrix statistics, gradient shares and the test accuracy."""

    test_acc = float(np.mean(predictor.predict(X_test) == y_test))
    shares = zero_gradient_shares(predictor, X_test, y_test)
    rows = []
    for layer, W in layers(predictor):
        rows.append({"layer": layer, **matrix_statistics(W), **shares.get(layer, {}), "test_acc": test_acc})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the analysis job


