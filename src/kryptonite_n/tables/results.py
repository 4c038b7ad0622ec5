"""The study's result files as tidy tables for the report: strict about columns, lenient about absence.

A stage that a run disables simply contributes no file, so every reader here accepts an empty
list of paths. A file that is present but malformed is an error naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from kryptonite_n.compute.bayes import bayes_limit
from kryptonite_n.compute.data import TARGETS, read_truths
from kryptonite_n.io import read_table
from kryptonite_n.plan.config import load_schema
from kryptonite_n.plan.models import model_rank, specs
from kryptonite_n.plan.paths import n_of, repeat_of
from kryptonite_n.stats import interval_method, mean_interval, resampling_ratio

#: How the report names each model, and what it is, in one line (from the models' specs).
MODEL_LABELS = {spec.name: spec.label for spec in specs()}
MODEL_DESCRIPTIONS = {spec.name: spec.description for spec in specs()}


def model_label(model: str) -> str:
    """How the report names ``model`` (its own name when it has no label)."""
    return MODEL_LABELS.get(model, model)


def read_tables(paths: Iterable[Path | str], required: Sequence[str] = (), *, add_n: bool = False,
                add_repeat: bool = False, sep: str = ",") -> pd.DataFrame:
    """Concatenate tables, labelling rows with the n / repeat of their path when asked."""
    frames = []
    for path in paths:
        frame = read_table(path, required, sep)
        if add_n and "n" not in frame.columns:
            frame.insert(0, "n", n_of(path))
        if add_repeat and "repeat" not in frame.columns:
            frame.insert(1 if add_n else 0, "repeat", repeat_of(path))
        frames.append(frame)
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        extra = (["n"] if add_n else []) + (["repeat"] if add_repeat else [])
        return pd.DataFrame(columns=[*extra, *required])
    return pd.concat(frames, ignore_index=True)


BAYES_COLUMNS = ["n", "flip_rate", "bayes", "bayes_low", "bayes_high", "bayes_source", "target"]


def inapplicable_repeats(metrics_tables: Iterable[Path | str]) -> set[tuple[str, int, int]]:
    """The (model, n, repeat) whose model did not apply to the data (no test accuracy is its
    own, so nothing computed from its outputs is either)."""
    metrics = read_tables(metrics_tables, ["model", "n", "repeat", "test_acc"])
    inapplicable = metrics[pd.to_numeric(metrics["test_acc"], errors="coerce").isna()]
    return {(str(r.model), int(r.n), int(r.repeat)) for r in inapplicable.itertuples()}


def bayes_limits(truths: dict[int, dict]) -> pd.DataFrame:
    """Per n: the label-flip rate (None when unknown) and the Bayes limit (``kryptonite_n.compute.bayes``).

    Generated data give the generator's exact Bayes accuracy; published data an estimate with
    its interval and the name of its method. The summary reads the same function.
    """
    rows = []
    for n, truth in sorted(truths.items()):
        limit = bayes_limit(truth) or {}
        flip = truth.get("flip_rate")
        rows.append({"n": n, "flip_rate": None if flip is None else float(flip),
                     "bayes": limit.get("accuracy"), "bayes_low": limit.get("ci_low"),
                     "bayes_high": limit.get("ci_high"), "bayes_source": limit.get("source", ""),
                     "target": TARGETS.get(n)})
    return pd.DataFrame(rows, columns=BAYES_COLUMNS)


METRIC_COLUMNS = ("model", "n", "repeat", "test_acc")


HEADLINE_COLUMNS = ["model", "label", "n", "repeats", "test_mean", "test_std", "test_low", "test_high",
                    "ci_method", "hidden_mean", "whole_mean", "target", "bayes", "bayes_low", "bayes_high",
                    "bayes_source", "passes", "note"]
SUMMARY_COLUMNS = ("model", "n", "repeats", "test_acc_mean", "test_acc_std", "target", "bayes_acc",
                   "meets_target")


def in_model_order(table: pd.DataFrame, *keys: str) -> pd.DataFrame:
    """``table`` in the report's model order, then by ``keys`` (a stable sort, index reset)."""
    ranked = table.assign(_rank=table["model"].map(model_rank))
    return ranked.sort_values(["_rank", *keys], kind="stable").drop(columns="_rank").reset_index(drop=True)


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    table["n"] = table["n"].astype(int)
    table["label"] = table["model"].map(model_label)
    return in_model_order(table, "n")[HEADLINE_COLUMNS]


def default_resampling_ratio() -> float:
    """n_test / n_train of the schema's default split (for tables made without a configuration)."""

    split = load_schema()["properties"]["split"]["properties"]
    return resampling_ratio({key: split[key]["default"] for key in ("train", "test")})


