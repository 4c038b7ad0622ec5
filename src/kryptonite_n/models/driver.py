"""The one driver that fits, scores and saves any model of the registry."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from kryptonite_n.carbon import phase
from kryptonite_n.data import load_dataset, load_split
from kryptonite_n.explore import read_informative
from kryptonite_n.io import write_csv, write_json, write_npy, write_npz
from kryptonite_n.models import Predictor, accuracy, model_module, spec
from kryptonite_n.models.spec import FitTask

log = logging.getLogger(__name__)


def predict_in_batches(predictor: Predictor, X: np.ndarray, batch_size: int) -> np.ndarray:
    """Predict as deployed inference would: batch by batch."""
    parts = [predictor.predict(X[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def fit_model(model: str, n: int, *, data_files: Mapping[str, Path | str], split_files: list[str],
              features_csv: Path | str, outputs: Mapping[str, list[str] | str], settings: dict,
              seed: int, repeats: list[int], inference_batch_size: int = 128, threads: int = 1) -> None:
    """Fit ``model`` on every repeat of n, score it, and write its files.

    ``outputs`` holds per-repeat lists ``metrics``, ``model``, ``test_predictions``,
    ``hidden_predictions`` (and one list per table the model's spec names) and the
    per-repeat table ``table``.
    """
    dataset = load_dataset(data_files, n)
    task = FitTask(
        n=n, X=dataset.X, y=dataset.y, splits=[load_split(path) for path in split_files],
        repeats=repeats, settings=settings, seed=seed, informative=read_informative(features_csv),
        threads=threads,
    )
    module = model_module(model)
    for name in spec(model).imports:  # so that the fit's time is the fit's, not an import's
        importlib.import_module(name)
    log.info("fitting %s on n=%d, %d repeats, settings %s", model, n, len(repeats), settings)
    with phase("train"):
        started = time.perf_counter()
        predictors = module.fit(task)
        fit_seconds = (time.perf_counter() - started) / len(repeats)
    with phase("inference"):
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
