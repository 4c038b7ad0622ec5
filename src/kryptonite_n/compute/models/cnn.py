"""A small 1-D convolutional network on the raw features, read as a sequence of n values.

(x - mean) / std, one channel of length n -> Conv1d(1, channels, kernel) -> ReLU ->
Conv1d(channels, channels, kernel) -> ReLU -> flatten -> Linear(channels * n, 1) -> the logit
of label 1 (both convolutions padded to keep length n). The features of a Kryptonite-N parity
are scattered over the row in no order, and the last layer is linear: the network is a sum of
functions of windows of 2 (kernel - 1) + 1 positions. With a kernel of 3 (windows of 5) no
window holds the 6 bits of n = 9's parity, so its sign cannot express that parity (the sign
of a polynomial needs the parity's own degree-6 term), and it stays at chance; a kernel wide
enough for a window to span the row (9, up to n = 17) learns the parity of n = 9 in a few epochs.

Trained with Adam on the binary cross-entropy in mini-batches, on a seeded subsample of at
most ``max_train_rows`` training rows, for at most ``epochs`` epochs; after each epoch the loss
on the repeat's validation rows is measured, the weights of the best epoch are kept, and
training stops ``patience`` epochs after it (so this model reads the validation rows). On a
parity the validation loss first rises for several epochs (the network fits the noise) before
it falls, so a short patience stops it at chance (at n = 12, patience 5 stops at epoch 6; 15
lets it reach 0.85 by epoch 60).

The initial weights (PyTorch's default ranges, uniform in ±1/sqrt(fan-in), drawn in NumPy) and
every epoch's order come from the model's own stream, and nothing draws from torch's global
generator, so the same task gives the same arrays (with the same number of threads).
``logit`` is differentiable torch code on raw features, for gradient attacks.
"""

from __future__ import annotations

import logging
import math
import sys
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from kryptonite_n import streams
from kryptonite_n.contract import FitTask, sample_rows

#: The network's parameters, in the order ``logit`` takes them.
PARAMETERS = ("conv1_weight", "conv1_bias", "conv2_weight", "conv2_bias", "linear_weight", "linear_bias")
#: Rows evaluated at once outside training (bounds the memory of a prediction).
CHUNK = 8192

log = logging.getLogger(__name__)


def forward(X: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, conv1_weight: torch.Tensor,
            conv1_bias: torch.Tensor, conv2_weight: torch.Tensor, conv2_bias: torch.Tensor,
            linear_weight: torch.Tensor, linear_bias: torch.Tensor) -> torch.Tensor:
    """Logits (rows,) of raw features X (rows, n); differentiable in X and in the parameters."""
    hidden = ((X - mean) / std).unsqueeze(1)
    hidden = torch.relu(torch.nn.functional.conv1d(hidden, conv1_weight, conv1_bias, padding="same"))
    hidden = torch.relu(torch.nn.functional.conv1d(hidden, conv2_weight, conv2_bias, padding="same"))
    return hidden.flatten(1) @ linear_weight + linear_bias


class CnnPredictor:
    """sigmoid(network((x - mean) / std)) on raw features x; parameters as float32 arrays."""

    def __init__(self, parameters: dict[str, np.ndarray], mean: np.ndarray, std: np.ndarray,
                 summary: dict[str, Any] | None = None) -> None:
        self.parameters = {name: np.asarray(parameters[name], dtype=np.float32) for name in PARAMETERS}
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        channels, _, kernel = self.parameters["conv1_weight"].shape
        n = len(self.mean)
        expected = {"conv1_weight": (channels, 1, kernel), "conv1_bias": (channels,),
                    "conv2_weight": (channels, channels, kernel), "conv2_bias": (channels,),
                    "linear_weight": (channels * n,), "linear_bias": ()}
        shapes = {name: self.parameters[name].shape for name in PARAMETERS}
        if shapes != expected or self.std.shape != (n,):
            raise ValueError(f"inconsistent CNN shapes: {shapes}, mean {self.mean.shape}, "
                             f"std {self.std.shape}")
        self.summary = dict(summary or {})
        self._tensors: dict[torch.dtype, tuple[torch.Tensor, ...]] = {}

    @property
    def n(self) -> int:
        return len(self.mean)

    @property
    def channels(self) -> int:
        return int(self.parameters["conv1_weight"].shape[0])

    @property
    def kernel_size(self) -> int:
        return int(self.parameters["conv1_weight"].shape[2])

    def _params(self, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        if dtype not in self._tensors:
            self._tensors[dtype] = tuple(
                torch.from_numpy(array).to(dtype)
                for array in (self.mean, self.std, *(self.parameters[name] for name in PARAMETERS)))
        return self._tensors[dtype]

    def logit(self, X: torch.Tensor) -> torch.Tensor:
        """Logits (rows,) of raw features X; differentiable in X; computed in X's dtype."""
        return forward(X, *self._params(X.dtype))

    def _logits(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        out = np.empty(len(X), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(X), CHUNK):
                out[start:start + CHUNK] = self.logit(torch.from_numpy(X[start:start + CHUNK])).numpy()
        return out

    def probability(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self._logits(X).astype(np.float64)))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self._logits(X) > 0).astype(np.int64)

    def arrays(self) -> dict[str, np.ndarray]:
        summary = {key: np.asarray(self.summary[key]) for key in SUMMARY if key in self.summary}
        return {**self.parameters, "mean": self.mean, "std": self.std, **summary}

    def details(self) -> dict[str, Any]:
        return {"channels": self.channels, "kernel_size": self.kernel_size,
                "parameters": int(sum(a.size for a in self.parameters.values())), **self.summary}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


