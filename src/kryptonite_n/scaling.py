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

The study's own fits are cells of the map (``source`` = ``study``): where the study fits a
model at n on generated data whose training (and validation) rows are those of a grid multiple
(×1 on the default configuration), that cell is the study's repeats, not a refit. The data is
the same generator, feature layout and row counts, the settings the study's: the same
computation on another draw, and so the cell and the summary's row of (model, n) agree by
construction, interval included (the same corrected resampled t, since those repeats re-split
one set: ``test_over_train``). Its fit seconds are not comparable (the study trains its
repeats together) and are left out of the cost. Every other cell is fitted here
(``source`` = ``scaling``), with the stage's settings overrides, if any.

A cell reaches its goal as the summary judges a target: when the low end of the 95 % interval
of its mean clears it (one repeat has no interval, so it cannot show that). Break points per
(model, rows multiple) are written to ``results/scaling/breaks.csv``.

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

from kryptonite_n import paths, stats
from kryptonite_n.bayes import bayes_limit
from kryptonite_n.carbon import phase
from kryptonite_n.config import model_dimensions, model_settings
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
           "bayes_acc", "target", "fit_seconds", "peak_rss_mb", "basis_size", "note", "source",
           "test_over_train")
#: ``source`` of a cell fitted by this stage, and of one that is the study's own fits.
SCALING_FIT, STUDY_FIT = "scaling", "study"
#: results/scaling/breaks.csv: per (model, rows multiple), where the model stops reaching its goal.
BREAKS = f"{paths.RESULTS}/scaling/breaks.csv"
BREAK_COLUMNS = ("model", "rows_factor", "source", "largest_n_reaching", "mean", "ci_low", "ci_high",
                 "goal", "first_n_below", "below_mean", "below_ci_low", "below_ci_high", "below_goal",
                 "below_goal_kind", "largest_n_fitted", "first_n_not_fitted")


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
    """The n at which ``model`` has a cell within its limits that is not the study's own fits
    (one job each)."""
    limits = model_limits(config, model)
    factors = config["scaling"]["train_rows"]
    reused = study_cells(config, model)
    return [n for n in config["scaling"]["dimensions"]
            if any(limits.note(model, n, f) is None and reused.get(n) != f for f in factors)]


def study_rows(config: Mapping[str, Any], n: int) -> tuple[int, int, int] | None:
    """(training, validation, test) rows of the study's split at n on generated data; None on
    published files (other data than the generator's)."""
    if config.get("data_dir") is not None:
        return None
    rows = int(config.get("generator", {}).get("rows_per_feature", PUBLISHED_ROWS_PER_FEATURE)) * n
    split = config["split"]
    train, validation = round(split["train"] * rows), round(split["validation"] * rows)
    return train, validation, rows - train - validation


def study_cells(config: Mapping[str, Any], model: str) -> dict[int, float]:
    """n -> the grid's rows multiple whose cell of ``model`` is the study's own fits at n.

    Only where the study fits the model at n on generated data, within the model's scaling
    limits, with the training rows of that multiple and, for a model that stops early, the
    validation rows this stage would give it: then the study's fit is this cell's computation
    (the generator and layout are the study's either way) and refitting would only redraw it.
    """
    if "split" not in config or "models" not in config or not config["scaling"]["enabled"]:
        return {}
    limits = model_limits(config, model)
    share = float(config["scaling"]["validation_share"]) if spec(model).uses_validation else 0.0
    fitted = set(model_dimensions(config, model))
    cells_ = {}
    for n in config["scaling"]["dimensions"]:
        rows = study_rows(config, n)
        if rows is None or n not in fitted:
            continue
        for factor in config["scaling"]["train_rows"]:
            if (limits.note(model, n, factor) is None and train_rows(n, factor) == rows[0]
                    and (share == 0 or validation_rows(rows[0], share) == rows[1])):
                cells_[n] = float(factor)
                break
    return cells_


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
    # The reason a setting differs is the page's to say: editing it reruns no fit.
    section = {k: v for k, v in scaling["models"].get(model, {}).items() if k != "reason"}
    return {"scaling": grid | {"models": {model: section}},
            "generator": noise_settings(config), "seed": config["seed"]}


