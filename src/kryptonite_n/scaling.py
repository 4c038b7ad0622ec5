"""Where each learner breaks: accuracy and cost over n and training rows.

The generator draws Kryptonite-N for any n (a multiple of 3) and any number of rows, so every
model can be fitted on a grid of (n, training rows) and scored against the Bayes limit. A cell
is one (model, n, training rows, repeat). The training rows of a cell are a multiple of the
published size's training split (0.6 * 2000 * n), drawn fresh for each (n, rows, repeat) from
the study's feature layout of that n; the validation rows (for the models that stop early) keep
the published 20:60 ratio to them; every model of one n is scored on the same fixed-size test
set, drawn once per n in the same way.

Cells beyond a model's configured limits are not fitted but still reported, as rows with a
note, so the map shows where a model was not tried rather than a gap. A fit that fails on its
data (too few rows to infer anything) is a row with the failure as its note.

Cost per fit: ``fit_seconds`` is the wall time of the model's ``fit`` alone; ``peak_rss_mb`` is
how far the fit raised the resident memory of the process above what it held before the fit
(the data already loaded): each fit runs in a forked child, and the child's peak resident size
(``getrusage``'s ``ru_maxrss``) minus its resident size at the fork is reported. Memory the
fit takes from pages the process had already freed but kept is not counted.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import resource
import sys
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n import stats
from kryptonite_n.carbon import phase
from kryptonite_n.config import model_settings
from kryptonite_n.data import GeneratorSettings, Split, draw_rows, generate, target_accuracy
from kryptonite_n.io import DataError, write_csv
from kryptonite_n.models import MODELS, FitTask, accuracy, model_module, model_rank, spec

log = logging.getLogger(__name__)

#: Rows are drawn in blocks of this many, each seeded by its index, so the first k rows of a
#: repeat are the same whatever the largest cell of the grid: the cells of one repeat are
#: nested (a learning curve on growing data), and changing the grid changes no drawn row.
BLOCK_ROWS = 8192
#: The published training share of the labelled rows (60/20/20) and rows per feature.
PUBLISHED_TRAIN_SHARE = 0.6
PUBLISHED_ROWS_PER_FEATURE = 2000
#: Memory of one scaling job: the largest default cell (n = 90, four times the published rows)
#: holds 2 x 155 MB of features, and its fit adds up to 750 MB (LR with FSO).
JOB_MEM_MB = 2000
#: Tags mixed into the seeds so these draws differ from every other stage's.
TRAIN_TAG, VALIDATION_TAG, TEST_TAG = 0x5CA1, 0x7A11, 0x7E57

COLUMNS = ("model", "n", "train_rows", "rows_factor", "repeat", "test_rows", "test_acc", "train_acc",
           "bayes_acc", "target", "fit_seconds", "peak_rss_mb", "basis_size", "note")


def scaling_models(config: Mapping[str, Any]) -> list[str]:
    """Every model of the study, unless disabled in ``scaling.models``, but the mock paper's
    baseline (the claim the study answers, not a learner whose limits are in question) and a
    tuned model (its settings exist only where its search ran: the searched model is mapped)."""
    mapped = [m for m in MODELS if not spec(m).claim_baseline and not spec(m).tunes]
    section = config["scaling"].get("models", {})
    for model in section:
        if model not in mapped:
            raise DataError(f"invalid config at 'scaling.models': {model!r} is not a mapped model; "
                            f"expected one of {mapped}")
    return [m for m in mapped if section.get(m, {}).get("enabled", True)]


@dataclass(frozen=True)
class Limits:
    """The largest n and rows multiple a model is fitted at (None: no limit)."""

    max_n: int | None = None
    max_rows_factor: float | None = None

    def note(self, model: str, n: int, factor: float) -> str | None:
        """Why the cell is not fitted, or None when it is within the limits."""
        if self.max_n is not None and n > self.max_n:
            return f"not fitted: n = {n} is beyond scaling.models.{model}.max_n = {self.max_n}"
        if self.max_rows_factor is not None and factor > self.max_rows_factor:
            return (f"not fitted: {factor:g}x the published rows is beyond "
                    f"scaling.models.{model}.max_rows_factor = {self.max_rows_factor:g}")
        return None


def model_limits(config: Mapping[str, Any], model: str) -> Limits:
    section = config["scaling"].get("models", {}).get(model, {})
    return Limits(section.get("max_n"), section.get("max_rows_factor"))


def scaling_settings(config: Mapping[str, Any], model: str, n: int) -> dict[str, Any]:
    """The model's study settings for n, with the scaling stage's overrides on top."""
    settings = model_settings(config, model, n)
    settings.update(config["scaling"].get("models", {}).get(model, {}).get("settings", {}))
    return dict(sorted(settings.items()))


def train_rows(n: int, factor: float) -> int:
    """Training rows of a cell: ``factor`` times the published size's training split."""
    return max(1, round(factor * PUBLISHED_TRAIN_SHARE * PUBLISHED_ROWS_PER_FEATURE * n))


