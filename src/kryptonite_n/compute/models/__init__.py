"""The models' implementations: one module ``kryptonite_n.compute.models.<name>`` per model of
``kryptonite_n.plan.models`` (its spec: what it is, writes and costs), providing

* ``fit(task: FitTask) -> list[Predictor]``: one fitted predictor per repeat (a module may
  train all repeats at once);
* ``load(arrays: dict[str, np.ndarray]) -> Predictor``: rebuild a predictor from ``model.npz``.

A ``Predictor`` (``kryptonite_n.contract``) maps raw features to 0/1 labels (``predict``),
saves itself as plain arrays (``arrays``), reports JSON-able extras for ``metrics.json``
(``details``) and optional tables (``tables``: name -> DataFrame, written as ``{name}.csv``,
named in the spec's ``tables``). A model whose spec has ``probabilities`` offers
``probability(X) -> np.ndarray``, its probability of label 1 per row (label 1 exactly where it
exceeds 0.5); one without outputs a label only. Differentiable predictors also offer
``logit(X: torch.Tensor) -> torch.Tensor`` on raw features; threshold rules offer ``features``
and ``thresholds`` (predict = parity of ``X[:, features] > thresholds``).
``driver.fit_model`` fits, scores and saves any of them. See docs/adding-a-model.md.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np

from kryptonite_n.contract import Predictor
from kryptonite_n.plan.models import MODELS


def model_module(model: str) -> ModuleType:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    return importlib.import_module(f"kryptonite_n.compute.models.{model}")


def load_predictor(model: str, model_file: Path | str) -> Predictor:
    with np.load(model_file, allow_pickle=False) as arrays:
        return model_module(model).load(dict(arrays))


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(truth)))
