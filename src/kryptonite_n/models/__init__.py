"""The models of the study: one module each, and the registry that reads their specs.

A model is a module ``kryptonite_n.models.<name>`` listed in ``MODELS`` that provides

* ``SPEC``: its ``ModelSpec`` (label, description, how it decides, resources, ...), data that
  the workflow reads when it plans, so the module imports no torch or scikit-learn at the top;
* ``fit(task: FitTask) -> list[Predictor]``: one fitted predictor per repeat (a module may
  train all repeats at once);
* ``load(arrays: dict[str, np.ndarray]) -> Predictor``: rebuild a predictor from ``model.npz``.

A ``Predictor`` maps raw features to 0/1 labels (``predict``), saves itself as arrays
(``arrays``), reports JSON-able extras for ``metrics.json`` (``details``) and optional tables
(``tables``: name -> DataFrame, written as ``{name}.csv``, named in ``SPEC.tables``).
Differentiable predictors also offer ``logit(X: torch.Tensor) -> torch.Tensor`` on raw
features; threshold rules offer ``features`` and ``thresholds`` (predict = parity of
``X[:, features] > thresholds``). ``driver.fit_model`` fits, scores and saves any of them.
See docs/adding-a-model.md for a complete example.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from types import ModuleType

import numpy as np

from kryptonite_n.models.spec import FitTask, ModelSpec, Predictor, Resources

#: Every model, in the order the report lists them.
MODELS = ("mlp", "mlp_tuned", "poly_logreg", "mock_baseline", "xor_oracle", "fso_logreg", "parity_gf2")

__all__ = ["MODELS", "FitTask", "ModelSpec", "Predictor", "Resources", "accuracy", "load_predictor",
           "model_module", "model_rank", "spec", "specs"]


def model_module(model: str) -> ModuleType:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    return importlib.import_module(f"kryptonite_n.models.{model}")


@functools.cache
def spec(model: str) -> ModelSpec:
    declared = model_module(model).SPEC
    if declared.name != model:
        raise ValueError(f"kryptonite_n.models.{model} declares a spec named {declared.name!r}")
    return declared


def specs() -> tuple[ModelSpec, ...]:
    return tuple(spec(model) for model in MODELS)


def model_rank(model: str) -> int:
    """A model's place in the report's order; unknown names go last."""
    return MODELS.index(model) if model in MODELS else len(MODELS)


def load_predictor(model: str, model_file: Path | str) -> Predictor:
    with np.load(model_file, allow_pickle=False) as arrays:
        return model_module(model).load(dict(arrays))


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(truth)))
