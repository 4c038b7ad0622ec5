"""The tuned MLP's network and trainer (the tuned model; the search is ``kryptonite_n.tuning``).

A wider family than the response paper's network: one or two hidden layers, ReLU, tanh, ELU or
GELU, SGD with momentum, Adam or AdamW, weight decay, dropout. The same trainer scores the
search's trials (one network on one split) and refits the winner (one network per repeat), so
the refit is the network the search measured.

The repeats of one n train together: their parameters are stacked along a leading repeat axis
and every layer is one batched product (``torch.baddbmm``) with ordinary autograd. The three
optimisers act elementwise (weight decay too), and the loss is the sum of the repeats' mean
losses, so each repeat gets exactly the gradient of its own loss. Each repeat has its own
seeded initialisation, shuffling and dropout stream, and its own early stopping: a repeat
whose patience ran out keeps its best-validation weights, whatever the others still do.
"""

from __future__ import annotations

import itertools
import logging
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

ACTIVATIONS = ("relu", "tanh", "elu", "gelu")
OPTIMIZERS = ("sgd", "adam", "adamw")

#: Settings a search did not choose fall back to these (the paper's n = 9 row where it has one).
DEFAULTS: dict[str, Any] = {
    "hidden_units": 72, "layers": 1, "activation": "elu", "optimizer": "sgd", "lr": 0.01,
    "momentum": 0.9, "weight_decay": 0.0, "dropout": 0.0, "batch_size": 128,
    "max_epochs": 1000, "patience": 200,
}

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8

log = logging.getLogger(__name__)

#: Called after every epoch with (epoch, validation accuracy per repeat); returning True stops
#: the training (the tuning pruner's hook).
EpochHook = Callable[[int, np.ndarray], bool]


def activate(name: str, a: torch.Tensor) -> torch.Tensor:
    if name == "relu":
        return torch.relu(a)
    if name == "tanh":
        return torch.tanh(a)
    if name == "elu":
        return torch.nn.functional.elu(a)
    if name == "gelu":
        return torch.nn.functional.gelu(a)
    raise ValueError(f"unknown tuned-MLP activation {name!r}; expected one of {ACTIVATIONS}")


