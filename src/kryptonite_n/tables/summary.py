"""From the fitted models' metrics to the study's tables and its submitted hidden labels.

* ``summarise_models``: one row per (model, n) with mean, spread and 95 % interval over
  repeats (the corrected resampled t: the repeats re-split the same rows, ``kryptonite_n.stats``;
  ``ci_method`` names it), the challenge target and the Bayes limit (``kryptonite_n.compute.bayes``,
  with its source), and rows naming the (model, n) pairs not run;
* ``choose_hidden_labels``: per n, the hidden-set predictions of the model with the best
  mean validation accuracy (its best-validation repeat), as the challenge's submission files,
  and the choice judged on rows that did not make it (the chosen repeat's test accuracy);
* ``collect_support``: the feature set each rule-like model found, against the truth.

Choices are made on validation accuracy only: test and hidden scores never pick anything, so
they judge the choice without its optimism (the best of several models and repeats on the same
validation rows scores above what it will score on new rows).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.compute.bayes import bayes_limit
from kryptonite_n.compute.data import read_truths, target_accuracy
from kryptonite_n.io import DataError, read_json, read_npy, read_probabilities, write_csv, write_npy
from kryptonite_n.plan.config import model_dimensions, model_settings, skip_reason
from kryptonite_n.plan.models import MODELS, spec
from kryptonite_n.stats import (
    chebyshev_lower,
    hoeffding_lower,
    interval_method,
    mean_interval,
    resampling_ratio,
)
from kryptonite_n.tables.results import in_model_order

log = logging.getLogger(__name__)

METRIC_COLUMNS = ("model", "n", "repeat", "validation_acc", "test_acc", "whole_set_acc")
SUMMARY_COLUMNS = [
    "model", "n", "repeats", "test_acc_mean", "test_acc_std", "test_acc_ci_low", "test_acc_ci_high",
    "ci_method", "test_rows", "hoeffding_low", "chebyshev_low", "validation_acc_mean", "whole_set_acc",
    "hidden_acc_mean", "target", "bayes_acc", "bayes_ci_low", "bayes_ci_high", "bayes_source",
    "meets_target", "fit_seconds_mean", "note",
]
CHOICE_COLUMNS = ["n", "model", "oracle_assisted", "repeat", "validation_acc", "mean_validation_acc",
                  "test_acc", "mean_test_acc", "optimism", "hidden_acc", "probabilities"]
SUPPORT_COLUMNS = ["model", "n", "repeat", "features", "equals_truth"]


def _flag(value: bool | None) -> str:
    return "" if value is None else str(bool(value)).lower()


# --------------------------------------------------------------------------- reading


def read_metric_tables(paths: Iterable[Path | str]) -> pd.DataFrame:
    """Concatenate per-(model, n) metrics.csv tables, checking the columns the summary needs."""
    frames = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise DataError(f"{path}: metrics table not found")
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise DataError(f"{path}: not a readable metrics table ({error})") from error
        missing = [c for c in METRIC_COLUMNS if c not in frame.columns]
        if missing:
            raise DataError(f"{path}: missing columns {missing}")
        if frame.empty:
            raise DataError(f"{path}: has no rows")
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*METRIC_COLUMNS, "hidden_acc", "fit_seconds"])
    table = pd.concat(frames, ignore_index=True)
    table["n"] = table["n"].astype(int)
    table["repeat"] = table["repeat"].astype(int)
    return table


# --------------------------------------------------------------------------- summary


def skip_note(config: Mapping[str, Any], model: str, n: int) -> str:
    """Why ``model`` does not run at n, in words a table reader understands."""
    explain = spec(model).explain_skip
    note = explain(model_settings(config, model, n), n) if explain else None
    return note or skip_reason(config, model, n) or f"not run: n={n} is outside models.{model}.dimensions"


def skipped_models(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """(model, n, note) for every enabled model and study n the model's dimensions leave out."""
    rows = []
    for model, section in config["models"].items():
        if not section.get("enabled", True):
            continue
        fitted = set(model_dimensions(config, model))
        rows += [{"model": model, "n": int(n), "note": skip_note(config, model, n)}
                 for n in config["dimensions"] if n not in fitted]
    return rows


def bayes_columns(truth: Mapping[str, Any] | None) -> dict[str, Any]:
    """The Bayes limit of one n as summary columns (``kryptonite_n.compute.bayes``: never a model's score)."""
    limit = bayes_limit(truth)
    if limit is None:
        return {"bayes_acc": None, "bayes_ci_low": None, "bayes_ci_high": None, "bayes_source": ""}
    return {"bayes_acc": limit["accuracy"], "bayes_ci_low": limit.get("ci_low"),
            "bayes_ci_high": limit.get("ci_high"), "bayes_source": limit["source"]}


def fit_notes(group: pd.DataFrame) -> str:
    """The distinct warnings the fits of one (model, n) left in their metrics (``note``)."""
    if "note" not in group:
        return ""
    notes = [str(v) for v in group["note"] if isinstance(v, str) and v.strip()]
    return "; ".join(dict.fromkeys(notes))


