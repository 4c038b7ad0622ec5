"""The MLP as a fitted predictor: the response paper's one hidden layer (or the tuned MLP's two),
sigmoid output.

``MLPPredictor.logit`` is ordinary autograd-friendly torch code on raw features, for attacks
and network analysis; training lives in ``kryptonite_n.compute.nets.training``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch

from kryptonite_n.stats import logistic

ACTIVATIONS = ("elu", "tanh", "relu", "sigmoid")

#: log2(e): ELU and tanh are computed with exp2 (see ``activate``).
_LOG2E = math.log2(math.e)


def activate(name: str, a: torch.Tensor) -> torch.Tensor:
    """The hidden activation, written with fast vectorised primitives; differentiable.

    ELU as (2^(log2(e) min(a, 0)) - 1) + relu(a) and tanh as 2 sigmoid(2a) - 1 agree with torch's
    own functions to ~1e-7 and run several times faster on CPUs where torch's expm1 and tanh
    are not vectorised (training spends most of its time here).
    """
    if name == "elu":
        return (torch.exp2(torch.clamp(a, max=0.0) * _LOG2E) - 1.0) + torch.relu(a)
    if name == "tanh":
        return torch.sigmoid(a * 2.0) * 2.0 - 1.0
    if name == "relu":
        return torch.relu(a)
    if name == "sigmoid":
        return torch.sigmoid(a)
    raise ValueError(f"unknown MLP activation {name!r}; expected one of {ACTIVATIONS}")


class MLPPredictor:
    """sigmoid(W2 · act(W1ᵀ (x - mean) / std + b1) + b2) on raw features x; with ``second`` =
    (V, c), a second hidden layer act(Vᵀ h + c) between them (V: (H, H)).

    ``history`` (one row per epoch) holds the training loss and accuracy as the running
    average over the epoch's mini-batches in train mode (dropout on, weights changing), and
    the validation loss and accuracy of the weights at the end of the epoch in eval mode.
    """

    def __init__(self, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: float | np.ndarray,
                 mean: np.ndarray, std: np.ndarray, activation: str,
                 history: pd.DataFrame | None = None, summary: dict[str, Any] | None = None,
                 second: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown MLP activation {activation!r}; expected one of {ACTIVATIONS}")
        self.W1 = np.asarray(W1, dtype=np.float32)
        self.b1 = np.asarray(b1, dtype=np.float32).reshape(-1)
        self.W2 = np.asarray(W2, dtype=np.float32).reshape(-1)
        self.b2 = np.asarray(b2, dtype=np.float32).reshape(())
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        self.activation = str(activation)
        n, hidden = self.W1.shape
        if self.b1.shape != (hidden,) or self.W2.shape != (hidden,) or self.mean.shape != (n,) \
                or self.std.shape != (n,):
            raise ValueError(f"inconsistent MLP shapes: W1 {self.W1.shape}, b1 {self.b1.shape}, "
                             f"W2 {self.W2.shape}, mean {self.mean.shape}, std {self.std.shape}")
        self.V = self.c = None
        if second is not None:
            self.V = np.asarray(second[0], dtype=np.float32)
            self.c = np.asarray(second[1], dtype=np.float32).reshape(-1)
            if self.V.shape != (hidden, hidden) or self.c.shape != (hidden,):
                raise ValueError(f"inconsistent MLP second layer: V {self.V.shape}, c {self.c.shape}, "
                                 f"expected ({hidden}, {hidden}) and ({hidden},)")
        self.history = history
        self.summary = dict(summary or {})
        self._tensors: dict[torch.dtype, tuple[torch.Tensor, ...]] = {}

    @property
    def n(self) -> int:
        return int(self.W1.shape[0])

    @property
    def hidden_units(self) -> int:
        return int(self.W1.shape[1])

    @property
    def layers(self) -> int:
        return 1 if self.V is None else 2

    def _params(self, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        if dtype not in self._tensors:
            self._tensors[dtype] = tuple(
                torch.from_numpy(array).to(dtype)
                for array in (self.mean, self.std, self.W1, self.b1, self.W2, self.b2,
                              *((self.V, self.c) if self.V is not None else ()))
            )
        return self._tensors[dtype]

    def logit(self, X: torch.Tensor) -> torch.Tensor:
        """Logits (rows,) of raw features X; differentiable in X; computed in X's dtype."""
        mean, std, W1, b1, W2, b2, *second = self._params(X.dtype)
        hidden = activate(self.activation, torch.addmm(b1, (X - mean) / std, W1))
        if second:
            hidden = activate(self.activation, torch.addmm(second[1], hidden, second[0]))
        return hidden @ W2 + b2

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits of raw features X, as a float32 NumPy array."""
        with torch.no_grad():
            return self.logit(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))).numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.logits(X) > 0).astype(np.int64)

    def probability(self, X: np.ndarray) -> np.ndarray:
        return logistic(self.logits(X))

    def arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2, "mean": self.mean, "std": self.std,
            "activation": np.asarray(self.activation, dtype=np.str_),
        }
        if self.V is not None:
            arrays |= {"V": self.V, "c": self.c}
        return arrays

    def details(self) -> dict[str, Any]:
        return {"activation": self.activation, "hidden_units": self.hidden_units,
                **({"layers": 2} if self.V is not None else {}), **self.summary}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {} if self.history is None else {"history": self.history}


def load(arrays: dict[str, np.ndarray]) -> MLPPredictor:
    second = (arrays["V"], arrays["c"]) if "V" in arrays else None
    return MLPPredictor(arrays["W1"], arrays["b1"], arrays["W2"], arrays["b2"], arrays["mean"],
                        arrays["std"], str(np.asarray(arrays["activation"]).item()), second=second)


def layers(predictor: MLPPredictor) -> list[tuple[str, np.ndarray]]:
    """The weight matrices, input side first, shaped (inputs, outputs): for norms and spectra."""
    if predictor.V is None:
        return [("hidden", predictor.W1), ("output", predictor.W2[:, None])]
    return [("hidden1", predictor.W1), ("hidden2", predictor.V), ("output", predictor.W2[:, None])]
