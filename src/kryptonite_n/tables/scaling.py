"""The scaling map as a table: the cells no job fits and the study's own fits gathered with the
jobs' rows, summarised per cell, and where each model stops reaching its goal (break points),
with the information-theoretic floor of rows a parity needs. The report reads these.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n import stats
from kryptonite_n.compute.scaling import (
    COLUMNS,
    SCALING_FIT,
    STUDY_FIT,
    Layout,
    cell_row,
    cells,
    generator_settings,
    layout,
)
from kryptonite_n.io import DataError, write_csv
from kryptonite_n.plan.config import model_settings
from kryptonite_n.plan.models import model_rank
from kryptonite_n.plan.scaling import (
    basis_size,
    fitted_dimensions,
    model_limits,
    resampled_share,
    scaling_models,
    scaling_settings,
    study_cells,
    study_rows,
)
from kryptonite_n.tables.summary import read_metric_tables

log = logging.getLogger(__name__)


BREAK_COLUMNS = ("model", "rows_factor", "source", "largest_n_reaching", "mean", "ci_low", "ci_high",
                 "goal", "first_n_below", "below_mean", "below_ci_low", "below_ci_high", "below_goal",
                 "below_goal_kind", "largest_n_fitted", "first_n_not_fitted")


def _study_cells(config: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """model -> str(n) -> rows_factor, test_rows, settings of the cells that are the study's fits:
    from the workflow's ``study_cells``, or computed from the study's configuration."""
    if "study_cells" in config:
        return config["study_cells"]
    return {model: {str(n): {"rows_factor": factor, "test_rows": study_rows(config, n)[2],
                             "settings": model_settings(config, model, n)}
                    for n, factor in study_cells(config, model).items()}
            for model in scaling_models(config)}


def unfitted_rows(config: Mapping[str, Any]) -> pd.DataFrame:
    """Noted rows of every (model, n) that has no job: every cell beyond the model's limits (its
    cells within them, if any, are the study's fits).

    ``config`` holds ``scaling`` and ``generator``, and either the study's ``models`` or, from
    the workflow, ``unfitted_settings`` (model -> str(n) -> settings of the unfitted n only).
    """
    generator = generator_settings(config)
    scaling = config["scaling"]
    study = _study_cells(config)
    layouts: dict[int, Layout] = {}
    rows = []
    for model in scaling_models(config):
        limits = model_limits(config, model)
        fitted = set(fitted_dimensions(config, model))
        for n in scaling["dimensions"]:
            if n in fitted:
                continue
            settings = (config["unfitted_settings"][model][str(n)] if "unfitted_settings" in config
                        else scaling_settings(config, model, n))
            basis = basis_size(model, n, settings)
            reused = study.get(model, {}).get(str(n), {}).get("rows_factor")
            grid = cells(model, n, scaling["train_rows"], int(scaling["repeats"]), limits, reused)
            for factor, repeat, note in grid:
                if n not in layouts:
                    layouts[n] = layout(n, int(config["seed"]), generator)
                row = cell_row(model, n, factor, repeat, layouts[n].bayes, basis, int(scaling["test_rows"]))
                row["note"] = note
                rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def study_rows_of(config: Mapping[str, Any], metrics: Sequence[Path | str]) -> pd.DataFrame:
    """The cells that are the study's fits: one row per study repeat, from its metrics tables."""

    study = _study_cells(config)
    generator = generator_settings(config)
    table = read_metric_tables(metrics)
    rows = []
    for model, by_n in study.items():
        for key, cell in by_n.items():
            n = int(key)
            group = table[(table["model"] == model) & (table["n"] == n)]
            if group.empty:
                raise DataError(f"the study's metrics of {model} at n = {n} are not among {list(metrics)}: "
                                f"its cell at {factor_label(cell['rows_factor'])} the published rows is "
                                f"the study's fits")
            bayes = layout(n, int(config["seed"]), generator).bayes
            basis = basis_size(model, n, cell["settings"])
            for record in group.sort_values("repeat").itertuples():
                row = cell_row(model, n, float(cell["rows_factor"]), int(record.repeat), bayes, basis,
                           int(cell["test_rows"]))
                # The study's fit seconds are of its repeats trained together: not this stage's cost.
                row |= {"test_acc": float(record.test_acc), "train_acc": float(record.train_acc),
                        "source": STUDY_FIT, "test_over_train": float(config["test_over_train"])}
                rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def collect_scaling(tables: Sequence[Path | str], out: Path | str, config: Mapping[str, Any], *,
                    metrics: Sequence[Path | str] = (), breaks_out: Path | str | None = None) -> pd.DataFrame:
    """results/scaling.csv: the fitted cells of every job, the study's fits that are cells
    (from ``metrics``, the study's metrics tables), and the noted cells of no job; and, when
    ``breaks_out`` is given, the break points (``break_points``) there."""
    parts = [pd.read_csv(path) for path in tables]
    for path, part in zip(tables, parts, strict=True):
        missing = set(COLUMNS) - set(part.columns)
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}")
    config = {"seed": 0, "test_over_train": resampled_share(config), **config}
    if any(_study_cells(config).values()):
        parts.append(study_rows_of(config, metrics))
    parts.append(unfitted_rows(config))
    frames = [p for p in parts if not p.empty]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    table = table.sort_values(["model", "n", "rows_factor", "repeat"], ignore_index=True,
                              key=lambda c: c.map(model_rank) if c.name == "model" else c)
    write_csv(out, table[list(COLUMNS)])
    if breaks_out is not None:
        write_csv(breaks_out, break_points(cell_summary(table)))
    return table