def scaled_dimensions(config: Mapping[str, Any]) -> dict[str, list[int]]:
    """model -> the n it has a scaling job for; empty when the stage is disabled."""
    if not config["scaling"]["enabled"]:
        return {}
    return {model: fitted_dimensions(config, model) for model in scaling_models(config)}


def validation_rows(train: int, share: float) -> int:
    """Validation rows beside ``train`` training rows (at least one when the model uses any)."""
    return max(1, round(train * share)) if share > 0 else 0


def fitted_dimensions(config: Mapping[str, Any], model: str) -> list[int]:
    """The n at which ``model`` has at least one cell within its limits (one job each)."""
    limits = model_limits(config, model)
    factors = config["scaling"]["train_rows"]
    return [n for n in config["scaling"]["dimensions"]
            if any(limits.note(model, n, f) is None for f in factors)]


def basis_size(model: str, n: int, settings: Mapping[str, Any]) -> int | None:
    """The model's expansion size at n (what makes a polynomial model stop); None for the others."""
    size = spec(model).basis_size
    return None if size is None else size(settings, n)


def noise_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The study's generator settings the scaling draws use (noise scales, flip rate, irrelevant
    share), not its row counts, which the grid sets: changing the study's rows reruns no scaling job."""
    return {k: v for k, v in sorted(config.get("generator", {}).items())
            if k not in ("rows_per_feature", "hidden_rows")}


def generator_settings(config: Mapping[str, Any]) -> GeneratorSettings:
    """The generator of the scaling draws."""
    return GeneratorSettings(**noise_settings(config), rows_per_feature=1, hidden_rows=1)


def job_params(config: Mapping[str, Any], model: str) -> dict[str, Any]:
    """What one model's scaling jobs read of the configuration: the grid with only this model's
    limits (another model's change reruns none of them), the noise settings and the seed."""
    scaling = config["scaling"]
    grid = {key: scaling[key] for key in sorted(scaling) if key != "models"}
    return {"scaling": grid | {"models": {model: scaling["models"].get(model, {})}},
            "generator": noise_settings(config), "seed": config["seed"]}


def collect_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the collecting job needs to write the noted rows of the cells no job fits: the grid,
    the noise settings, and the settings of only the unfitted (model, n) (a fitted cell's
    setting changes its own job, not this one)."""
    scaled = scaled_dimensions(config)
    unfitted = {model: {str(n): scaling_settings(config, model, n)
                        for n in config["scaling"]["dimensions"] if n not in dimensions}
                for model, dimensions in scaled.items()}
    return {"scaling": config["scaling"], "generator": noise_settings(config),
            "unfitted_settings": unfitted}


def bayes_accuracy(settings: GeneratorSettings, n: int) -> float:
    """1 - p(n): no rule beats it on average (the bits are recovered from the features almost
    surely, so the flipped labels are the only loss)."""
    return 1.0 - settings.flip_rate_for(n)


# --------------------------------------------------------------------------- data


@dataclass
class Layout:
    """The feature layout of one n: which family each feature has, which are informative."""

    n: int
    families: list[str]
    informative: np.ndarray
    flip_rate: float
    scales: dict[str, float]


def layout(n: int, seed: int, settings: GeneratorSettings) -> Layout:
    """The study's layout for n and seed (generate() draws it first, whatever the row count)."""
    truth = generate(n, seed, settings).truth
    return Layout(n, truth["families"], np.array(truth["informative"]), truth["flip_rate"],
                  dict(truth["scales"]))


