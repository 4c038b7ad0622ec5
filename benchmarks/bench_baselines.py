"""The five classic baselines (svm_rbf, random_forest, knn, gradient_boosting, cnn): cost and accuracy.

For each n, one repeat (repeat 0 of a 60/20/20 split) on data.generate(n, 2024) (2000 rows per
feature, 10000 hidden rows), each model fitted with the configuration's default settings (or the
overrides given), single-threaded (threadpoolctl's limit 1, torch.set_num_threads(1)). Per (model, n) it
prints:

* ``fit_s``: CPU seconds of ``fit`` (one repeat);
* ``predict_s``: CPU seconds of the predictions the fit driver makes: the training and
  validation rows at once, the test rows and the hidden rows in batches of 128 (the config's
  ``inference.batch_size``), the whole labelled set in batches of 4096;
* ``proba_s``: CPU seconds of ``probability`` on the whole labelled set and the hidden rows
  (``-`` for the SVM, which has none);
* ``test_acc``, ``hidden_acc``: accuracy on the repeat's test rows and on the hidden rows;
* ``rows``: the training rows the model used (its row cap), and the model's own extras.

Modes: default, every model at n = 9, 12, 15, 18; ``--sweep``: the row caps and sizes behind
the defaults (kNN, SVM, forest and CNN at several caps); ``--models``/``--n`` select,
``--set model.key=value`` overrides a setting (``None`` for no cap).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_baselines.py [--sweep] [--n 9 18] [--models knn]
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
import time
from typing import Any

import numpy as np

SEED = 2024
MODELS = ("svm_rbf", "random_forest", "knn", "gradient_boosting", "cnn")
DIMENSIONS = (9, 12, 15, 18)
FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}
INFERENCE_BATCH = 128
#: --sweep: (model, n, overrides) around the defaults.
SWEEP = [
    # kNN: k against the rows per cell (k = 15 sinks far below chance at n = 12).
    *(("knn", n, {"neighbours": k, "max_train_rows": cap}) for n in (9, 12) for k in (1, 3, 15)
      for cap in (5000, 10000, None)),
    *(("knn", n, {"neighbours": 1, "max_train_rows": None}) for n in (15, 18)),
    # SVM: scikit-learn's gamma="scale" against a kernel local at the scale of one bit.
    *(("svm_rbf", n, {"gamma": None, "max_train_rows": cap}) for n in (9, 12) for cap in (4000, None)),
    *(("svm_rbf", n, {"gamma": gamma, "max_train_rows": cap}) for n in (9, 12) for gamma in (2.0, 5.0, 10.0)
      for cap in (2000, 4000, 6000)),
    ("svm_rbf", 15, {"max_train_rows": 6000}),
    ("svm_rbf", 18, {"max_train_rows": 6000}),
    # Random forest: more trees, rows or smaller leaves stay at chance.
    *(("random_forest", n, {"trees": trees, "min_samples_leaf": leaf, "max_train_rows": cap})
      for n in (9, 18) for trees, leaf, cap in ((50, 5, None), (50, 1, None), (100, 5, 5000))),
    # CNN: the kernel decides (windows of 2 (kernel - 1) + 1 positions), then the epochs.
    *(("cnn", 9, {"kernel_size": kernel}) for kernel in (3, 5, 17)),
    ("cnn", 9, {"kernel_size": 3, "epochs": 100, "patience": 100, "max_train_rows": None}),
    *(("cnn", 12, settings) for settings in ({"patience": 5}, {"kernel_size": 17}, {"max_train_rows": None})),
    # Gradient boosting: a longer patience finds nothing either.
    *(("gradient_boosting", n, {"patience": 50, "max_iter": 300}) for n in (9, 18)),
]


def cpu_seconds(function, *args) -> tuple[Any, float]:
    started = time.process_time()
    result = function(*args)
    return result, time.process_time() - started


def in_batches(method, X: np.ndarray, batch: int) -> np.ndarray:
    return np.concatenate([method(X[start:start + batch]) for start in range(0, len(X), batch)])


def run(model: str, n: int, dataset: Any, split: Any, overrides: dict[str, Any]) -> dict[str, Any]:
    from kryptonite_n.contract import FitTask
    from kryptonite_n.plan.config import model_settings, prepare_config

    module = importlib.import_module(f"kryptonite_n.compute.models.{model}")
    settings = {**model_settings(prepare_config({"dimensions": [n]}), model, n), **overrides}
    task = FitTask(n=n, X=dataset.X, y=dataset.y, splits=[split], repeats=[0], settings=settings, seed=SEED,
                   threads=1)
    (predictor,), fit_s = cpu_seconds(module.fit, task)

    def driver_predictions() -> np.ndarray:
        predictor.predict(task.part(0, "train")[0])
        predictor.predict(task.part(0, "validation")[0])
        in_batches(predictor.predict, dataset.X, 4096)
        in_batches(predictor.predict, dataset.hidden_X, INFERENCE_BATCH)
        return in_batches(predictor.predict, task.part(0, "test")[0], INFERENCE_BATCH)

    test_predictions, predict_s = cpu_seconds(driver_predictions)
    proba_s = None
    if hasattr(predictor, "probability"):
        _, proba_s = cpu_seconds(lambda: (predictor.probability(dataset.X),
                                          predictor.probability(dataset.hidden_X)))
    details = predictor.details()
    return {"model": model, "n": n, "fit_s": fit_s, "predict_s": predict_s, "proba_s": proba_s,
            "test_acc": float(np.mean(test_predictions == task.part(0, "test")[1])),
            "hidden_acc": float(np.mean(predictor.predict(dataset.hidden_X) == dataset.hidden_y)),
            "rows": details.get("rows"), "settings": overrides,
            "extra": {k: v for k, v in details.items() if k in EXTRAS}}


#: The details printed beside the numbers.
EXTRAS = ("support_vectors", "nodes", "max_depth", "iterations", "epochs", "best_epoch", "neighbours")


def parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="*", default=list(DIMENSIONS))
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--sweep", action="store_true", help="the row caps and sizes behind the defaults")
    parser.add_argument("--set", action="append", default=[], metavar="MODEL.KEY=VALUE")
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    from kryptonite_n.compute.data import SPLIT_CODES, generate, make_split
    from kryptonite_n.contract import Split

    threadpool_limits(1)
    torch.set_num_threads(1)
    # Imported and warmed up before any timing, as the fit driver imports a model's libraries first.
    for name in ("sklearn.svm", "sklearn.ensemble", "sklearn.neighbors"):
        importlib.import_module(name)
    torch.nn.functional.conv1d(torch.zeros(4, 1, 8), torch.zeros(2, 1, 3), padding="same").sum().item()
    overrides: dict[str, dict[str, Any]] = {}
    for item in args.set:
        key, value = item.split("=", 1)
        model, setting = key.split(".", 1)
        overrides.setdefault(model, {})[setting] = parse_value(value)
    runs = (SWEEP if args.sweep else
            [(model, n, overrides.get(model, {})) for n in args.n for model in args.models])
    print(f"{'model':<18} {'n':>3} {'fit_s':>6} {'predict_s':>9} {'proba_s':>7} {'test_acc':>8} "
          f"{'hidden_acc':>10} {'rows':>6}  settings / extras", flush=True)
    data: dict[int, tuple[Any, Any]] = {}
    for model, n, settings in runs:
        if n not in data:
            dataset = generate(n, SEED)
            roles = make_split(len(dataset.y), FRACTIONS, SEED, n, 0)
            data[n] = (dataset, Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
        result = run(model, n, *data[n], settings)
        proba = "-" if result["proba_s"] is None else f"{result['proba_s']:.2f}"
        print(f"{model:<18} {n:>3} {result['fit_s']:>6.2f} {result['predict_s']:>9.2f} {proba:>7} "
              f"{result['test_acc']:>8.4f} {result['hidden_acc']:>10.4f} {result['rows']!s:>6}  "
              f"{result['settings'] or ''} {result['extra']}", flush=True)
    print(f"torch {torch.__version__}, python {sys.version.split()[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