def read_scaling(paths: Sequence[str | Path]) -> pd.DataFrame:
    """results/scaling.csv, checked for its columns."""
    if not paths:
        return pd.DataFrame(columns=list(COLUMNS))
    path = paths[0]
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DataError(f"{path}: cannot read the scaling table ({error})") from error
    missing = set(COLUMNS) - set(table.columns)
    if missing:
        raise DataError(f"{path}: missing columns {sorted(missing)}")
    return table


def factor_label(factor: float) -> str:
    """×1/16, ×1, ×4: the rows multiple as a reader says it."""
    if factor >= 1:
        return f"×{factor:g}"
    inverse = 1 / factor
    return f"×1/{inverse:g}" if abs(inverse - round(inverse)) < 1e-9 else f"×{factor:g}"


def reference_factor(table: pd.DataFrame) -> float:
    """The rows multiple the page's per-n comparisons use: the one whose cells are the study's
    fits (×1 on the default configuration), else ×1 when the grid has it, else its largest."""
    if "source" in table and (table["source"] == STUDY_FIT).any():
        return float(table.loc[table["source"] == STUDY_FIT, "rows_factor"].mode().iloc[0])
    return 1.0 if (table["rows_factor"] == 1.0).any() else float(table["rows_factor"].max())


def binary_entropy(p: float) -> float:
    if p <= 0 or p >= 1:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def label_noise(bayes_acc: float) -> float:
    """The flip rate of the label against the parity of the thresholded informative bits.

    Each bit crosses the threshold with a probability that does not depend on its value, so
    the thresholded parity is the true one flipped independently of the bits, and the label
    is it sent through a binary symmetric channel flipping with 1 - Bayes accuracy (the flips
    and the crossings together): the thresholded parity rule is the Bayes rule.
    """
    return 1.0 - float(bayes_acc)


def parity_rows_floor(n: int, flip_rate: float, hypotheses_bits: float | None = None) -> float:
    """Fewest labelled rows from which a learner that sees only the thresholded bits can name
    the parity, when each of the candidate parities is equally likely beforehand.

    Assumptions: the learner sees each row's n thresholded bits and its label, nothing else
    (not the raw features: their noise shapes reveal the informative set without any label,
    see the Data page), and holds no reason to prefer one candidate parity to another. The
    label is the parity's bit sent through a binary symmetric channel that flips it with
    probability p, so one row tells at most 1 - H(p) bits about which parity it is (the
    channel's capacity; the bits cost the learner nothing, it may as well choose them freely).
    Naming one of M equally likely parities takes log2 M bits, so by Fano's inequality m rows
    identify it with vanishing error only if m (1 - H(p)) >= log2 M. This returns
    log2 M / (1 - H(p)), with log2 M = n (every subset of the n features, the default) or
    ``hypotheses_bits`` (``support_bits``: told the support size). A parity other than the true
    one agrees with half the labels, so a parity rule above the mock targets is the true one.
    """
    bits = float(n) if hypotheses_bits is None else float(hypotheses_bits)
    return bits / (1.0 - binary_entropy(flip_rate))


def support_bits(n: int, informative: int | None = None) -> float:
    """log2 C(n, k): the parities a learner told the support size k (2n/3 here) chooses among."""
    k = round(2 * n / 3) if informative is None else informative
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2)