def resolve_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The given settings over the defaults, checked; raise ValueError naming a bad key."""
    resolved = {**DEFAULTS, **settings}
    unknown = sorted(set(resolved) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"tuned MLP: unknown settings {unknown}; expected keys of {sorted(DEFAULTS)}")
    if resolved["activation"] not in ACTIVATIONS:
        raise ValueError(f"tuned-MLP setting 'activation'={resolved['activation']!r}: "
                         f"expected one of {ACTIVATIONS}")
    if resolved["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"tuned-MLP setting 'optimizer'={resolved['optimizer']!r}: "
                         f"expected one of {OPTIMIZERS}")
    if int(resolved["layers"]) not in (1, 2):
        raise ValueError(f"tuned-MLP setting 'layers'={resolved['layers']!r}: expected 1 or 2")
    if not 0.0 <= float(resolved["dropout"]) < 1.0:
        raise ValueError(f"tuned-MLP setting 'dropout'={resolved['dropout']!r}: expected 0 <= dropout < 1")
    for key in ("hidden_units", "batch_size", "max_epochs", "patience"):
        if int(resolved[key]) < 1:
            raise ValueError(f"tuned-MLP setting {key!r}={resolved[key]!r}: expected a positive integer")
    for key in ("lr", "weight_decay", "momentum"):
        if float(resolved[key]) < 0 or not math.isfinite(float(resolved[key])):
            raise ValueError(f"tuned-MLP setting {key!r}={resolved[key]!r}: expected a finite value >= 0")
    return resolved


# --------------------------------------------------------------------------- the predictor


class TunedMLPPredictor:
    """sigmoid(W_L · act(... act(W_1ᵀ (x - mean) / std + b_1) ...) + b_L) on raw features x.

    ``weights[i]`` has shape (inputs, outputs); the last layer has one output.
    """

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray], mean: np.ndarray,
                 std: np.ndarray, activation: str, history: pd.DataFrame | None = None,
                 summary: dict[str, Any] | None = None) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown tuned-MLP activation {activation!r}; expected one of {ACTIVATIONS}")
        self.weights = [np.asarray(w, dtype=np.float32) for w in weights]
        self.biases = [np.asarray(b, dtype=np.float32).reshape(-1) for b in biases]
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(std, dtype=np.float32).reshape(-1)
        self.activation = str(activation)
        width = self.mean.shape[0]
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.ndim != 2 or w.shape[0] != width or b.shape != (w.shape[1],):
                raise ValueError(f"inconsistent tuned-MLP layer {i}: weight {w.shape}, bias {b.shape}, "
                                 f"expected {width} inputs")
            width = w.shape[1]
        if width != 1 or self.std.shape != self.mean.shape:
            raise ValueError(f"tuned MLP: last layer has {width} outputs (expected 1) or mean/std differ")
        self.history = history
        self.summary = dict(summary or {})
        self._tensors: dict[torch.dtype, list[torch.Tensor]] = {}

    @property
    def n(self) -> int:
        return int(self.mean.shape[0])

    def _params(self, dtype: torch.dtype) -> list[torch.Tensor]:
        if dtype not in self._tensors:
            arrays = [self.mean, self.std, *self.weights, *self.biases]
            self._tensors[dtype] = [torch.from_numpy(a).to(dtype) for a in arrays]
        return self._tensors[dtype]

    def logit(self, X: torch.Tensor) -> torch.Tensor:
        """Logits (rows,) of raw features X; differentiable in X; computed in X's dtype."""
        mean, std, *rest = self._params(X.dtype)
        layers = len(self.weights)
        weights, biases = rest[:layers], rest[layers:]
        h = (X - mean) / std
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            h = torch.addmm(b, h, w)
            if i < layers - 1:
                h = activate(self.activation, h)
        return h.reshape(-1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.logit(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
        return (logits > 0).numpy().astype(np.int64)

    def arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {"mean": self.mean, "std": self.std,
                                         "activation": np.asarray(self.activation, dtype=np.str_)}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"W{i + 1}"], arrays[f"b{i + 1}"] = w, b
        return arrays

    def details(self) -> dict[str, Any]:
        return {"activation": self.activation, "layers": len(self.weights) - 1,
                "hidden_units": int(self.weights[0].shape[1]), **self.summary}

    def tables(self) -> dict[str, pd.DataFrame]:
        # The per-epoch history stays in the log and the search's trials.csv: the report's
        # learning curves are the paper-settings MLP's.
        return {}


def load(arrays: dict[str, np.ndarray]) -> TunedMLPPredictor:
    count = sum(1 for key in arrays if key.startswith("W"))
    return TunedMLPPredictor([arrays[f"W{i}"] for i in range(1, count + 1)],
                             [arrays[f"b{i}"] for i in range(1, count + 1)],
                             arrays["mean"], arrays["std"], str(np.asarray(arrays["activation"]).item()))


def layers(predictor: TunedMLPPredictor) -> list[tuple[str, np.ndarray]]:
    """The weight matrices, input side first, shaped (inputs, outputs): for norms and spectra."""
    names = [f"hidden{i + 1}" for i in range(len(predictor.weights) - 1)] + ["output"]
    return list(zip(names, predictor.weights, strict=True))


# --------------------------------------------------------------------------- training


def standardise(X_train: np.ndarray, others: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, list]:
    """Training mean and std, and every array standardised with them (float32)."""
    mean = X_train.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = X_train.std(axis=0, dtype=np.float64).astype(np.float32)
    std[std == 0] = 1.0  # a constant feature carries nothing; keep it finite
    return mean, std, [((X - mean) / std).astype(np.float32) for X in [X_train, *others]]


def train_stack(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                settings: dict[str, Any], seeds: list[Any], *, on_epoch: EpochHook | None = None,
                label: str = "tuned MLP") -> list[TunedMLPPredictor]:
    """Train one network per ``(X_train, y_train, X_validation, y_validation)`` of ``parts``.

    Only those rows are read. Every part needs the same number of training and of validation
    rows (the splits of one n have). ``seeds[i]`` seeds part i's initialisation, shuffling
    and dropout. Early stopping on the validation loss, best-validation weights kept.
    """
    settings = resolve_settings(settings)
    R = len(parts)
    if R == 0 or len(seeds) != R:
        raise ValueError(f"{label}: {R} parts and {len(seeds)} seeds")
    sizes = {(len(p[1]), len(p[3])) for p in parts}
    if len(sizes) != 1 or min(next(iter(sizes))) == 0:
        raise ValueError(f"{label}: every part needs the same, nonzero numbers of training and "
                         f"validation rows; found {sorted(sizes)}")
    activation, hidden = settings["activation"], int(settings["hidden_units"])
    depth, dropout = int(settings["layers"]), float(settings["dropout"])
    batch, max_epochs = int(settings["batch_size"]), int(settings["max_epochs"])
    patience = int(settings["patience"])

    standardised = [standardise(p[0], [p[2]]) for p in parts]
    means = [s[0] for s in standardised]
    stds = [s[1] for s in standardised]
    X_train = torch.from_numpy(np.stack([s[2][0] for s in standardised]))
    X_val = torch.from_numpy(np.stack([s[2][1] for s in standardised]))
    y_train = torch.from_numpy(np.stack([np.asarray(p[1], dtype=np.float32) for p in parts]))
    y_val = torch.from_numpy(np.stack([np.asarray(p[3], dtype=np.float32) for p in parts]))
    N, n = X_train.shape[1], X_train.shape[2]

    generators = [torch.Generator().manual_seed(_seed_int(seed)) for seed in seeds]
    widths = [n] + [hidden] * depth + [1]
    params: list[torch.Tensor] = []
    for fan_in, fan_out in itertools.pairwise(widths):
        # torch.nn.Linear's default initialisation, drawn per repeat from its own stream.
        bound = 1.0 / math.sqrt(fan_in)
        w = torch.stack([(torch.rand(fan_in, fan_out, generator=g) * 2 - 1) * bound for g in generators])
        b = torch.stack([(torch.rand(1, fan_out, generator=g) * 2 - 1) * bound for g in generators])
        params += [w.requires_grad_(), b.requires_grad_()]
    optimizer = _Optimizer(settings, params)

    def forward(X: torch.Tensor, train: bool, masks: list[torch.Tensor] | None = None) -> torch.Tensor:
        h = X
        for i in range(depth + 1):
            h = torch.baddbmm(params[2 * i + 1], h, params[2 * i])
            if i < depth:
                h = activate(activation, h)
                if train and masks is not None:
                    h = h * masks[i]
        return h.squeeze(-1)

    best = [p.detach().clone() for p in params]
    best_loss, best_acc = np.full(R, np.inf), np.full(R, np.nan)
    best_epoch = np.zeros(R, dtype=np.int64)
    stopped_at = np.zeros(R, dtype=np.int64)
    history: list[np.ndarray] = []
    steps = math.ceil(N / batch)
    progress = tqdm(range(1, max_epochs + 1), file=sys.stderr, mininterval=5.0, unit="epoch", desc=label)
    epoch = 0
    for epoch in progress:
        order = torch.stack([torch.randperm(N, generator=g) for g in generators])
        Xs = torch.gather(X_train, 1, order[:, :, None].expand(-1, -1, n))
        ys = torch.gather(y_train, 1, order)
        train_loss = np.zeros(R)
        for step in range(steps):
            rows = slice(step * batch, min(N, (step + 1) * batch))
            masks = None
            if dropout > 0:
                size = rows.stop - rows.start
                masks = [torch.stack([(torch.rand(size, hidden, generator=g) >= dropout).float()
                                      for g in generators]) / (1 - dropout) for _ in range(depth)]
            logits = forward(Xs[:, rows], True, masks)
            losses = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, ys[:, rows], reduction="none").mean(1)
            optimizer.step(list(torch.autograd.grad(losses.sum(), params)))
            train_loss += losses.detach().numpy() * (rows.stop - rows.start) / N
        with torch.no_grad():
            logits = forward(X_val, False)
            val_loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, y_val, reduction="none").mean(1).numpy()
            val_acc = ((logits > 0).float() == y_val).float().mean(1).numpy()
        history.append(np.stack([train_loss, val_loss, val_acc], axis=1))
        running = stopped_at == 0
        improved = running & (val_loss < best_loss)
        if improved.any():
            best_loss[improved], best_acc[improved], best_epoch[improved] = \
                val_loss[improved], val_acc[improved], epoch
            index = torch.from_numpy(np.flatnonzero(improved))
            for kept, p in zip(best, params, strict=True):
                kept[index] = p.detach()[index]
        stopped_at[running & (epoch - best_epoch >= patience)] = epoch
        progress.set_postfix(best_val_acc=f"{np.nanmean(best_acc):.4f}", refresh=False)
        if (stopped_at > 0).all() or (on_epoch is not None and on_epoch(epoch, val_acc)):
            break
    progress.close()
    stopped_early = stopped_at > 0
    stopped_at[~stopped_early] = epoch
    log.info("%s: epochs %s, best epochs %s, best validation accuracy %s", label, stopped_at.tolist(),
             best_epoch.tolist(), np.round(best_acc, 4).tolist())
    table = np.stack(history)  # (epochs, R, 3)
    predictors = []
    for r in range(R):
        epochs = int(stopped_at[r])
        frame = pd.DataFrame(table[:epochs, r], columns=["train_loss", "validation_loss", "validation_acc"])
        frame.insert(0, "epoch", np.arange(1, epochs + 1))
        summary = {"epochs_trained": epochs, "best_epoch": int(best_epoch[r]),
                   "stopped_early": bool(stopped_early[r]), "best_validation_loss": float(best_loss[r]),
                   "best_validation_acc": float(best_acc[r]), "settings": settings}
        weights = [best[2 * i][r].numpy().copy() for i in range(depth + 1)]
        biases = [best[2 * i + 1][r].numpy().reshape(-1).copy() for i in range(depth + 1)]
        predictors.append(TunedMLPPredictor(weights, biases, means[r], stds[r], activation, frame, summary))
    return predictors


