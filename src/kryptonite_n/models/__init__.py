"""The models of the study, and the one driver that fits, scores and saves any of them.

Each model lives in its own module (``kryptonite_n.models.<name>``) and provides

* ``fit(task: FitTask) -> list[Predictor]``: one fitted predictor per repeat (a module may
  train all repeats at once);
* ``load(arrays: dict[str, np.ndarray]) -> Predictor``: rebuild a predictor from ``model.npz``.

A ``Predictor`` maps raw features to 0/1 labels (``predict``), saves itself as arrays
(``arrays``), reports JSON-able extras for ``metrics.json`` (``details``) and optional tables
(``tables``: name -> DataFrame, written as ``{name}.csv``). Differentiable predictors also
offer ``logit(X: torch.Tensor) -> torch.Tensor`` on raw features; threshold rules offer
``features`` and ``thresholds`` (predict = parity of ``X[:, features] > thresholds``).
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import numpy as np
import pandas as pd

from kryptonite_n.carbon import carbon_meter
from kryptonite_n.data import Split, load_dataset, load_split
from kryptonite_n.io import read_json, write_csv, write_json, write_npy, write_npz

MODELS = ("mlp", "poly_logreg", "mock_baseline", "xor_oracle", "fso_logreg", "parity_gf2")

log = logging.getLogger(__name__)


class Predictor(Protocol):
    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def arrays(self) -> dict[str, np.ndarray]: ...

    def details(self) -> dict[str, Any]: ...

    def tables(self) -> dict[str, pd.DataFrame]: ...


@dataclass
class FitTask:
    """Everything a model needs to fit every repeat of one n."""

    n: int
    X: np.ndarray
    y: np.ndarray
    splits: list[Split]
    repeats: list[int]
    settings: dict[str, Any]
    seed: int
    #: Features inferred informative from their noise family (explore.feature_table).
    informative: list[int] = field(default_factory=list)
    threads: int = 1

    def part(self, repeat_index: int, role: str) -> tuple[np.ndarray, np.ndarray]:
        rows = getattr(self.splits[repeat_index], role)
        return self.X[rows], self.y[rows]


def model_module(model: str) -> ModuleType:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    return importlib.import_module(f"kryptonite_n.models.{model}")


def load_predictor(model: str, model_file: Path | str) -> Predictor:
    with np.load(model_file, allow_pickle=False) as arrays:
        return model_module(model).load(dict(arrays))


def predict_in_batches(predictor: Predictor, X: np.ndarray, batch_size: int) -> np.ndarray:
    """Predict as deployed inference would: batch by batch."""
    parts = [predictor.predict(X[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == np.asarray(truth)))


def fit_model(model: str, n: int, *, data_folder: Path | str, split_files: list[str],
              features_csv: Path | str, outputs: dict[str, list[str] | str], settings: dict,
              seed: int, repeats: list[int], carbon: dict | None = None,
              inference_batch_size: int = 128, threads: int = 1) -> None:
    """Fit ``model`` on every repeat of n, score it, and write its files.

    ``outputs`` holds per-repeat lists ``metrics``, ``model``, ``test_predictions``,
    ``hidden_predictions`` (and one list per table name), the per-repeat table ``table``
    and the job's ``carbon`` CSV.
    """
    # The meter opens first so that its tracker gets ready while the data and the model's code load.
    with carbon_meter(outputs["carbon"], carbon, model=model, n=n) as meter:
        dataset = load_dataset(data_folder, n)
        features = pd.read_csv(features_csv)
        task = FitTask(
            n=n, X=dataset.X, y=dataset.y, splits=[load_split(path) for path in split_files],
            repeats=repeats, settings=settings, seed=seed,
            informative=features.loc[features["informative"].astype(bool), "feature"].astype(int).tolist(),
            threads=threads,
        )
        module = model_module(model)
        log.info("fitting %s on n=%d, %d repeats, settings %s", model, n, len(repeats), settings)
        with meter.measure("train"):
            started = time.perf_counter()
            predictors = module.fit(task)
            fit_seconds = (time.perf_counter() - started) / len(repeats)
        with meter.measure("inference"):
            test_predictions = [
                predict_in_batches(p, task.part(i, "test")[0], inference_batch_size)
                for i, p in enumerate(predictors)
            ]
            hidden_predictions = [
                predict_in_batches(p, dataset.hidden_X, inference_batch_size) for p in predictors
            ]
    rows = []
    for i, (repeat, predictor) in enumerate(zip(repeats, predictors, strict=True)):
        metrics = {
            "model": model, "n": n, "repeat": repeat,
            "train_acc": accuracy(predictor.predict(task.part(i, "train")[0]), task.part(i, "train")[1]),
            "validation_acc": accuracy(predictor.predict(task.part(i, "validation")[0]),
                                       task.part(i, "validation")[1]),
            "test_acc": accuracy(test_predictions[i], task.part(i, "test")[1]),
            "whole_set_acc": accuracy(predict_in_batches(predictor, dataset.X, 4096), dataset.y),
            "hidden_acc": (accuracy(hidden_predictions[i], dataset.hidden_y)
                           if dataset.hidden_y is not None else None),
            "fit_seconds": fit_seconds,
            "details": predictor.details(),
        }
        rows.append({k: v for k, v in metrics.items() if k != "details"})
        write_npz(outputs["model"][i], predictor.arrays())
        write_npy(outputs["test_predictions"][i], test_predictions[i])
        write_npy(outputs["hidden_predictions"][i], hidden_predictions[i])
        for name, table in predictor.tables().items():
            write_csv(outputs[name][i], table)
        write_json(outputs["metrics"][i], metrics)
    write_csv(outputs["table"], pd.DataFrame(rows))


def read_metrics(paths: list[Path | str]) -> pd.DataFrame:
    return pd.DataFrame([read_json(path) for path in paths])
