"""The one driver that fits, scores and saves any model of the registry."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.compute.carbon import phase
from kryptonite_n.compute.data import load_dataset, load_split
from kryptonite_n.compute.explore import feature_table, informative_features, separation
from kryptonite_n.compute.models import accuracy, model_module
from kryptonite_n.contract import FitTask, Predictor, Split
from kryptonite_n.io import write_csv, write_json, write_npy, write_npz
from kryptonite_n.plan.models import spec

log = logging.getLogger(__name__)


def predict_in_batches(predictor: Predictor, X: np.ndarray, batch_size: int) -> np.ndarray:
    """Predict as deployed inference would: batch by batch."""
    parts = [predictor.predict(X[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def probabilities_of(predictor: Predictor, X: np.ndarray, model: str) -> np.ndarray:
    """The predictor's probabilities of label 1 on X, checked: a model whose spec promises
    probabilities must give one value in [0, 1] per row."""
    if not hasattr(predictor, "probability"):
        raise TypeError(f"{model}'s spec says it has probabilities, but its predictor has no probability()")
    values = np.asarray(predictor.probability(X), dtype=np.float64)
    if values.shape != (len(X),) or not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"{model}: probability() must give one value in [0, 1] per row, "
                         f"got shape {values.shape}")
    return values


def training_informative(X: np.ndarray, split: Split) -> list[int]:
    """The features whose noise on the training rows is not of the irrelevant family.

    Not ``features.csv``, which the Data page reads from every labelled row: a model scored on
    test rows must not have chosen anything with them (no transductive inference).
    """
    return informative_features(feature_table(X[split.train]))


def training_shapes(X: np.ndarray, split: Split) -> tuple[list[int], str | None]:
    """``training_informative`` and, when the training rows' noise shapes separate no family,
    why (``explore.separation``): a model that selects by shape is then not applicable."""
    table = feature_table(X[split.train])
    return informative_features(table), separation(table)


#: The start of the ``note`` of a model that cannot apply to the data (no accuracy is its own).
NOT_APPLICABLE = "not applicable"


def fit_model(model: str, n: int, *, data_files: Mapping[str, Path | str], split_files: list[str],
              outputs: Mapping[str, list[str] | str], settings: dict,
              seed: int, repeats: list[int], inference_batch_size: int = 128, threads: int = 1,
              train_stage: str = "train") -> None:
    """Fit ``model`` on every repeat of n, score it, and write its files.

    A model handed the informative features (``oracle_assisted``) gets those chosen on each
    repeat's training rows (``training_shapes``), never the whole set's, and is told where the
    shapes separate no family; the other models are given none. ``outputs`` holds per-repeat lists
    ``metrics``, ``model``, ``test_predictions``, ``hidden_predictions`` (with ``test_probabilities``
    and ``hidden_probabilities`` where the model's spec has ``probabilities``, and one list per
    table the spec names) and the per-repeat table ``table``.
    """
    dataset = load_dataset(data_files, n)
    splits = [load_split(path) for path in split_files]
    # Only a model handed the informative set reads it: the others skip the family inference.
    shapes = ([training_shapes(dataset.X, split) for split in splits] if spec(model).oracle_assisted
              else [([], None) for _ in splits])
    task = FitTask(
        n=n, X=dataset.X, y=dataset.y, splits=splits, repeats=repeats, settings=settings, seed=seed,
        informative_by_repeat=[informative for informative, _ in shapes],
        shape_failure_by_repeat=[failure for _, failure in shapes],
        threads=threads,
    )
    module = model_module(model)
    for name in spec(model).imports:  # so that the fit's time is the fit's, not an import's
        importlib.import_module(name)
    log.info("fitting %s on n=%d, %d repeats, settings %s", model, n, len(repeats), settings)
    with phase(train_stage):
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
    with phase("score"):
        probabilities = {} if "test_probabilities" not in outputs else {
            "test_probabilities": [probabilities_of(p, task.part(i, "test")[0], model)
                                   for i, p in enumerate(predictors)],
            "hidden_probabilities": [probabilities_of(p, dataset.hidden_X, model) for p in predictors],
        }
        records = [_score(task, dataset, i, repeat, predictor, test_predictions[i], hidden_predictions[i])
                   for i, (repeat, predictor) in enumerate(zip(repeats, predictors, strict=True))]
    rows = []
    for i, (predictor, metrics) in enumerate(zip(predictors, records, strict=True)):
        metrics = {**metrics, "model": model, "fit_seconds": fit_seconds}
        rows.append({k: v for k, v in metrics.items() if k != "details"})
        write_npz(outputs["model"][i], predictor.arrays())
        write_npy(outputs["test_predictions"][i], test_predictions[i])
        write_npy(outputs["hidden_predictions"][i], hidden_predictions[i])
        for key, values in probabilities.items():
            write_npy(outputs[key][i], values[i])
        for name, table in predictor.tables().items():
            write_csv(outputs[name][i], table)
        write_json(outputs["metrics"][i], metrics)
    write_csv(outputs["table"], pd.DataFrame(rows))


def _score(task: FitTask, dataset: Any, i: int, repeat: int, predictor: Predictor,
           test_predictions: np.ndarray, hidden_predictions: np.ndarray) -> dict[str, Any]:
    """One repeat's accuracies on every split (model and fit time are filled in by the caller).

    ``majority_acc`` is chance on this repeat's test rows: the accuracy of always answering the
    training rows' more frequent label, against which "beats chance" is judged (not 0.5: the
    labels are not exactly balanced)."""
    y_train, y_test = task.part(i, "train")[1], task.part(i, "test")[1]
    majority = int(2 * int(np.count_nonzero(y_train)) > len(y_train))
    reason = predictor.details().get("not_applicable")
    if reason:
        # The model cannot apply to these data: no accuracy is presented as its own.
        return {"model": None, "n": task.n, "repeat": repeat, "train_acc": None, "validation_acc": None,
                "test_acc": None, "test_rows": len(y_test),
                "majority_acc": float(np.mean(y_test == majority)),
                "whole_set_acc": None, "hidden_acc": None, "fit_seconds": None,
                "note": f"{NOT_APPLICABLE}: {reason}", "details": predictor.details()}
    # One pass over every labelled row; the training and validation rows' accuracies are read
    # from it (predicting them again would double the cost of the slow predictors, kNN and SVM).
    whole = predict_in_batches(predictor, dataset.X, 4096)
    split = task.splits[i]
    return {
        "model": None, "n": task.n, "repeat": repeat,
        "train_acc": accuracy(whole[split.train], dataset.y[split.train]),
        "validation_acc": accuracy(whole[split.validation], dataset.y[split.validation]),
        "test_acc": accuracy(test_predictions, y_test),
        "test_rows": len(y_test),
        "majority_acc": float(np.mean(y_test == majority)),
        "whole_set_acc": accuracy(whole, dataset.y),
        "hidden_acc": (accuracy(hidden_predictions, dataset.hidden_y)
                       if dataset.hidden_y is not None else None),
        "fit_seconds": None,
        # A fit that doubts itself says so here; the summary's note gathers these.
        "note": str(predictor.details().get("warning", "")),
        "details": predictor.details(),
    }