def accuracy_summary(metrics: pd.DataFrame, limits: pd.DataFrame,
                     test_over_train: float | None = None) -> pd.DataFrame:
    """Every fitted (model, n): repeats, mean ± sample std of test accuracy, target, Bayes limit, pass.

    The interval is the summary's (corrected resampled t, ``test_over_train`` = n_test / n_train;
    None: the schema's default split).
    """
    if metrics.empty:
        return pd.DataFrame(columns=HEADLINE_COLUMNS)
    ratio = default_resampling_ratio() if test_over_train is None else test_over_train
    frame = metrics.copy()
    for column in ("hidden_acc", "whole_set_acc"):
        if column not in frame.columns:
            frame[column] = np.nan
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    table = frame.groupby(["model", "n"], sort=False).agg(
        repeats=("test_acc", "size"), test_mean=("test_acc", "mean"),
        test_std=("test_acc", "std"),  # the sample std (ddof=1): NaN for one repeat
        test_low=("test_acc", lambda s: mean_interval(s, test_over_train=ratio).low),
        test_high=("test_acc", lambda s: mean_interval(s, test_over_train=ratio).high),
        hidden_mean=("hidden_acc", "mean"), whole_mean=("whole_set_acc", "mean"),
    ).reset_index()
    table["n"] = table["n"].astype(int)
    table = table.merge(limits[["n", "bayes", "bayes_low", "bayes_high", "bayes_source"]], on="n", how="left")
    table["target"] = table["n"].map(TARGETS)
    table["ci_method"] = [interval_method(ratio) if not pd.isna(low) else "" for low in table["test_low"]]
    # As in the summary: met only when the 95 % interval of the mean clears the target.
    table["passes"] = [None if pd.isna(t) else bool(low is not None and not pd.isna(low) and low >= t)
                       for low, t in zip(table["test_low"], table["target"], strict=True)]
    table["note"] = ""
    return _finish(table)


def _flag(value: object) -> bool | None:
    text = str(value).strip().lower()
    return {"true": True, "false": False, "1": True, "0": False}.get(text)


def summary_headline(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary stage's table (results/summary.csv) in the report's headline form.

    Rows for (model, n) pairs that were not run keep their note and have no accuracy.
    """
    if summary.empty:
        return pd.DataFrame(columns=HEADLINE_COLUMNS)
    numeric = {"repeats": "repeats", "test_acc_mean": "test_mean", "test_acc_std": "test_std",
               "test_acc_ci_low": "test_low", "test_acc_ci_high": "test_high",
               "hidden_acc_mean": "hidden_mean", "whole_set_acc": "whole_mean", "target": "target",
               "bayes_acc": "bayes", "bayes_ci_low": "bayes_low", "bayes_ci_high": "bayes_high"}
    table = pd.DataFrame({"model": summary["model"].astype(str), "n": summary["n"]})
    for source, name in numeric.items():
        table[name] = pd.to_numeric(summary[source], errors="coerce") if source in summary else np.nan
    for column in ("bayes_source", "ci_method"):
        table[column] = (summary[column].astype(object).fillna("").astype(str)
                         if column in summary else "")
    table["passes"] = [_flag(v) for v in summary["meets_target"]]
    table["note"] = summary["note"].astype(object).fillna("").astype(str) if "note" in summary else ""
    return _finish(table)


def headline_table(summary_paths: Sequence[str | Path], metric_paths: Sequence[str | Path],
                   truth_paths: Sequence[str | Path], test_over_train: float | None = None) -> pd.DataFrame:
    """The study's results table: the summary stage's when it ran, else computed from the fits
    (``test_over_train`` as in ``accuracy_summary``)."""
    if summary_paths:
        return summary_headline(read_tables(summary_paths, SUMMARY_COLUMNS))
    limits = bayes_limits(read_truths(truth_paths))
    return accuracy_summary(read_tables(metric_paths, METRIC_COLUMNS), limits, test_over_train)


def tied_with_best(group: pd.DataFrame) -> pd.DataFrame:
    """The rows of one n's headline table tied with the best mean test accuracy, best first.

    Tied: the row's 95 % interval overlaps the best one's (the best has the highest mean, so
    overlap is its high end at or above the best's low end; a best without an interval, one
    repeat, is its mean). A row without an interval ties only at an equal mean. Ordered by mean,
    then by the table's order.
    """
    group = group[pd.to_numeric(group["test_mean"], errors="coerce").notna()]
    if group.empty:
        return group
    means = group["test_mean"].astype(float)
    best = group.loc[means.idxmax()]
    equal = np.isclose(means, float(best["test_mean"]), rtol=0, atol=1e-12)
    low = pd.to_numeric(pd.Series([best["test_low"]]), errors="coerce").iloc[0]
    low = float(best["test_mean"]) if pd.isna(low) else float(low)
    overlaps = pd.to_numeric(group["test_high"], errors="coerce").ge(low).to_numpy()
    tied = group[equal | overlaps]
    return tied.iloc[np.argsort(-tied["test_mean"].astype(float).to_numpy(), kind="stable")]


def parse_features(value: object) -> list[int]:
    """A feature list as written in a CSV cell ("[1, 4, 5]", "1 4 5", "1;4;5") -> [1, 4, 5]."""
    # An empty cell (None, NaN) reads as "None"/"nan": no digits, no feature.
    return [int(token) for token in re.findall(r"\d+", str(value))]


def monomial_name(value: object) -> str:
    """A monomial written as feature indices ("1 2 4") -> "x1·x2·x4"; other spellings unchanged."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:[ ,;*]+\d+)*", text):
        return "·".join(f"x{j}" for j in re.findall(r"\d+", text))
    return text