def draw(plan: Layout, rows: int, *key: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``rows`` rows of the layout's stream ``key`` (blocks of BLOCK_ROWS, block b
    seeded by (*key, b)): deterministic, and a prefix of any longer draw of the same key."""
    parts_X, parts_y = [], []
    for block in range(-(-rows // BLOCK_ROWS)):
        rng = np.random.default_rng(np.random.SeedSequence([*key, block]))
        size = min(BLOCK_ROWS, rows - block * BLOCK_ROWS)
        X, y, _ = draw_rows(rng, size, plan.families, plan.scales, plan.informative, plan.flip_rate)
        parts_X.append(X)
        parts_y.append(y)
    if not parts_X:
        return np.zeros((0, plan.n), dtype=np.float32), np.zeros(0, dtype=np.int64)
    return np.concatenate(parts_X), np.concatenate(parts_y)


def informative_by_noise(X: np.ndarray) -> list[int]:
    """Features whose residual noise is inferred not to be the irrelevant family's."""
    from kryptonite_n.data import IRRELEVANT_FAMILY
    from kryptonite_n.explore import infer_family, residuals

    return [j for j in range(X.shape[1]) if infer_family(residuals(X[:, j])) != IRRELEVANT_FAMILY]


# --------------------------------------------------------------------------- one fit


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _fit_and_score(model: str, task: FitTask, X_test: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    """Fit one repeat and score it; runs in the forked child."""
    from kryptonite_n.models.driver import predict_in_batches

    start_mb = _resident_mb()
    started = time.perf_counter()
    predictor = model_module(model).fit(task)[0]
    fit_seconds = time.perf_counter() - started
    peak_mb = _peak_mb()
    X_train, y_train = task.part(0, "train")
    details = predictor.details()
    return {
        "test_acc": accuracy(predict_in_batches(predictor, X_test, 8192), y_test),
        "train_acc": accuracy(predict_in_batches(predictor, X_train, 8192), y_train),
        "fit_seconds": fit_seconds,
        "peak_rss_mb": max(0.0, peak_mb - start_mb),
        # A fit that knows it failed says so (GF(2): no solution clearly better than chance).
        "note": (details.get("warning") or details.get("note")) if isinstance(details, dict) else None,
    }


def _child(connection, model: str, task: FitTask, X_test: np.ndarray, y_test: np.ndarray) -> None:
    try:
        result = _fit_and_score(model, task, X_test, y_test)
    except (DataError, ValueError) as error:  # the model says the data cannot be fitted
        result = {"error": f"fit failed: {error}"}
    except BaseException:  # anything else is a bug: send it to the parent to raise
        result = {"crash": traceback.format_exc()}
    connection.send(result)
    connection.close()


def run_forked(model: str, task: FitTask, X_test: np.ndarray, y_test: np.ndarray) -> dict[str, Any]:
    """Fit and score in a forked child so that its peak memory is its own."""
    if not sys.platform.startswith("linux"):  # no fork: measure in-process, memory unknown
        return {**_fit_and_score(model, task, X_test, y_test), "peak_rss_mb": math.nan}
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, model, task, X_test, y_test))
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        result = {"crash": f"the fit's process died (exit code {process.join() or process.exitcode})"}
    process.join()
    if "crash" in result:
        raise RuntimeError(f"{model} n={task.n} crashed:\n{result['crash']}")
    return result


# --------------------------------------------------------------------------- the stage