def _seed_int(seed: Any) -> int:
    """A torch seed from an int or a sequence of ints (through numpy's SeedSequence)."""
    entropy = list(seed) if isinstance(seed, list | tuple) else [int(seed)]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> 1)


class _Optimizer:
    """SGD with momentum, Adam and AdamW with torch.optim's update rules, written as a handful
    of ``torch._foreach_*`` calls: torch.optim's per-step bookkeeping cost more than the step
    itself on networks this small. Every update is elementwise, so stacked repeats stay apart."""

    def __init__(self, settings: dict[str, Any], params: list[torch.Tensor]) -> None:
        self.kind = settings["optimizer"]
        self.lr, self.decay = float(settings["lr"]), float(settings["weight_decay"])
        self.momentum = float(settings["momentum"])
        self.params = params
        self.steps = 0
        self.first = [torch.zeros_like(p) for p in params]
        self.second = [torch.zeros_like(p) for p in params] if self.kind != "sgd" else []

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        self.steps += 1
        params = self.params
        if self.kind == "adamw" and self.decay:
            torch._foreach_mul_(params, 1.0 - self.lr * self.decay)
        elif self.decay:  # sgd and adam: L2 added to the gradient, as torch.optim does
            grads = torch._foreach_add(grads, params, alpha=self.decay)
        if self.kind == "sgd":
            if self.steps == 1:
                torch._foreach_copy_(self.first, grads)  # torch.optim starts the buffer at the gradient
            else:
                torch._foreach_mul_(self.first, self.momentum)
                torch._foreach_add_(self.first, grads)
            torch._foreach_add_(params, self.first, alpha=-self.lr)
            return
        beta1, beta2 = ADAM_BETAS
        torch._foreach_lerp_(self.first, grads, 1 - beta1)
        torch._foreach_mul_(self.second, beta2)
        torch._foreach_addcmul_(self.second, grads, grads, value=1 - beta2)
        correction1, correction2 = 1 - beta1 ** self.steps, 1 - beta2 ** self.steps
        denominator = torch._foreach_sqrt(self.second)
        torch._foreach_div_(denominator, math.sqrt(correction2))
        torch._foreach_add_(denominator, ADAM_EPS)
        torch._foreach_addcdiv_(params, self.first, denominator, value=-self.lr / correction1)