def goal_accuracy(target: float | None, bayes: float) -> tuple[float, str]:
    """What a model must reach at n: the challenge target, or 99 % of Bayes where n has none."""
    if target is not None and not (isinstance(target, float) and math.isnan(target)):
        return float(target), "target"
    return 0.99 * bayes, "99% of Bayes"


def cell_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, n, rows): repeats fitted, where they come from, mean test accuracy
    with its 95 % interval, relative to Bayes, the goal and whether the cell reaches it (as the
    summary judges a target: the interval's low end clears it), the note of unfitted cells."""
    out = []
    keys = ["model", "n", "rows_factor", "train_rows"]
    for (model, n, factor, rows), group in table.groupby(keys, sort=False):
        fitted = group[group["test_acc"].notna()]
        bayes = float(group["bayes_acc"].iloc[0])
        target = group["target"].iloc[0]
        goal, kind = goal_accuracy(None if pd.isna(target) else float(target), bayes)
        source = group["source"].iloc[0] if "source" in group else None
        source = SCALING_FIT if pd.isna(source) else str(source)
        share = group["test_over_train"].iloc[0] if "test_over_train" in group else None
        share = 0.0 if pd.isna(share) else float(share)
        row = {"model": model, "n": int(n), "rows_factor": float(factor), "train_rows": int(rows),
               "repeats": len(fitted), "source": source, "bayes_acc": bayes, "goal": goal,
               "goal_kind": kind, "mean": math.nan, "low": math.nan, "high": math.nan,
               "ci_method": None, "relative": math.nan, "reached": None, "fit_seconds": math.nan,
               "peak_rss_mb": math.nan,
               "note": "; ".join(dict.fromkeys(str(v) for v in group["note"].dropna())) or None}
        if len(fitted):
            interval = stats.mean_interval(fitted["test_acc"].to_numpy(), test_over_train=share)
            mean, low, high = (math.nan if v is None else v
                               for v in (interval.mean, interval.low, interval.high))
            row |= {"mean": mean, "low": low, "high": high, "relative": mean / bayes,
                    "ci_method": None if math.isnan(low) else stats.interval_method(share),
                    "reached": bool(not math.isnan(low) and low >= goal),
                    "fit_seconds": float(fitted["fit_seconds"].mean()),
                    "peak_rss_mb": float(fitted["peak_rss_mb"].mean())}
        out.append(row)
    return pd.DataFrame(out)


def break_points(cells: pd.DataFrame) -> pd.DataFrame:
    """Per (model, rows multiple): the first fitted n whose cell does not reach its goal (the
    interval's low end below it, or no interval), the largest n below it that reaches it, the
    largest fitted n and the first n not fitted. The rows of results/scaling/breaks.csv."""
    out = []
    if cells.empty:
        return pd.DataFrame(columns=list(BREAK_COLUMNS))
    for (model, factor), group in cells.groupby(["model", "rows_factor"], sort=False):
        group = group.sort_values("n")
        fitted = group[group["repeats"] > 0]
        below = fitted[~fitted["reached"].eq(True)]
        first_below = below.iloc[0] if len(below) else None
        reached = fitted[fitted["reached"].eq(True)]
        if first_below is not None:
            reached = reached[reached["n"] < first_below["n"]]
        last = reached.iloc[-1] if len(reached) else None
        unfitted = group[group["repeats"] == 0]
        sources = sorted(set(fitted["source"])) if "source" in fitted else []
        out.append({
            "model": model, "rows_factor": float(factor), "source": "+".join(sources) or None,
            "largest_n_reaching": None if last is None else int(last["n"]),
            "mean": None if last is None else last["mean"], "ci_low": None if last is None else last["low"],
            "ci_high": None if last is None else last["high"], "goal": None if last is None else last["goal"],
            "first_n_below": None if first_below is None else int(first_below["n"]),
            "below_mean": None if first_below is None else first_below["mean"],
            "below_ci_low": None if first_below is None else first_below["low"],
            "below_ci_high": None if first_below is None else first_below["high"],
            "below_goal": None if first_below is None else first_below["goal"],
            "below_goal_kind": None if first_below is None else first_below["goal_kind"],
            "largest_n_fitted": int(fitted["n"].max()) if len(fitted) else None,
            "first_n_not_fitted": int(unfitted["n"].iloc[0]) if len(unfitted) else None,
        })
    table = pd.DataFrame(out, columns=list(BREAK_COLUMNS))
    for column in ("largest_n_reaching", "first_n_below", "largest_n_fitted", "first_n_not_fitted"):
        table[column] = table[column].astype("Int64")
    return table


def read_breaks(paths_: Sequence[str | Path]) -> pd.DataFrame:
    """results/scaling/breaks.csv, checked for its columns."""
    if not paths_:
        return pd.DataFrame(columns=list(BREAK_COLUMNS))
    path = paths_[0]
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DataError(f"{path}: cannot read the break points ({error})") from error
    missing = set(BREAK_COLUMNS) - set(table.columns)
    if missing:
        raise DataError(f"{path}: missing columns {sorted(missing)}")
    return table


def rows_needed(table: pd.DataFrame) -> pd.DataFrame:
    """Per (model, n): the fewest training rows of the grid whose cell reaches the goal (the
    challenge target, or 99 % of Bayes where n has none; judged by the interval's low end, as
    ``cell_summary``), with whether it is censored (reached at the smallest rows tried, or
    never shown to be reached)."""
    cells_ = cell_summary(table[table["test_acc"].notna()]) if len(table) else pd.DataFrame()
    out = []
    if cells_.empty:
        return pd.DataFrame(out)
    for (model, n), group in cells_.groupby(["model", "n"], sort=False):
        group = group.sort_values("train_rows")
        reached = group[group["reached"].eq(True)]
        row = {"model": model, "n": int(n), "threshold": float(group["goal"].iloc[0]),
               "threshold_kind": group["goal_kind"].iloc[0],
               "label_noise": label_noise(float(group["bayes_acc"].iloc[0])),
               "smallest_tried": int(group["train_rows"].min()),
               "largest_tried": int(group["train_rows"].max())}
        if reached.empty:
            row |= {"rows_needed": math.nan, "status": "never reached"}
        else:
            first = int(reached["train_rows"].min())
            row |= {"rows_needed": first,
                    "status": ("at or below the smallest tried" if first == row["smallest_tried"]
                               else "reached")}
        out.append(row)
    return pd.DataFrame(out)


def cost_slopes(table: pd.DataFrame, measure: str = "fit_seconds", min_points: int = 4) -> pd.DataFrame:
    """Per model: the exponent b of n in cost ~ n^b · rows^c at fixed training rows, with its
    95 % interval, from a least-squares fit of log(mean cost) on log(n) and log(training rows)
    over the model's cells fitted by this stage (the study's fits are timed together: left out).

    At a fixed rows multiple the training rows grow with n, so a slope against n alone would
    mix the two; the second regressor holds the rows fixed. Shown only from ``min_points``
    cells or more, spread over at least two n and two row counts not tied to n (a design whose
    rows follow n exactly cannot separate them).
    """
    from scipy import stats as scipy_stats

    columns = ["model", "measure", "slope", "low", "high", "rows_slope", "points", "n_min", "n_max",
               "rows_min", "rows_max"]
    rows = []
    data = table[table[measure].notna() & (table[measure] > 0)]
    if "source" in data:
        data = data[data["source"] != STUDY_FIT]
    for model, group in data.groupby("model", sort=False):
        means = group.groupby(["n", "train_rows"])[measure].mean().reset_index()
        if len(means) < max(min_points, 4):
            continue
        design = np.column_stack([np.ones(len(means)), np.log(means["n"].to_numpy(float)),
                                  np.log(means["train_rows"].to_numpy(float))])
        if np.linalg.matrix_rank(design) < 3:
            continue
        target = np.log(means[measure].to_numpy(float))
        coef, *_ = np.linalg.lstsq(design, target, rcond=None)
        dof = len(means) - 3
        residual = target - design @ coef
        sigma2 = float(residual @ residual) / dof
        covariance = sigma2 * np.linalg.inv(design.T @ design)
        half = scipy_stats.t.ppf(0.975, dof) * math.sqrt(covariance[1, 1])
        rows.append({"model": model, "measure": measure, "slope": float(coef[1]),
                     "low": float(coef[1] - half), "high": float(coef[1] + half),
                     "rows_slope": float(coef[2]), "points": len(means),
                     "n_min": int(means["n"].min()), "n_max": int(means["n"].max()),
                     "rows_min": int(means["train_rows"].min()), "rows_max": int(means["train_rows"].max())})
    return pd.DataFrame(rows, columns=columns)