def cells(model: str, n: int, factors: Sequence[float], repeats: int,
          limits: Limits) -> Iterator[tuple[float, int, str | None]]:
    """(rows multiple, repeat, note) of every cell, repeat by repeat (each repeat's rows are
    drawn once)."""
    for repeat in range(repeats):
        for factor in factors:
            yield factor, repeat, limits.note(model, n, factor)


def _row(model: str, n: int, factor: float, repeat: int, bayes: float, basis: int | None,
         test_rows: int) -> dict[str, Any]:
    return {"model": model, "n": n, "train_rows": train_rows(n, factor), "rows_factor": factor,
            "repeat": repeat, "test_rows": test_rows, "test_acc": math.nan, "train_acc": math.nan,
            "bayes_acc": bayes,
            "target": target_accuracy(n), "fit_seconds": math.nan, "peak_rss_mb": math.nan,
            "basis_size": basis, "note": None}


def scale_model(model: str, n: int, scaling: Mapping[str, Any], settings: Mapping[str, Any], *,
                seed: int, generator: GeneratorSettings, limits: Limits) -> pd.DataFrame:
    """Every cell of (model, n): fitted within the limits, a noted row beyond them.

    Per repeat, the training (and validation) rows of the largest fitted cell are drawn once;
    each cell takes their first rows.
    """
    # Imported here, before any fork: a fit's time and memory are then the fit's alone.
    import importlib

    from tqdm import tqdm

    model_module(model)
    for module in spec(model).imports:
        importlib.import_module(module)
    importlib.import_module("kryptonite_n.models.driver")
    plan = layout(n, seed, generator)
    bayes = bayes_accuracy(generator, n)
    basis = basis_size(model, n, settings)
    X_test, y_test = draw(plan, int(scaling["test_rows"]), seed, n, TEST_TAG)
    grid = list(cells(model, n, scaling["train_rows"], int(scaling["repeats"]), limits))
    largest = max((train_rows(n, f) for f, _, note in grid if note is None), default=0)
    # Only a model that reads validation rows (early stopping) is given them: a third fewer rows drawn.
    share = float(scaling["validation_share"]) if spec(model).uses_validation else 0.0
    streams: dict[int, tuple[np.ndarray, ...]] = {}
    rows = []
    for factor, repeat, note in tqdm(grid, desc=f"scaling {model} n={n}", file=sys.stderr, mininterval=5):
        row = _row(model, n, factor, repeat, bayes, basis, len(y_test))
        if note is not None:
            row["note"] = note
            rows.append(row)
            continue
        if repeat not in streams:
            validation = validation_rows(largest, share)
            streams = {repeat: (*draw(plan, largest, seed, n, TRAIN_TAG, repeat),
                                *draw(plan, validation, seed, n, VALIDATION_TAG, repeat))}
        X_all, y_all, X_val_all, y_val_all = streams[repeat]
        n_train = row["train_rows"]
        n_validation = validation_rows(n_train, share)
        X = np.concatenate([X_all[:n_train], X_val_all[:n_validation]])
        y = np.concatenate([y_all[:n_train], y_val_all[:n_validation]])
        split = Split(np.arange(n_train), np.arange(n_train, n_train + n_validation), np.zeros(0, int))
        # Oracle-assisted models are handed the features inferred informative by noise shape,
        # inferred here from the cell's own training rows, as the study does per n.
        informative = informative_by_noise(X[:n_train]) if spec(model).oracle_assisted else []
        task = FitTask(n=n, X=X, y=y, splits=[split], repeats=[repeat], settings=dict(settings),
                       seed=seed, informative_by_repeat=[informative], threads=1)
        result = run_forked(model, task, X_test, y_test)
        if "error" in result:
            row["note"] = result["error"]
        else:
            row.update(result)
        log.info("%s n=%d rows=%d repeat %d: %s", model, n, n_train, repeat,
                 {k: row[k] for k in ("test_acc", "fit_seconds", "peak_rss_mb", "note")})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def run_scaling_job(model: str, n: int, out: Path | str, *, scaling: Mapping[str, Any],
                    settings: Mapping[str, Any], seed: int, generator: Mapping[str, Any]) -> None:
    """The workflow job of one (model, n): fit its cells and write them as a CSV."""
    config = {"scaling": scaling, "generator": generator}
    with phase("scaling"):
        table = scale_model(model, n, scaling, settings, seed=seed, generator=generator_settings(config),
                            limits=model_limits(config, model))
    write_csv(out, table)