def _mean(values: pd.Series) -> float | None:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.mean()) if len(values) else None


def test_set_bounds(test_mean: float, group: pd.DataFrame) -> dict[str, Any]:
    """One repeat's test rows and the 95 % lower bounds of the mean test accuracy that a test
    set of that size alone guarantees (Hoeffding's and Chebyshev's; ``stats``), from the
    smallest test set of the repeats."""
    rows = pd.to_numeric(group["test_rows"], errors="coerce").dropna() if "test_rows" in group else []
    if len(rows) == 0:
        return {"test_rows": None, "hoeffding_low": None, "chebyshev_low": None}
    smallest = int(rows.min())
    return {"test_rows": smallest, "hoeffding_low": hoeffding_lower(test_mean, smallest),
            "chebyshev_low": chebyshev_lower(test_mean, smallest)}


def summarise(metrics: pd.DataFrame, truths: Mapping[int, Mapping[str, Any] | None],
              skipped: Iterable[Mapping[str, Any]] = (), *, test_over_train: float) -> pd.DataFrame:
    """One row per (model, n) fitted, plus a note row per (model, n) skipped.

    The spread is the sample standard deviation over repeats (empty for a single repeat). The
    interval of the mean is the corrected resampled t with ``test_over_train`` = n_test / n_train
    of the split (``stats.resampling_ratio``): every repeat re-splits the same labelled rows.
    """
    rows = []
    for (model, n), group in metrics.groupby(["model", "n"], sort=False):
        n = int(n)
        target = target_accuracy(n)
        test = group["test_acc"].astype(float)
        test_mean = float(test.mean())
        interval = mean_interval(test, test_over_train=test_over_train)
        low, high = interval.low, interval.high
        rows.append({
            "model": model, "n": n, "repeats": len(group),
            "test_acc_mean": test_mean,
            "test_acc_std": float(test.std(ddof=1)) if len(group) > 1 else None,
            "test_acc_ci_low": low, "test_acc_ci_high": high,
            "ci_method": "" if low is None else interval_method(test_over_train),
            **test_set_bounds(test_mean, group),
            "validation_acc_mean": float(group["validation_acc"].astype(float).mean()),
            "whole_set_acc": float(group["whole_set_acc"].astype(float).mean()),
            "hidden_acc_mean": _mean(group["hidden_acc"]) if "hidden_acc" in group else None,
            "target": target,
            **bayes_columns(truths.get(n)),
            # A target is met only when the whole 95 % interval of the mean clears it; one
            # repeat has no interval, so it cannot show that.
            "meets_target": _flag(None if target is None else low is not None and low >= target),
            "fit_seconds_mean": _mean(group["fit_seconds"]) if "fit_seconds" in group else None,
            "note": fit_notes(group),
        })
    for skip in skipped:
        n = int(skip["n"])
        rows.append({
            "model": skip["model"], "n": n, "repeats": 0, "target": target_accuracy(n),
            **bayes_columns(truths.get(n)), "meets_target": "",
            "note": skip["note"],
        })
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    return in_model_order(table, "model", "n")


def summarise_models(tables: Iterable[Path | str], truth_files: Iterable[Path | str],
                     config: Mapping[str, Any], out: Path | str) -> None:
    """Write results/summary.csv from every metrics.csv table and truth.json.

    ``config`` needs ``dimensions`` and ``models`` (they say which (model, n) were not run, and
    why) and ``split`` (the intervals' n_test / n_train).
    """
    if "split" not in config:
        raise DataError("the summary's configuration has no 'split': the intervals need n_test / n_train")
    metrics = read_metric_tables(tables)
    table = summarise(metrics, read_truths(truth_files), skipped_models(config),
                      test_over_train=resampling_ratio(config["split"]))
    log.info("summary of %d fitted (model, n) pairs and %d skipped", (table["repeats"] > 0).sum(),
             (table["repeats"] == 0).sum())
    write_csv(out, table)


# --------------------------------------------------------------------------- hidden labels


