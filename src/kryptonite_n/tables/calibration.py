"""Can the models' probabilities be trusted? Brier score, log loss and expected calibration
error of every repeat's test rows, and the reliability curves behind them.

A model's probability is its probability of label 1 (``Predictor.probability``). Calibration is
judged against how often label 1 occurs among rows given about that probability: the
reliability curve. Both errors bin the test rows by their probability into ``BINS`` bins:
``uniform`` bins of equal width on [0, 1], ``equal_mass`` bins of (nearly) equal row counts
(the adaptive binning of Nixon et al. 2019, which resolves where the probabilities crowd), and

    ECE = sum over bins b of (rows in b / rows) * |rate of label 1 in b - mean probability in b|.

A model that is right 94 % of the time and says 0.94 is calibrated; one that says 0.999 is not,
however accurate. The errors are computed per repeat on that repeat's test rows and averaged;
the reliability table pools the repeats' test rows (ten times the rows per bin).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from kryptonite_n.compute.data import load_split, read_labelled
from kryptonite_n.io import DataError, read_probabilities, write_csv
from kryptonite_n.plan.paths import fit_key, n_of, repeat_of
from kryptonite_n.tables.results import in_model_order, inapplicable_repeats

log = logging.getLogger(__name__)

#: The issue's and the literature's usual number of bins.
BINS = 15
BINNINGS = ("uniform", "equal_mass")
CALIBRATION_COLUMNS = ["model", "n", "repeats", "test_rows", "accuracy", "brier", "log_loss",
                       "ece_uniform", "ece_equal_mass"]
RELIABILITY_COLUMNS = ["model", "n", "binning", "bin", "low", "high", "rows", "mean_probability",
                       "observed_rate"]


def bin_index(probabilities: np.ndarray, bins: int = BINS, binning: str = "uniform") -> np.ndarray:
    """The bin (0 .. bins - 1) of each probability.

    ``uniform``: [k/bins, (k+1)/bins), the last bin closed at 1. ``equal_mass``: the rows sorted
    by probability (ties in row order) cut into ``bins`` runs whose sizes differ by at most one,
    so rows of one probability may fall into two neighbouring bins; with fewer rows than bins,
    one row per bin.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if binning == "uniform":
        return np.minimum((p * bins).astype(np.int64), bins - 1)
    if binning == "equal_mass":
        index = np.empty(len(p), dtype=np.int64)
        for b, rows in enumerate(np.array_split(np.argsort(p, kind="stable"), min(bins, max(len(p), 1)))):
            index[rows] = b
        return index
    raise ValueError(f"unknown binning {binning!r}; expected one of {BINNINGS}")


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS,
                binning: str = "uniform") -> pd.DataFrame:
    """Per non-empty bin: its probability range, rows, mean probability and rate of label 1."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    index = bin_index(p, bins, binning)
    rows = []
    for b in np.unique(index):
        inside = index == b
        rows.append({"bin": int(b), "low": float(p[inside].min()), "high": float(p[inside].max()),
                     "rows": int(inside.sum()), "mean_probability": float(p[inside].mean()),
                     "observed_rate": float(y[inside].mean())})
    return pd.DataFrame(rows, columns=["bin", "low", "high", "rows", "mean_probability", "observed_rate"])


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS,
                               binning: str = "uniform") -> float:
    """The rows-weighted mean gap between each bin's rate of label 1 and its mean probability."""
    table = reliability(probabilities, labels, bins, binning)
    if table.empty:
        return float("nan")
    gaps = (table["observed_rate"] - table["mean_probability"]).abs()
    return float((table["rows"] * gaps).sum() / table["rows"].sum())


def scores(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict[str, float]:
    """Accuracy, Brier score, log loss and both ECEs of one set of rows."""
    from sklearn.metrics import brier_score_loss, log_loss

    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    return {"accuracy": float(np.mean((p > 0.5) == (y == 1))),
            "brier": float(brier_score_loss(y, p)),
            "log_loss": float(log_loss(y, p, labels=[0, 1])),
            **{f"ece_{binning}": expected_calibration_error(p, y, bins, binning) for binning in BINNINGS}}


def calibration_tables(probability_files: Iterable[Path | str], split_files: Iterable[Path | str],
                       label_files: Mapping[int, Mapping[str, Path | str]],
                       skipped: Iterable[tuple[str, int, int]] = (),
                       bins: int = BINS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``calibration.csv`` and ``reliability.csv`` from each repeat's ``test_probabilities.npy``.

    ``split_files`` are the repeats' splits (``.../n{n}/splits/repeat{r}.npy``), ``label_files[n]``
    the labelled set's ``X``/``y`` files; ``skipped`` the (model, n, repeat) whose model did not
    apply (no accuracy is its own, so no calibration either).
    """
    splits = {(n_of(path), repeat_of(path)): path for path in split_files}
    skipped = set(skipped)
    labels: dict[int, np.ndarray] = {}
    per_repeat, pooled = [], {}
    for path in probability_files:
        model, n, repeat = fit_key(path)
        if (model, n, repeat) in skipped:
            continue
        if n not in labels:
            labels[n] = read_labelled(label_files[n], n)[1]
        if (n, repeat) not in splits:
            raise DataError(f"{path}: no split file for n = {n}, repeat {repeat}")
        y = labels[n][load_split(splits[(n, repeat)]).test]
        p = read_probabilities(path, len(y), "the repeat's test rows")
        per_repeat.append({"model": model, "n": n, "repeat": repeat, "test_rows": len(y),
                           **scores(p, y, bins)})
        pooled.setdefault((model, n), []).append((p, y))
    if not per_repeat:
        return (pd.DataFrame(columns=CALIBRATION_COLUMNS), pd.DataFrame(columns=RELIABILITY_COLUMNS))
    frame = pd.DataFrame(per_repeat)
    metrics = ["accuracy", "brier", "log_loss", *(f"ece_{b}" for b in BINNINGS)]
    calibration = frame.groupby(["model", "n"], sort=False).agg(
        repeats=("repeat", "size"), test_rows=("test_rows", "min"), **{m: (m, "mean") for m in metrics},
    ).reset_index()
    curves = []
    for (model, n), parts in pooled.items():
        p = np.concatenate([part[0] for part in parts])
        y = np.concatenate([part[1] for part in parts])
        for binning in BINNINGS:
            curve = reliability(p, y, bins, binning)
            curve.insert(0, "binning", binning)
            curve.insert(0, "n", n)
            curve.insert(0, "model", model)
            curves.append(curve)
    return (in_model_order(calibration, "n")[CALIBRATION_COLUMNS],
            in_model_order(pd.concat(curves, ignore_index=True), "n", "binning", "bin")[RELIABILITY_COLUMNS])


def summarise_calibration(probability_files: Iterable[Path | str], split_files: Iterable[Path | str],
                          label_files: Mapping[int, Mapping[str, Path | str]],
                          metrics_tables: Iterable[Path | str], calibration_csv: Path | str,
                          reliability_csv: Path | str, bins: int = BINS) -> None:
    """Write ``calibration.csv`` and ``reliability.csv`` (see ``calibration_tables``); repeats whose
    metrics say the model did not apply (no test accuracy) are left out."""
    skipped = inapplicable_repeats(metrics_tables)
    calibration, curves = calibration_tables(probability_files, split_files, label_files, skipped, bins)
    log.info("calibration of %d (model, n) pairs", len(calibration))
    write_csv(calibration_csv, calibration)
    write_csv(reliability_csv, curves)