def study_factor(config: Mapping[str, Any], model: str, n: int) -> float | None:
    """The rows multiple of (model, n) whose cells are the study's fits, not this job's."""
    return study_cells(config, model).get(int(n))


def study_metrics(config: Mapping[str, Any]) -> list[str]:
    """The study's metrics tables that are cells of the map (every model, every reused n)."""
    if not config["scaling"]["enabled"]:
        return []
    return [paths.fill(paths.METRICS_TABLE, model=model, n=n)
            for model in scaling_models(config) for n in study_cells(config, model)]


def collect_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the collecting job needs to write the noted rows of the cells no job fits: the grid,
    the noise settings, and the settings of only the unfitted (model, n) (a fitted cell's
    setting changes its own job, not this one); and, for the cells that are the study's fits,
    their rows multiple, the study's settings and its split's test rows."""
    scaled = scaled_dimensions(config)
    unfitted = {model: {str(n): scaling_settings(config, model, n)
                        for n in config["scaling"]["dimensions"] if n not in dimensions}
                for model, dimensions in scaled.items()}
    study = {model: {str(n): {"rows_factor": factor, "test_rows": study_rows(config, n)[2],
                              "settings": model_settings(config, model, n)}
                     for n, factor in study_cells(config, model).items()}
             for model in scaled}
    return {"scaling": config["scaling"], "generator": noise_settings(config), "seed": config["seed"],
            "unfitted_settings": unfitted, "study_cells": study, "test_over_train": resampled_share(config)}


def resampled_share(config: Mapping[str, Any]) -> float:
    """n_test / n_train of the study's split: the correction of its repeats' interval (they
    re-split one set), which the cells that are the study's fits share with the summary."""
    return stats.resampling_ratio(config["split"]) if "split" in config else 0.0


# --------------------------------------------------------------------------- data


@dataclass
class Layout:
    """The feature layout of one n: which family each feature has, which are informative."""

    n: int
    families: list[str]
    informative: np.ndarray
    flip_rate: float
    scales: dict[str, float]
    #: The Bayes accuracy of the layout, as ``kryptonite_n.bayes`` defines it for generated data.
    bayes: float


def layout(n: int, seed: int, settings: GeneratorSettings) -> Layout:
    """The study's layout for n and seed (generate() draws it first, whatever the row count)."""
    truth = generate(n, seed, settings).truth
    return Layout(n, truth["families"], np.array(truth["informative"]), truth["flip_rate"],
                  dict(truth["scales"]), float(bayes_limit(truth)["accuracy"]))


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
    from kryptonite_n.models.driver import NOT_APPLICABLE, predict_in_batches

    start_mb = _resident_mb()
    started = time.perf_counter()
    predictor = model_module(model).fit(task)[0]
    fit_seconds = time.perf_counter() - started
    peak_mb = _peak_mb()
    X_train, y_train = task.part(0, "train")
    details = predictor.details()
    if details.get("not_applicable"):
        return {"test_acc": None, "train_acc": None, "fit_seconds": fit_seconds,
                "peak_rss_mb": max(0.0, peak_mb - start_mb),
                "note": f"{NOT_APPLICABLE}: {details['not_applicable']}"}
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


def cells(model: str, n: int, factors: Sequence[float], repeats: int, limits: Limits,
          study_factor: float | None = None) -> Iterator[tuple[float, int, str | None]]:
    """(rows multiple, repeat, note) of every cell, repeat by repeat (each repeat's rows are
    drawn once), but those of ``study_factor``: the study's fits are those cells."""
    for repeat in range(repeats):
        for factor in factors:
            if study_factor is None or float(factor) != study_factor:
                yield factor, repeat, limits.note(model, n, factor)