#: Fewer label-preserving points than this (pooled over repeats) give no number: one point
#: would print as 1.0000 or 0.0000.
MIN_PRESERVING_POINTS = 30
#: What each kind of robust accuracy is, in words (``attacks.BOUNDS``' values).
BOUND_WORDS = {"exact": "exact worst case", "upper": "upper bound", "average": "average over noise draws"}


def attack_summary(adversarial: pd.DataFrame, by: str = "model") -> pd.DataFrame:
    """Accuracies per (``by``, n, scope, attack, bound, eps), pooled over repeats by points.

    Each repeat's accuracy counts in proportion to its points: ``points`` and
    ``label_preserving_points`` are the totals over repeats. The label-preserving accuracy is
    left empty below ``MIN_PRESERVING_POINTS`` (its count is kept, to say why).
    """
    keys = [by, "n", "scope", "attack", *(["bound"] if "bound" in adversarial.columns else []), "eps"]
    columns = [*keys, "clean_acc", "robust_acc", "label_preserving_acc", "points", "label_preserving_points",
               "repeats"]
    if adversarial.empty:
        return pd.DataFrame(columns=columns)
    frame = adversarial.copy()
    for column in ("clean_acc", "robust_acc", "label_preserving_acc", "points", "label_preserving_points"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    preserving = frame["label_preserving_points"].fillna(0)
    frame["_clean"] = frame["clean_acc"] * frame["points"]
    frame["_robust"] = frame["robust_acc"] * frame["points"]
    # A repeat with no label-preserving point has no accuracy there: it adds nothing (0 × its
    # accuracy, or NaN, which the sum skips).
    frame["_preserving"] = frame["label_preserving_acc"] * preserving
    table = frame.groupby(keys, sort=True).agg(
        _clean=("_clean", "sum"), _robust=("_robust", "sum"), _preserving=("_preserving", "sum"),
        points=("points", "sum"), label_preserving_points=("label_preserving_points", "sum"),
        repeats=("repeat", "nunique"),
    ).reset_index()
    table["points"] = table["points"].astype(int)
    table["label_preserving_points"] = table["label_preserving_points"].astype(int)
    table["clean_acc"] = table["_clean"] / table["points"]
    table["robust_acc"] = table["_robust"] / table["points"]
    enough = table["label_preserving_points"] >= MIN_PRESERVING_POINTS
    table["label_preserving_acc"] = (table["_preserving"] / table["label_preserving_points"]).where(enough)
    return table[columns]


BENCHMARK_SUFFIX = ".benchmark.tsv"


def benchmark_table(logs_dir: Path | str) -> pd.DataFrame:
    """Every finished job's Snakemake benchmark: job (its log path), stage folder, seconds, memory."""
    logs_dir = Path(logs_dir)
    rows = []
    for path in sorted(logs_dir.glob(f"**/*{BENCHMARK_SUFFIX}")):
        frame = read_table(path, ["s"], sep="\t")
        if frame.empty:
            continue
        job = path.relative_to(logs_dir).as_posix().removesuffix(BENCHMARK_SUFFIX)
        rows.append({
            "job": job, "stage": job.split("/")[0], "s": float(frame["s"].mean()),
            "max_rss_mb": float(pd.to_numeric(frame.get("max_rss"), errors="coerce").mean())
            if "max_rss" in frame else np.nan,
            "cpu_time_s": float(pd.to_numeric(frame.get("cpu_time"), errors="coerce").mean())
            if "cpu_time" in frame else np.nan,
        })
    return pd.DataFrame(rows, columns=["job", "stage", "s", "max_rss_mb", "cpu_time_s"])