#: The training's summary, saved with the parameters: name -> type.
SUMMARY = {"rows": int, "validation_rows": int, "epochs": int, "best_epoch": int,
           "best_validation_loss": float, "best_validation_acc": float}


def load(arrays: dict[str, np.ndarray]) -> CnnPredictor:
    summary = {key: kind(arrays[key]) for key, kind in SUMMARY.items() if key in arrays}
    return CnnPredictor({name: arrays[name] for name in PARAMETERS}, arrays["mean"], arrays["std"], summary)



def initial_parameters(rng: np.random.Generator, n: int, channels: int, kernel: int) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation of Conv1d and Linear: uniform in ±1/sqrt(fan-in)."""
    shapes = {"conv1_weight": ((channels, 1, kernel), kernel), "conv1_bias": ((channels,), kernel),
              "conv2_weight": ((channels, channels, kernel), channels * kernel),
              "conv2_bias": ((channels,), channels * kernel),
              "linear_weight": ((channels * n,), channels * n), "linear_bias": ((), channels * n)}
    return {name: np.asarray(rng.uniform(-1, 1, size=shape) / math.sqrt(fan_in), dtype=np.float32)
            for name, (shape, fan_in) in shapes.items()}


def fit_repeat(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
               settings: dict[str, Any], rng: np.random.Generator) -> CnnPredictor:
    """Train one network on (X, y), early-stopped on the validation loss."""
    mean = X.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = X.std(axis=0, dtype=np.float64).astype(np.float32)
    std[std == 0] = 1.0
    initial = initial_parameters(rng, X.shape[1], int(settings["channels"]), int(settings["kernel_size"]))
    params = [torch.from_numpy(initial[name]).requires_grad_() for name in PARAMETERS]
    optimizer = torch.optim.Adam(params, lr=float(settings["lr"]))
    loss_function = torch.nn.BCEWithLogitsLoss()
    X_t, y_t = (torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) for a in (X, y))
    X_v, y_v = (torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) for a in (X_val, y_val))
    mean_t, std_t = torch.from_numpy(mean), torch.from_numpy(std)
    batch = int(settings["batch_size"])
    best = {"loss": math.inf, "acc": math.nan, "epoch": 0, "params": [p.detach().clone() for p in params]}
    epoch = 0
    for epoch in range(1, int(settings["epochs"]) + 1):
        order = torch.from_numpy(rng.permutation(len(y)))
        for start in range(0, len(y), batch):
            rows = order[start:start + batch]
            optimizer.zero_grad()
            loss = loss_function(forward(X_t[rows], mean_t, std_t, *params), y_t[rows])
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            logits = torch.cat([forward(X_v[s:s + CHUNK], mean_t, std_t, *params)
                                for s in range(0, len(y_val), CHUNK)])
            validation_loss = float(loss_function(logits, y_v))
        if validation_loss < best["loss"]:
            best = {"loss": validation_loss, "acc": float(((logits > 0).float() == y_v).float().mean()),
                    "epoch": epoch, "params": [p.detach().clone() for p in params]}
        elif epoch - best["epoch"] >= int(settings["patience"]):
            break
    summary = {"rows": len(y), "validation_rows": len(y_val), "epochs": epoch, "best_epoch": best["epoch"],
               "best_validation_loss": best["loss"], "best_validation_acc": best["acc"]}
    return CnnPredictor({name: p.numpy() for name, p in zip(PARAMETERS, best["params"], strict=True)},
                        mean, std, summary)


def fit(task: FitTask) -> list[CnnPredictor]:
    settings = task.settings
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, int(task.threads)))
    try:
        predictors = []
        for i, repeat in enumerate(tqdm(task.repeats, desc=f"cnn n={task.n}", file=sys.stderr)):
            rng = streams.rng("cnn", seed=task.seed, n=task.n, repeat=repeat)
            X, y = task.part(i, "train")
            rows = sample_rows(rng, len(y), settings["max_train_rows"])
            predictor = fit_repeat(X[rows], y[rows], *task.part(i, "validation"), settings, rng)
            log.info("cnn n=%d repeat %d: %s", task.n, repeat, predictor.details())
            predictors.append(predictor)
        return predictors
    finally:
        torch.set_num_threads(previous_threads)