def _row(model: str, n: int, factor: float, repeat: int, bayes: float, basis: int | None,
         test_rows: int) -> dict[str, Any]:
    return {"model": model, "n": n, "train_rows": train_rows(n, factor), "rows_factor": factor,
            "repeat": repeat, "test_rows": test_rows, "test_acc": math.nan, "train_acc": math.nan,
            "bayes_acc": bayes,
            "target": target_accuracy(n), "fit_seconds": math.nan, "peak_rss_mb": math.nan,
            "basis_size": basis, "note": None, "source": SCALING_FIT, "test_over_train": 0.0}


def scale_model(model: str, n: int, scaling: Mapping[str, Any], settings: Mapping[str, Any], *,
                seed: int, generator: GeneratorSettings, limits: Limits,
                study_factor: float | None = None) -> pd.DataFrame:
    """Every cell of (model, n) but the study's own: fitted within the limits, a noted row
    beyond them.

    Per repeat, the training (and validation) rows of the largest fitted cell are drawn once;
    each cell takes their first rows. The cells of ``study_factor`` are the study's fits and
    left to ``collect_scaling``.
    """
    # Imported here, before any fork: a fit's time and memory are then the fit's alone.
    import importlib

    from tqdm import tqdm

    from kryptonite_n.models.driver import training_shapes

    model_module(model)
    for module in spec(model).imports:
        importlib.import_module(module)
    plan = layout(n, seed, generator)
    bayes = plan.bayes
    basis = basis_size(model, n, settings)
    X_test, y_test = draw(plan, int(scaling["test_rows"]), seed, n, TEST_TAG)
    grid = list(cells(model, n, scaling["train_rows"], int(scaling["repeats"]), limits, study_factor))
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
        # Oracle-assisted models are handed the features inferred informative by noise shape
        # from the cell's own training rows (or told the shapes separate none), as the study's.
        informative, failure = training_shapes(X, split) if spec(model).oracle_assisted else ([], None)
        task = FitTask(n=n, X=X, y=y, splits=[split], repeats=[repeat], settings=dict(settings),
                       seed=seed, informative_by_repeat=[informative],
                       shape_failure_by_repeat=[failure], threads=1)
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
                    settings: Mapping[str, Any], seed: int, generator: Mapping[str, Any],
                    study_factor: float | None = None) -> None:
    """The workflow job of one (model, n): fit its cells and write them as a CSV."""
    config = {"scaling": scaling, "generator": generator}
    with phase("scaling"):
        table = scale_model(model, n, scaling, settings, seed=seed, generator=generator_settings(config),
                            limits=model_limits(config, model), study_factor=study_factor)
    write_csv(out, table)


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
                row = _row(model, n, factor, repeat, layouts[n].bayes, basis, int(scaling["test_rows"]))
                row["note"] = note
                rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def study_rows_of(config: Mapping[str, Any], metrics: Sequence[Path | str]) -> pd.DataFrame:
    """The cells that are the study's fits: one row per study repeat, from its metrics tables."""
    from kryptonite_n.summary import read_metric_tables

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
                row = _row(model, n, float(cell["rows_factor"]), int(record.repeat), bayes, basis,
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


def mean_interval(values: np.ndarray, test_over_train: float = 0.0) -> tuple[float, float, float]:
    """Mean test accuracy of a cell's repeats and its 95 % interval, within [0, 1] (NaN bounds
    for one repeat: as in the summary, one fit has no interval over fits).

    ``kryptonite_n.stats``, as the summary: the plain t over this stage's repeats (fresh rows
    each, so it holds the spread of the fit), the corrected resampled t over the study's
    (``test_over_train`` > 0: they re-split one set).
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    low, high = stats.mean_interval(values, test_over_train=test_over_train)
    return mean, (math.nan if low is None else low), (math.nan if high is None else high)


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
            mean, low, high = mean_interval(fitted["test_acc"].to_numpy(), share)
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