def choose_models(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per n, the model with the best mean validation accuracy and its best-validation repeat.

    Ties go to the first model by name and the lowest repeat, so the choice is deterministic.
    The validation rows made the choice, so its validation accuracy is optimistic (the best of
    several models and repeats); the choice is judged on the chosen repeat's test rows, which
    chose nothing: ``optimism`` is validation minus test accuracy of the chosen repeat.
    ``oracle_assisted`` says whether the model took its features from the noise shapes.
    """
    rows = []
    for n, at_n in metrics.groupby("n", sort=True):
        # Rounded so that equal accuracies summed in another order still tie; groupby sorts the
        # models by name, and idxmax takes the first of equal means.
        means = at_n.groupby("model")["validation_acc"].mean().round(12)
        model = str(means.idxmax())
        runs = at_n[at_n["model"] == model].sort_values("repeat", kind="stable")
        best = runs.loc[runs["validation_acc"].astype(float).idxmax()]
        hidden = best.get("hidden_acc")
        test = float(best["test_acc"])
        rows.append({
            "n": int(n), "model": model,
            "oracle_assisted": _flag(spec(model).oracle_assisted if model in MODELS else None),
            "repeat": int(best["repeat"]),
            "validation_acc": float(best["validation_acc"]), "mean_validation_acc": float(means[model]),
            "test_acc": test, "mean_test_acc": float(runs["test_acc"].astype(float).mean()),
            "optimism": float(best["validation_acc"]) - test,
            "hidden_acc": None if pd.isna(hidden) else float(hidden),
            # Whether y_probability_{n}.npy is submitted beside the labels.
            "probabilities": _flag(spec(model).probabilities if model in MODELS else None),
        })
    return pd.DataFrame(rows, columns=CHOICE_COLUMNS)


def submit_probabilities(probabilities_file: Path | str, labels_file: Path | str, out: Path | str) -> None:
    """Copy the chosen repeat's hidden probabilities to ``out`` (``y_probability_{n}.npy``),
    checked against the submitted labels: label 1 exactly where the probability exceeds 0.5."""
    labels = read_npy(labels_file)
    probabilities = read_probabilities(probabilities_file, len(labels), f"one per label of {labels_file}")
    disagree = int(np.count_nonzero((probabilities > 0.5) != (labels == 1)))
    if disagree:
        raise DataError(f"{probabilities_file}: {disagree} rows where the probability and the label of "
                        f"{labels_file} disagree")
    write_npy(out, probabilities)


def choose_hidden_labels(tables: Iterable[Path | str], hidden_template: str,
                         outputs: Mapping[int, Path | str], choice_csv: Path | str) -> None:
    """Copy the chosen model's hidden predictions to ``outputs[n]`` as int64 0/1 labels.

    ``hidden_template`` names a repeat's predictions with {model}, {n} and {repeat}
    (``paths.FIT_FILES["hidden_predictions"]``).
    """
    choice = choose_models(read_metric_tables(tables))
    chosen = {int(row.n): row for row in choice.itertuples()}
    missing = sorted(set(map(int, outputs)) - set(chosen))
    if missing:
        raise DataError(f"no fitted model to choose hidden labels from for n = {missing}")
    labels = {}
    for n in outputs:
        row = chosen[int(n)]
        path = Path(hidden_template.format(model=row.model, n=int(n), repeat=row.repeat))
        if not path.exists():
            raise DataError(f"{path}: hidden predictions of the chosen model not found")
        predicted = np.load(path, allow_pickle=False)
        if predicted.ndim != 1 or not np.isin(predicted, [0, 1]).all():
            raise DataError(f"{path}: expected a 1-D vector of 0/1 labels, found shape {predicted.shape}")
        labels[int(n)] = predicted.astype(np.int64)
        log.info("n=%d: %s repeat %d (validation %.4f)", n, row.model, row.repeat, row.validation_acc)
    for n, path in outputs.items():
        write_npy(path, labels[int(n)])
    write_csv(choice_csv, choice[choice["n"].isin([int(n) for n in outputs])])


# --------------------------------------------------------------------------- support


def features_of(model: str, details: Mapping[str, Any] | None) -> list[int] | None:
    """The 0-based feature set a fitted model names, or None when it names none.

    The model's spec names the ``details`` key (``feature_set_key``); its value may be a list
    of indices, a dict with ``features``, or a string of indices.
    """
    if not details:
        return None
    key = spec(model).feature_set_key if model in MODELS else None
    value = details.get(key) if key else None
    if isinstance(value, Mapping):
        value = value.get("features")
    if isinstance(value, str):
        value = [int(token) for token in re.findall(r"\d+", value)]
    if not value or not isinstance(value, list | tuple) or not all(isinstance(v, int | np.integer)
                                                                   for v in value):
        return None  # an empty set names nothing: e.g. an L2 fit with no dominant monomial
    return sorted(int(v) for v in value)


def support_table(metrics: Iterable[Mapping[str, Any]],
                  truths: Mapping[int, Mapping[str, Any] | None]) -> pd.DataFrame:
    """One row per (model, n, repeat) whose details name a feature set."""
    rows = []
    for record in metrics:
        model, n = str(record["model"]), int(record["n"])
        features = features_of(model, record.get("details"))
        if features is None:
            log.warning("%s n=%d repeat %s names no feature set", model, n, record.get("repeat"))
            continue
        informative = (truths.get(n) or {}).get("informative")
        rows.append({
            "model": model, "n": n, "repeat": int(record["repeat"]),
            "features": " ".join(map(str, features)),
            "equals_truth": _flag(None if informative is None else features == sorted(informative)),
        })
    table = pd.DataFrame(rows, columns=SUPPORT_COLUMNS)
    return table.sort_values(["model", "n", "repeat"], kind="stable").reset_index(drop=True)


def collect_support(metrics_files: Iterable[Path | str], truth_files: Iterable[Path | str],
                    out: Path | str) -> None:
    """Write results/support.csv from per-repeat metrics.json files."""
    records = []
    for path in metrics_files:
        if not Path(path).exists():
            raise DataError(f"{path}: metrics file not found")
        records.append(read_json(path))
    write_csv(out, support_table(records, read_truths(truth_files)))