def unfitted_rows(config: Mapping[str, Any]) -> pd.DataFrame:
    """Noted rows of every (model, n) that has no job: every cell beyond the model's limits.

    ``config`` holds ``scaling`` and ``generator``, and either the study's ``models`` or, from
    the workflow, ``unfitted_settings`` (model -> str(n) -> settings of the unfitted n only).
    """
    generator = generator_settings(config)
    scaling = config["scaling"]
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
            grid = cells(model, n, scaling["train_rows"], int(scaling["repeats"]), limits)
            for factor, repeat, note in grid:
                row = _row(model, n, factor, repeat, bayes_accuracy(generator, n), basis,
                           int(scaling["test_rows"]))
                row["note"] = note
                rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def collect_scaling(tables: Sequence[Path | str], out: Path | str, config: Mapping[str, Any]) -> pd.DataFrame:
    """results/scaling.csv: the fitted cells of every job and the noted cells of no job."""
    parts = [pd.read_csv(path) for path in tables]
    for path, part in zip(tables, parts, strict=True):
        missing = set(COLUMNS) - set(part.columns)
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}")
    parts.append(unfitted_rows(config))
    frames = [p for p in parts if not p.empty]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(COLUMNS))
    table = table.sort_values(["model", "n", "rows_factor", "repeat"], ignore_index=True,
                              key=lambda c: c.map(model_rank) if c.name == "model" else c)
    write_csv(out, table[list(COLUMNS)])
    return table


# --------------------------------------------------------------------------- analysis


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
    """The rows multiple the page's per-n comparisons use: the published size (×1) when the grid
    has it, else its largest."""
    return 1.0 if (table["rows_factor"] == 1.0).any() else float(table["rows_factor"].max())


def binary_entropy(p: float) -> float:
    if p <= 0 or p >= 1:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def parity_rows_floor(n: int, flip_rate: float) -> float:
    """Fewest labelled rows from which any learner can name the parity among all 2^n.

    Each label is the parity's bit sent through a binary symmetric channel that flips it with
    probability p, so one row tells at most 1 - H(p) bits about which parity it is (the
    channel's capacity; the features cost the learner nothing, it may choose them freely).
    Naming one of 2^n parities without error needs n bits, so by Fano's inequality m rows
    identify it with error below 1/2 only if m (1 - H(p)) >= n/2 - 1, and with vanishing
    error only if m >= n / (1 - H(p)). This returns n / (1 - H(p)): a lower bound for exact
    recovery. A parity other than the true one agrees with half the labels, so any rule of
    that class above the mock targets must be the true parity.
    """
    return n / (1.0 - binary_entropy(flip_rate))


def goal_accuracy(target: float | None, bayes: float) -> tuple[float, str]:
    """What a model must reach at n: the challenge target, or 99 % of Bayes where n has none."""
    if target is not None and not (isinstance(target, float) and math.isnan(target)):
        return float(target), "target"
    return 0.99 * bayes, "99% of Bayes"


