"""The one MLP trainer: the response paper's network (``nets.perceptron``), the tuned MLP's
wider family (two hidden layers, AdamW, weight decay) and the search's trials, with early stopping.

All repeats of one n train together. Their parameters are stacked along a leading repeat axis
(shape ``(R, ...)``) and every layer is one batched matrix product, so an epoch of ten repeats
costs little more than an epoch of one. The repeats stay independent: each has its own
seeded initialisation, shuffling and dropout stream, its own optimiser state (the optimisers
act elementwise) and its own early-stopping state, and the summed loss gives each repeat's
parameters exactly the gradient of its own mean loss. So training a repeat alone or among
others yields the same network (bit for bit on the machine it was built on; see ``_aligned``).

A stack's rows need not be repeats of one setting: ``fit(task, rows=...)`` gives each row its
own learning rate, weight decay and dropout (the settings that only scale elementwise
operations), so several trials of a search that share a shape train as one stack too. The
optimiser steps take the learning rate as an (R, 1) tensor, written in the forms that round as
the scalar ones do (``addcmul_`` for ``add_(alpha=)``, a reciprocal for a scalar divided by a
tensor): the response paper's MLP trains to the very networks the scalar-only trainer gave.

With several threads the repeats are split into that many stacks, each trained by its own
forked process with single-threaded torch, so the result does not depend on the thread count
either. Python threads in one process gained only 1.14x on 2 cores (an epoch is hundreds of
small operations, and the threads contend for the GIL between them); splitting the operations
of one stack across threads synchronises them some 25 times per mini-batch, which was slower
still whenever other processes competed for the cores.

Gradients are written out by hand rather than taken by autograd: on a CPU an epoch is
hundreds of tiny steps whose cost is per-operation overhead and transcendental activations,
and the hand-written backward pass reuses the activation's output instead of recomputing it.
``MLPPredictor.logit`` is ordinary autograd-friendly torch code, for attacks.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from kryptonite_n import streams
from kryptonite_n.compute.nets.perceptron import _LOG2E, ACTIVATIONS, MLPPredictor
from kryptonite_n.contract import FitTask

OPTIMIZERS = ("sgd", "adam", "adamw")
#: The schema's defaults (the response paper's n = 9 row); task settings override them.
DEFAULTS: dict[str, Any] = {
    "hidden_units": 72, "layers": 1, "activation": "elu", "optimizer": "sgd", "lr": 0.01,
    "momentum": 0.9, "weight_decay": 0.0, "dropout": 0.0, "batch_size": 128, "max_epochs": 1000,
    "patience": 200,
}
#: The settings a stack's rows may hold each their own value of (``fit(task, rows=...)``).
PER_ROW = ("lr", "weight_decay", "dropout")
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
_ONE, _MINUS_ONE = torch.tensor(1.0), torch.tensor(-1.0)
#: Validation rows evaluated per batched product (a multiple of 32: see ``_aligned``).
VALIDATION_CHUNK = 1024

log = logging.getLogger(__name__)


def resolve_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The task's settings over the defaults, checked; raise ValueError naming a bad key."""
    resolved = {**DEFAULTS, **settings}
    if resolved["activation"] not in ACTIVATIONS:
        raise ValueError(f"MLP setting 'activation'={resolved['activation']!r}: "
                         f"expected one of {ACTIVATIONS}")
    if resolved["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"MLP setting 'optimizer'={resolved['optimizer']!r}: expected one of {OPTIMIZERS}")
    if not 0.0 <= float(resolved["dropout"]) < 1.0:
        raise ValueError(f"MLP setting 'dropout'={resolved['dropout']!r}: expected 0 <= dropout < 1")
    if int(resolved["layers"]) not in (1, 2):
        raise ValueError(f"MLP setting 'layers'={resolved['layers']!r}: expected 1 or 2")
    for key in ("hidden_units", "batch_size", "max_epochs", "patience"):
        if int(resolved[key]) < 1:
            raise ValueError(f"MLP setting {key!r}={resolved[key]!r}: expected a positive integer")
    for key in ("lr", "weight_decay", "momentum"):
        if not (math.isfinite(float(resolved[key])) and float(resolved[key]) >= 0):
            raise ValueError(f"MLP setting {key!r}={resolved[key]!r}: expected a finite value >= 0")
    return resolved


def repeat_rng(seed: int, n: int, repeat: int) -> np.random.Generator:
    """The one random stream of a repeat's training: initialisation, then per epoch shuffle and dropout."""
    return streams.rng("network_training", seed=seed, n=n, repeat=repeat)


def dropped_positions(rng: np.random.Generator, size: int, p: float) -> np.ndarray:
    """Indices in range(size) each dropped independently with probability p (sorted).

    Drawn as the gaps between drops, geometric with parameter p (floor(E / -log(1 - p)) + 1 for
    E exponential): about p·size draws instead of one per unit, which makes dropout's random
    numbers cheap next to the training step for the small p used here.
    """
    found: list[np.ndarray] = []
    last = -1
    scale = -1.0 / math.log1p(-p) if p > 0 else 0.0
    while p > 0:
        expected = (size - 1 - last) * p
        gaps = rng.standard_exponential(int(expected + 6 * math.sqrt(expected) + 16))
        gaps *= scale
        positions = gaps.astype(np.int64)
        positions += 1
        np.cumsum(positions, out=positions)
        positions += last
        found.append(positions[positions < size])
        if positions[-1] >= size:
            break
        last = int(positions[-1])
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _aligned(size: int) -> int:
    """size rounded up to a multiple of 32 elements.

    torch's vectorised kernels (exp2, sigmoid) handle a tensor's last few elements with scalar
    code that rounds differently. Starting every repeat's slab at a multiple of 32 elements
    makes each repeat's numbers independent of how many repeats are stacked.
    """
    return -(-size // 32) * 32


def _stack_padded(parts: list[np.ndarray], width: int, dtype: type) -> np.ndarray:
    """Stack arrays of unequal first length into (R, width, ...), zero-padded at the end."""
    out = np.zeros((len(parts), width, *parts[0].shape[1:]), dtype=dtype)
    for r, part in enumerate(parts):
        out[r, :len(part)] = part
    return out


@dataclasses.dataclass
class _Layout:
    """Views of the flat per-repeat parameter vector (R, P) as the network's matrices.

    One hidden layer: [W1, b1, W2, b2]. Two: [W1, b1, V, c, W2, b2] with V (H, H) and c (H,)
    the second hidden layer's; W1 and b1 lead in both, so [W1; b1] is one view either way.
    """

    n: int
    hidden: int
    layers: int = 1

    @property
    def size(self) -> int:
        H = self.hidden
        return self.n * H + 2 * H + 1 + (H * H + H if self.layers == 2 else 0)

    def second(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The second hidden layer's V (R, H, H) and c (R, 1, H)."""
        R, start, H = flat.shape[0], self.n * self.hidden + self.hidden, self.hidden
        return (flat[:, start:start + H * H].view(R, H, H),
                flat[:, start + H * H:start + H * H + H].view(R, 1, H))

    def views(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """W1 (R, n, H), b1 (R, 1, H), W2 as a row (R, 1, H), b2 (R, 1)."""
        R, nh, H = flat.shape[0], self.n * self.hidden, self.hidden
        return (flat[:, :nh].view(R, self.n, H), flat[:, nh:nh + H].view(R, 1, H),
                flat[:, -H - 1:-1].view(R, 1, H), flat[:, -1:])

    def training_views(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """[W1; b1] (R, n + 1, H) for inputs with a column of ones, W2 (R, 1, H), b2 (R, 1, 1).

        One batched product then applies weights and bias, and its transpose gives both their
        gradients. The output layer is computed as W2 (1, H) times hiddenᵀ: of the ways to
        write it, the fastest here whose result for one repeat does not depend on how many
        repeats are stacked (MKL's batched hidden @ W2ᵀ does).
        """
        R, nh, H = flat.shape[0], self.n * self.hidden, self.hidden
        return (flat[:, :nh + H].view(R, self.n + 1, H), flat[:, -H - 1:-1].view(R, 1, H),
                flat[:, -1:].view(R, 1, 1))

    def initial(self, rng: np.random.Generator) -> np.ndarray:
        """torch.nn.Linear's default: every weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        W1 = rng.uniform(-1, 1, (self.n, self.hidden)) / math.sqrt(self.n)
        b1 = rng.uniform(-1, 1, self.hidden) / math.sqrt(self.n)
        middle = []
        if self.layers == 2:
            middle = [rng.uniform(-1, 1, (self.hidden, self.hidden)).ravel() / math.sqrt(self.hidden),
                      rng.uniform(-1, 1, self.hidden) / math.sqrt(self.hidden)]
        W2 = rng.uniform(-1, 1, self.hidden) / math.sqrt(self.hidden)
        b2 = rng.uniform(-1, 1, 1) / math.sqrt(self.hidden)
        return np.concatenate([W1.ravel(), b1, *middle, W2, b2]).astype(np.float32)


class _Optimizer:
    """SGD with momentum, Adam or AdamW on stacked (R, P) parameters, computed as torch.optim does
    (``weight_decay`` as its L2 term for SGD and Adam, decoupled for AdamW).

    ``lr`` and ``weight_decay`` are a scalar or one value per row (an (R,) sequence).
    ``active`` (R,) marks the repeats that take this step; the others stay untouched (a
    repeat with fewer training rows can have one batch less in an epoch).
    """

    def __init__(self, kind: str, lr: float | Any, momentum: float, shape: tuple[int, int],
                 weight_decay: float | Any = 0.0) -> None:
        self.kind, self.momentum = kind, momentum
        rows = shape[0]
        self.rates = {"lr": torch.as_tensor(np.broadcast_to(np.asarray(lr, dtype=np.float32), rows).copy()),
                      "weight_decay": torch.as_tensor(
                          np.broadcast_to(np.asarray(weight_decay, dtype=np.float32), rows).copy())}
        self.rates = {name: rate[:, None] for name, rate in self.rates.items()}
        self.decays = bool((self.rates["weight_decay"] != 0).any())
        self.state = {"first": torch.zeros(shape), "steps": torch.zeros(shape[0], 1)}
        if kind in ("adam", "adamw"):
            self.state["second"] = torch.zeros(shape)

    def keep(self, rows: torch.Tensor) -> None:
        self.state = {name: tensor[rows] for name, tensor in self.state.items()}
        self.rates = {name: rate[rows] for name, rate in self.rates.items()}

    def step(self, theta: torch.Tensor, grad: torch.Tensor, active: torch.Tensor | None) -> None:
        saved = None
        if active is not None:  # rare: update everything, then restore the inactive repeats
            saved = {"theta": theta.clone(), **{k: v.clone() for k, v in self.state.items()}}
        first, steps = self.state["first"], self.state["steps"]
        lr, decay = self.rates["lr"], self.rates["weight_decay"]
        steps += 1
        if self.decays:
            if self.kind == "adamw":  # decoupled: theta <- theta (1 - lr wd) before the Adam step
                theta.mul_(1 - lr * decay)
            else:  # L2: grad <- grad + wd theta
                grad = grad.addcmul(theta, decay)
        if self.kind == "sgd":  # torch.optim.SGD, dampening 0: the first step sets the buffer to grad
            first.mul_(self.momentum).add_(grad)
            theta.addcmul_(first, -lr)  # rounds as theta.add_(first, alpha=-lr) does
        else:
            beta1, beta2 = ADAM_BETAS
            second = self.state["second"]
            first.lerp_(grad, 1 - beta1)
            second.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            # lr / t for a scalar lr is reciprocal(t) * lr in torch: the same numbers per row.
            step_size = (1 - beta1 ** steps).reciprocal() * lr
            denominator = (second.sqrt() / (1 - beta2 ** steps).sqrt()).add_(ADAM_EPS)
            theta.addcdiv_(first * step_size, denominator, value=-1.0)
        if saved is not None:
            keep = active[:, None]
            for name, tensor in {"theta": theta, **self.state}.items():
                tensor.copy_(torch.where(keep, tensor, saved[name]))


@dataclasses.dataclass
class _Repeats:
    """The data of the repeats still training, stacked along axis 0 and zero-padded."""

    ids: np.ndarray          # which of the task's repeats each row is
    X_train: torch.Tensor    # (R, N, n + 1) standardised, then a column of ones
    y_train: torch.Tensor    # (R, N)
    X_val: torch.Tensor      # (R, V, n + 1)
    y_val: torch.Tensor      # (R, V)
    w_val: torch.Tensor      # (R, V): 1 for real rows, 0 for padding
    n_train: np.ndarray      # (R,) real training rows
    n_val: np.ndarray        # (R,)

    def keep(self, rows: np.ndarray) -> _Repeats:
        index = torch.from_numpy(rows)
        n_train, n_val = self.n_train[rows], self.n_val[rows]
        width, val_width = int(n_train.max()), _aligned(int(n_val.max()))
        return _Repeats(self.ids[rows], self.X_train[index, :width], self.y_train[index, :width],
                        self.X_val[index, :val_width], self.y_val[index, :val_width],
                        self.w_val[index, :val_width], n_train, n_val)


class _Workspace:
    """Per-epoch buffers and mini-batch bookkeeping, allocated once per set of running repeats.

    Position j of a repeat's shuffled order is a real row when j < n_train; later positions
    pad the stack and weigh nothing. Each repeat's batches are consecutive slices of its own
    order, so a repeat with fewer rows may have a smaller last batch, or none (it then skips
    that step, exactly as if it trained alone).
    """

    def __init__(self, data: _Repeats, batch: int, hidden: int, dropout: np.ndarray, layers: int = 1) -> None:
        R, n_train = len(data.ids), data.n_train
        self.batch = batch
        self.steps = math.ceil(n_train.max() / batch)
        width = self.steps * batch
        position = np.arange(width)
        weight = (position[None, :] < n_train[:, None]).astype(np.float32)
        counts = np.clip(n_train[:, None] - np.arange(self.steps)[None, :] * batch, 0, batch)
        # Each real row weighs 1 / (its batch's size): the gradient of the repeat's batch mean.
        row_weight = weight / np.repeat(np.maximum(counts, 1), batch, axis=1)
        self.weight = torch.from_numpy(weight)
        self.row_weight = torch.from_numpy(row_weight.astype(np.float32))
        self.active = [None if (counts[:, k] > 0).all() else torch.from_numpy(counts[:, k] > 0)
                       for k in range(self.steps)]
        # The epoch's rows in shuffled order. Gathering them repeat by repeat reads one repeat's
        # block of the training stack at a time, which stays in cache; gathering each step's
        # rows from all repeats at once was several times slower.
        self.order = torch.zeros(R, width, dtype=torch.int64)
        self.X = torch.zeros(R, width, data.X_train.shape[2])
        self.y = torch.zeros(R, width)
        self.logits = torch.zeros(R, width)
        # Dropout per row (a trial's own rate); a row without dropout keeps masks of ones.
        self.dropout = [float(p) for p in dropout]
        self.keep_scale = [1.0 / (1.0 - p) for p in self.dropout]
        self.masks = None
        if max(self.dropout) > 0:
            self.masks = torch.ones(layers, R, width, hidden)
            for r, scale in enumerate(self.keep_scale):
                self.masks[:, r] = scale
        self.masks_array = self.masks.numpy() if self.masks is not None else None
        self.dropped = [[np.zeros(0, dtype=np.int64) for _ in range(R)] for _ in range(layers)]
        val_chunk = min(VALIDATION_CHUNK, data.X_val.shape[1])
        self.val_hidden, self.val_scratch = (torch.empty(R * val_chunk * hidden) for _ in range(2))
        self.val_logits = torch.empty(R, data.X_val.shape[1])
        self.step_buffers = [*(torch.empty(R, batch, hidden) for _ in range(3)),
                             torch.empty(R, batch, data.X_train.shape[2])]

    def shuffle(self, data: _Repeats, rngs: list[np.random.Generator], hidden: int) -> None:
        """Draw every running repeat's order and dropout for the epoch, each from its own stream."""
        order = self.order.zero_()
        for r, repeat in enumerate(data.ids):
            count = int(data.n_train[r])
            order[r, :count] = torch.from_numpy(rngs[repeat].permutation(count))
            torch.index_select(data.X_train[r], 0, order[r], out=self.X[r])
            torch.index_select(data.y_train[r], 0, order[r], out=self.y[r])
            if self.masks is not None:
                for layer, dropped in enumerate(self.dropped):
                    flat = self.masks_array[layer, r].reshape(-1)  # a view: numpy's scatter is the faster
                    flat[dropped[r]] = self.keep_scale[r]
                    dropped[r] = dropped_positions(rngs[repeat], count * hidden, self.dropout[r])
                    flat[dropped[r]] = 0.0


def activate_(name: str, a: torch.Tensor, scratch: torch.Tensor | None = None,
              derivative_out: torch.Tensor | None = None) -> torch.Tensor:
    """``activate`` computed in place in ``a`` (same operations, same numbers), for training.

    ``scratch`` (a's shape) spares an allocation. For ELU, ``derivative_out`` (a's shape)
    receives the derivative exp(min(a, 0)), a by-product here.
    """
    if name == "elu":
        into = derivative_out if derivative_out is not None else scratch
        exp_negative = torch.clamp(a, max=0.0, out=into).mul_(_LOG2E).exp2_()
        if derivative_out is None:
            return a.relu_().add_(exp_negative.sub_(1.0))
        return a.relu_().add_(torch.sub(exp_negative, 1.0, out=scratch))
    if name == "tanh":
        return torch.add(_MINUS_ONE, a.mul_(2.0).sigmoid_(), alpha=2.0, out=a)
    if name == "relu":
        return a.relu_()
    if name == "sigmoid":
        return a.sigmoid_()
    raise ValueError(f"unknown MLP activation {name!r}; expected one of {ACTIVATIONS}")


def _derivative(name: str, h: torch.Tensor, out: torch.Tensor) -> None:
    """activation'(a) into ``out``, from h = activation(a); for ELU activate_ already put it there."""
    if name == "tanh":
        torch.addcmul(_ONE, h, h, value=-1.0, out=out)
    elif name == "relu":
        torch.sign(h, out=out)
    elif name == "sigmoid":
        torch.addcmul(h, h, h, value=-1.0, out=out)


def _sums(logits: torch.Tensor, y: torch.Tensor, weight: torch.Tensor) -> np.ndarray:
    """Per repeat, the weighted sums of the rows' BCE and of the correctly classified rows, (2, R)."""
    losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    correct = (logits > 0).eq(y > 0.5)
    return torch.stack([(losses * weight).sum(1), (correct * weight).sum(1)]).numpy()


#: Called after every epoch with (epoch, best validation accuracy per row of the stack so far,
#: which rows still train); returns the rows to stop now (the search's pruner), or None.
EpochHook = Callable[[int, np.ndarray, np.ndarray], "np.ndarray | None"]


def fit(task: FitTask, rows: list[dict[str, Any]] | None = None,
        on_epoch: EpochHook | None = None) -> list[MLPPredictor]:
    """Train one network per repeat of ``task`` (a FitTask): the repeats together, in
    ``task.threads`` stacks trained side by side.

    Every repeat's random numbers come from ``repeat_rng(task.seed, task.n, repeat)`` alone,
    so a repeat trained by itself gives the same network as among others, whatever the threads.
    ``rows`` (one dict per split) gives a row its own ``PER_ROW`` settings over
    ``task.settings``; ``on_epoch`` may stop rows early (then one stack, one process).
    """
    if len(task.repeats) != len(task.splits):
        raise ValueError(f"n={task.n}: {len(task.repeats)} repeats but {len(task.splits)} splits")
    rows = [{}] * len(task.splits) if rows is None else list(rows)
    if len(rows) != len(task.splits):
        raise ValueError(f"n={task.n}: {len(rows)} row settings for {len(task.splits)} splits")
    unknown = sorted({key for row in rows for key in row} - set(PER_ROW))
    if unknown:
        raise ValueError(f"MLP settings {unknown} cannot differ between rows; only {PER_ROW} can")
    threads = 1 if on_epoch is not None else max(1, int(task.threads))
    groups = [list(g) for g in np.array_split(np.arange(len(task.splits)), threads) if len(g)]
    tasks = [(dataclasses.replace(task, splits=[task.splits[i] for i in group],
                                  repeats=[task.repeats[i] for i in group]),
              [rows[i] for i in group], on_epoch) for group in groups]
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if len(tasks) == 1:
            return _fit(*tasks[0])
        # fork: the workers start at once, with torch loaded and limited to one thread (so no
        # thread pool is left half-copied); the tasks and the fitted arrays travel by pickle.
        context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        with ProcessPoolExecutor(len(tasks), mp_context=context, initializer=torch.set_num_threads,
                                 initargs=(1,)) as pool:
            return [predictor for part in pool.map(_fit_packed, tasks) for predictor in part]
    finally:
        torch.set_num_threads(previous_threads)


def _fit_packed(packed: tuple) -> list[MLPPredictor]:
    return _fit(*packed)


def _standardised(task: FitTask) -> tuple[list[np.ndarray], list[np.ndarray], _Repeats]:
    """Each repeat's training mean and std, and its splits standardised with them, stacked."""
    X = np.asarray(task.X, dtype=np.float32)
    y = np.asarray(task.y, dtype=np.float32)
    means, stds, train, val = [], [], [], []
    for split in task.splits:
        rows = X[split.train]
        mean = rows.mean(axis=0, dtype=np.float64).astype(np.float32)
        std = rows.std(axis=0, dtype=np.float64).astype(np.float32)
        std[std == 0] = 1.0  # a constant feature carries nothing; keep it finite
        means.append(mean)
        stds.append(std)
        train.append((_with_ones((rows - mean) / std), y[split.train]))
        val.append((_with_ones((X[split.validation] - mean) / std), y[split.validation]))
    n_train, n_val = np.array([len(t[1]) for t in train]), np.array([len(v[1]) for v in val])
    if n_train.min() == 0 or n_val.min() == 0:
        raise ValueError(f"n={task.n}: every repeat needs training and validation rows, found "
                         f"{n_train.tolist()} training and {n_val.tolist()} validation rows")
    width, val_width = int(n_train.max()), _aligned(int(n_val.max()))
    data = _Repeats(
        ids=np.arange(len(task.splits)),
        X_train=torch.from_numpy(_stack_padded([t[0] for t in train], width, np.float32)),
        y_train=torch.from_numpy(_stack_padded([t[1] for t in train], width, np.float32)),
        X_val=torch.from_numpy(_stack_padded([v[0] for v in val], val_width, np.float32)),
        y_val=torch.from_numpy(_stack_padded([v[1] for v in val], val_width, np.float32)),
        w_val=torch.from_numpy(_stack_padded([np.ones(len(v[1])) for v in val], val_width, np.float32)),
        n_train=n_train, n_val=n_val,
    )
    return means, stds, data


def _with_ones(X: np.ndarray) -> np.ndarray:
    return np.concatenate([X, np.ones((len(X), 1), dtype=X.dtype)], axis=1)


@torch.no_grad()
def _fit(task: FitTask, rows: list[dict[str, Any]] | None = None,
         on_epoch: EpochHook | None = None) -> list[MLPPredictor]:
    settings = resolve_settings(task.settings)
    R, n = len(task.splits), int(task.n)
    rows = [{}] * R if rows is None else rows
    row_settings = [resolve_settings({**task.settings, **row}) for row in rows]
    activation, hidden = settings["activation"], int(settings["hidden_units"])
    max_epochs, patience = int(settings["max_epochs"]), int(settings["patience"])
    layout = _Layout(n, hidden, int(settings["layers"]))
    per_row = {key: np.array([float(s[key]) for s in row_settings]) for key in PER_ROW}
    rngs = [repeat_rng(task.seed, n, repeat) for repeat in task.repeats]
    means, stds, data = _standardised(task)
    theta = torch.from_numpy(np.stack([layout.initial(rng) for rng in rngs]))
    optimizer = _Optimizer(settings["optimizer"], per_row["lr"], float(settings["momentum"]),
                           tuple(theta.shape), per_row["weight_decay"])

    best_theta = theta.clone()
    best_loss, best_acc = np.full(R, np.inf), np.full(R, np.nan)
    best_epoch = np.zeros(R, dtype=np.int64)
    stopped_at = np.zeros(R, dtype=np.int64)  # 0 while still training
    pruned = np.zeros(R, dtype=bool)
    history = np.full((max_epochs, R, 4), np.nan)

    work = None
    progress = tqdm(range(1, max_epochs + 1), file=sys.stderr, mininterval=2.0, unit="epoch",
                    desc=f"MLP n={n} repeats {task.repeats[0]}-{task.repeats[-1]}")
    for epoch in progress:
        running = np.flatnonzero(stopped_at[data.ids] == 0)
        if len(running) < len(data.ids):  # drop stopped repeats: later epochs pay only for the rest
            data = data.keep(running)
            theta = theta[torch.from_numpy(running)].contiguous()
            optimizer.keep(torch.from_numpy(running))
            work = None
        if work is None:
            work = _Workspace(data, int(settings["batch_size"]), hidden, per_row["dropout"][data.ids],
                              layout.layers)
        work.shuffle(data, rngs, hidden)
        _train_epoch(activation, layout, theta, optimizer, work)

        ids = data.ids
        train_sums = _sums(work.logits, work.y, work.weight) / data.n_train
        val_sums = _sums(_validation_logits(activation, layout, theta, data, work), data.y_val,
                         data.w_val) / data.n_val
        history[epoch - 1, ids] = np.stack([train_sums[0], val_sums[0], train_sums[1], val_sums[1]], axis=1)

        improved = val_sums[0] < best_loss[ids]
        if improved.any():
            best_loss[ids[improved]], best_acc[ids[improved]] = val_sums[0][improved], val_sums[1][improved]
            best_epoch[ids[improved]] = epoch
            best_theta[torch.from_numpy(ids[improved])] = theta[torch.from_numpy(improved)]
        stopped_at[ids[epoch - best_epoch[ids] >= patience]] = epoch
        if on_epoch is not None:
            stop = on_epoch(epoch, best_acc.copy(), stopped_at == 0)
            if stop is not None and np.asarray(stop).any():
                stop = np.asarray(stop, dtype=bool) & (stopped_at == 0)
                stopped_at[stop], pruned[stop] = epoch, True
        progress.set_postfix(best_val_acc=f"{np.nanmean(best_acc) if np.isfinite(best_acc).any() else 0:.4f}",
                             training=int((stopped_at == 0).sum()), refresh=False)
        if (stopped_at > 0).all():
            break
    progress.close()
    stopped_early = (stopped_at > 0) & ~pruned
    stopped_at[stopped_at == 0] = max_epochs
    log.info("MLP n=%d repeats %s: epochs %s, best epochs %s, best validation accuracy %s", n, task.repeats,
             stopped_at.tolist(), best_epoch.tolist(), np.round(best_acc, 4).tolist())

    predictors = []
    for r in range(R):
        W1, b1, W2, b2 = (t[0].numpy().copy() for t in layout.views(best_theta[r:r + 1]))
        second = None
        if layout.layers == 2:
            V, c = layout.second(best_theta[r:r + 1])
            second = (V[0].numpy().copy(), c[0].numpy().ravel().copy())
        epochs = int(stopped_at[r])
        table = pd.DataFrame(history[:epochs, r],
                             columns=["train_loss", "validation_loss", "train_acc", "validation_acc"])
        table.insert(0, "epoch", np.arange(1, epochs + 1))
        summary = {
            "epochs_trained": epochs, "best_epoch": int(best_epoch[r]),
            "stopped_early": bool(stopped_early[r]),
            "best_validation_loss": float(best_loss[r]), "best_validation_acc": float(best_acc[r]),
            "settings": row_settings[r],
        }
        if pruned[r]:
            summary["pruned"] = True
        predictors.append(MLPPredictor(W1, b1.ravel(), W2.ravel(), b2.reshape(()), means[r], stds[r],
                                       activation, table, summary, second=second))
    return predictors


def _validation_logits(activation: str, layout: _Layout, theta: torch.Tensor, data: _Repeats,
                       work: _Workspace) -> torch.Tensor:
    """Eval-mode logits (R, V) of the validation rows, a chunk of rows at a time (kept in cache)."""
    W1b, W2, b2 = layout.training_views(theta)
    R, V, H = data.X_val.shape[0], data.X_val.shape[1], W2.shape[2]
    second = layout.second(theta) if layout.layers == 2 else None
    for start in range(0, V, VALIDATION_CHUNK):
        rows = min(VALIDATION_CHUNK, V - start)  # a multiple of 32, as V is: see _aligned
        hidden = work.val_hidden[:R * rows * H].view(R, rows, H)
        torch.bmm(data.X_val[:, start:start + rows], W1b, out=hidden)
        activate_(activation, hidden, work.val_scratch[:R * rows * H].view(R, rows, H))
        if second is not None:
            hidden = activate_(activation, torch.baddbmm(second[1], hidden, second[0]))
        work.val_logits[:, start:start + rows] = torch.baddbmm(b2, W2, hidden.transpose(1, 2)).squeeze_(1)
    return work.val_logits


def _train_epoch(activation: str, layout: _Layout, theta: torch.Tensor, optimizer: _Optimizer,
                 work: _Workspace) -> None:
    """One pass over every running repeat's shuffled rows; the logits go to ``work.logits``."""
    for k in range(work.steps):
        part = slice(k * work.batch, (k + 1) * work.batch)
        masks = work.masks[:, :, part] if work.masks is not None else None
        X, y, weight = work.X[:, part], work.y[:, part], work.row_weight[:, part]
        if layout.layers == 1:
            work.logits[:, part], grad = _gradient(activation, layout, theta, X, y, weight,
                                                   None if masks is None else masks[0], work.step_buffers)
        else:
            work.logits[:, part], grad = _gradient_deep(activation, layout, theta, X, y, weight, masks)
        optimizer.step(theta, grad, work.active[k])


def _gradient(activation: str, layout: _Layout, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
              row_weight: torch.Tensor, masks: torch.Tensor | None,
              buffers: list[torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (R, B) and the gradient (R, P) of sum_r sum_b row_weight[r, b] BCE(logit[r, b], y[r, b]).

    X holds the inputs with a column of ones (R, B, n + 1). With row weights 1 / batch size
    the loss is the sum over repeats of each repeat's mean loss, so each repeat's parameters
    get exactly the gradient of its own loss. ``masks`` are the dropout multipliers
    (0 or 1 / (1 - p)) of the hidden units, or None. ``buffers``: three (R, B, H) tensors and
    one like X to compute in; every new tensor of that size would cost page faults each step.
    """
    W1b, W2, b2 = layout.training_views(theta)
    R, B, H = X.shape[0], X.shape[1], W2.shape[2]
    if buffers is None:
        buffers = [*(torch.empty(R, B, H, dtype=X.dtype) for _ in range(3)), torch.empty_like(X)]
    hidden, derivative, scratch, scaled_inputs = buffers
    h = activate_(activation, torch.bmm(X, W1b, out=hidden), scratch, derivative)
    h_out = torch.mul(h, masks, out=scratch) if masks is not None else h
    z = torch.baddbmm(b2, W2, h_out.transpose(1, 2)).squeeze_(1)
    if z.shape[1] % 32:  # see _aligned: compute the sigmoid with every repeat's row aligned
        z = torch.nn.functional.pad(z, (0, _aligned(z.shape[1]) - z.shape[1]))[:, :B]
    gz = torch.sigmoid(z).sub_(y).mul_(row_weight).unsqueeze_(1)  # dBCE/dz = sigmoid(z) - y; (R, 1, B)
    # d/dW1b = sum_b x_b gz_b (W2 * masks_b * act'(a_b)): the per-row factors gz_b go on the
    # narrow inputs and W2 on the small result, so only masks * act' is a pass over (R, B, H).
    _derivative(activation, h, derivative)
    if masks is not None:
        derivative.mul_(masks)
    torch.mul(X, gz.transpose(1, 2), out=scaled_inputs)
    grad_hidden = torch.bmm(scaled_inputs.transpose(1, 2), derivative).mul_(W2)
    return z, torch.cat([grad_hidden.flatten(1), torch.bmm(gz, h_out).flatten(1), gz.sum(2)], dim=1)


def _gradient_deep(activation: str, layout: _Layout, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
                   row_weight: torch.Tensor, masks: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``_gradient`` for two hidden layers; ``masks`` (2, R, B, H) or None.

    The same back-propagation written out: the output's factor gz goes back through W2, the
    second layer's (V, c) and the first layer's [W1; b1], each activation's derivative taken
    from its output (ELU's from activate_).
    """
    W1b, W2, b2 = layout.training_views(theta)
    V, c = layout.second(theta)
    R, B, H = X.shape[0], X.shape[1], W2.shape[2]
    first_derivative, second_derivative = (torch.empty(R, B, H, dtype=X.dtype) for _ in range(2))
    h1 = activate_(activation, torch.bmm(X, W1b), torch.empty_like(first_derivative), first_derivative)
    h1_out = h1 * masks[0] if masks is not None else h1
    h2 = activate_(activation, torch.baddbmm(c, h1_out, V), torch.empty_like(first_derivative),
                   second_derivative)
    h2_out = h2 * masks[1] if masks is not None else h2
    z = torch.baddbmm(b2, W2, h2_out.transpose(1, 2)).squeeze_(1)
    if z.shape[1] % 32:  # see _aligned
        z = torch.nn.functional.pad(z, (0, _aligned(z.shape[1]) - z.shape[1]))[:, :B]
    gz = torch.sigmoid(z).sub_(y).mul_(row_weight).unsqueeze_(1)  # (R, 1, B)
    _derivative(activation, h1, first_derivative)
    _derivative(activation, h2, second_derivative)
    if masks is not None:
        first_derivative.mul_(masks[0])
        second_derivative.mul_(masks[1])
    # d loss / d a2 (R, B, H): gz_b W2 masks2 act'(a2)
    grad_a2 = second_derivative.mul_(gz.transpose(1, 2)).mul_(W2)
    grad_V = torch.bmm(h1_out.transpose(1, 2), grad_a2)
    grad_c = grad_a2.sum(1, keepdim=True)
    grad_a1 = torch.bmm(grad_a2, V.transpose(1, 2)).mul_(first_derivative)
    grad_W1b = torch.bmm(X.transpose(1, 2), grad_a1)
    return z, torch.cat([grad_W1b.flatten(1), grad_V.flatten(1), grad_c.flatten(1),
                         torch.bmm(gz, h2_out).flatten(1), gz.sum(2)], dim=1)