def mean_interval(values: np.ndarray, test_rows: int) -> tuple[float, float, float]:
    """Mean test accuracy of a cell's repeats and a 95 % interval, within [0, 1].

    With two or more repeats: Student's t over the repeats (``kryptonite_n.stats``, as the
    summary; fresh training rows each, so it holds the spread of the fit); with one: the
    binomial interval of the test set alone.
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) >= 2:
        low, high = stats.mean_interval(values)
        return mean, low, high
    half = 1.96 * math.sqrt(max(mean * (1 - mean), 1e-12) / test_rows)
    return mean, max(0.0, mean - half), min(1.0, mean + half)


def cell_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, n, rows): repeats fitted, mean test accuracy with its 95 % interval,
    relative to Bayes, the goal and whether the mean reaches it, the note of unfitted cells."""
    out = []
    keys = ["model", "n", "rows_factor", "train_rows"]
    for (model, n, factor, rows), group in table.groupby(keys, sort=False):
        fitted = group[group["test_acc"].notna()]
        bayes = float(group["bayes_acc"].iloc[0])
        target = group["target"].iloc[0]
        goal, kind = goal_accuracy(None if pd.isna(target) else float(target), bayes)
        row = {"model": model, "n": int(n), "rows_factor": float(factor), "train_rows": int(rows),
               "repeats": len(fitted), "bayes_acc": bayes, "goal": goal, "goal_kind": kind,
               "mean": math.nan, "low": math.nan, "high": math.nan, "relative": math.nan,
               "reached": None, "fit_seconds": math.nan, "peak_rss_mb": math.nan,
               "note": "; ".join(dict.fromkeys(str(v) for v in group["note"].dropna())) or None}
        if len(fitted):
            mean, low, high = mean_interval(fitted["test_acc"].to_numpy(), int(group["test_rows"].iloc[0]))
            row |= {"mean": mean, "low": low, "high": high, "relative": mean / bayes,
                    "reached": bool(mean >= goal), "fit_seconds": float(fitted["fit_seconds"].mean()),
                    "peak_rss_mb": float(fitted["peak_rss_mb"].mean())}
        out.append(row)
    return pd.DataFrame(out)


def rows_needed(table: pd.DataFrame) -> pd.DataFrame:
    """Per (model, n): the fewest training rows of the grid at which the mean test accuracy
    over repeats reaches the goal (the challenge target, or 99 % of Bayes where n has none),
    with whether it is censored (reached at the smallest rows tried, or never reached)."""
    fitted = table[table["test_acc"].notna()]
    out = []
    for (model, n), group in fitted.groupby(["model", "n"], sort=False):
        means = group.groupby("train_rows")["test_acc"].mean().sort_index()
        target = group["target"].dropna()
        threshold, kind = goal_accuracy(float(target.iloc[0]) if len(target) else None,
                                        float(group["bayes_acc"].iloc[0]))
        reached = means[means >= threshold]
        row = {"model": model, "n": int(n), "threshold": threshold, "threshold_kind": kind,
               "flip_rate": 1.0 - float(group["bayes_acc"].iloc[0]),
               "smallest_tried": int(means.index.min()), "largest_tried": int(means.index.max())}
        if reached.empty:
            row |= {"rows_needed": math.nan, "status": "never reached"}
        else:
            first = int(reached.index.min())
            row |= {"rows_needed": first,
                    "status": ("at or below the smallest tried" if first == row["smallest_tried"]
                               else "reached")}
        out.append(row)
    return pd.DataFrame(out)


def cost_slopes(table: pd.DataFrame, measure: str = "fit_seconds", factor: float = 1.0) -> pd.DataFrame:
    """Per model: the slope of log(measure) against log(n) at one rows multiple (the fitted
    exponent: cost ~ n^slope), with a 95 % interval from the least-squares standard error."""
    from scipy import stats as scipy_stats

    columns = ["model", "measure", "rows_factor", "slope", "low", "high", "points", "n_min", "n_max"]
    rows = []
    data = table[(table["rows_factor"] == factor) & table[measure].notna() & (table[measure] > 0)]
    for model, group in data.groupby("model", sort=False):
        means = group.groupby("n")[measure].mean()
        if len(means) < 3:
            continue
        fit = scipy_stats.linregress(np.log(means.index.to_numpy(float)), np.log(means.to_numpy(float)))
        half = scipy_stats.t.ppf(0.975, len(means) - 2) * fit.stderr
        rows.append({"model": model, "measure": measure, "rows_factor": factor, "slope": fit.slope,
                     "low": fit.slope - half, "high": fit.slope + half, "points": len(means),
                     "n_min": int(means.index.min()), "n_max": int(means.index.max())})
    return pd.DataFrame(rows, columns=columns)
