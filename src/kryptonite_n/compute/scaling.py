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

import importlib
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
from tqdm import tqdm

from kryptonite_n import streams
from kryptonite_n.compute.bayes import bayes_limit
from kryptonite_n.compute.carbon import phase
from kryptonite_n.compute.data import GeneratorSettings, draw_rows, generate, target_accuracy
from kryptonite_n.compute.models import accuracy, model_module
from kryptonite_n.compute.models.driver import NOT_APPLICABLE, predict_in_batches, training_shapes
from kryptonite_n.contract import FitTask, Split
from kryptonite_n.io import DataError, write_csv
from kryptonite_n.plan.models import Limits, spec
from kryptonite_n.plan.scaling import basis_size, model_limits, noise_settings, train_rows, validation_rows

log = logging.getLogger(__name__)

#: Rows are drawn in blocks of this many, each seeded by its index, so the first k rows of a
#: repeat are the same whatever the largest cell of the grid: the cells of one repeat are
#: nested (a learning curve on growing data), and changing the grid changes no drawn row.
BLOCK_ROWS = 8192

COLUMNS = ("model", "n", "train_rows", "rows_factor", "repeat", "test_rows", "test_acc", "train_acc",
           "bayes_acc", "target", "fit_seconds", "peak_rss_mb", "basis_size", "note", "source",
           "test_over_train")
#: ``source`` of a cell fitted by this stage, and of one that is the study's own fits.
SCALING_FIT, STUDY_FIT = "scaling", "study"


def generator_settings(config: Mapping[str, Any]) -> GeneratorSettings:
    """The generator of the scaling draws."""
    return GeneratorSettings(**noise_settings(config), rows_per_feature=1, hidden_rows=1)


# --------------------------------------------------------------------------- data


@dataclass
class Layout:
    """The feature layout of one n: which family each feature has, which are informative."""

    n: int
    families: list[str]
    informative: np.ndarray
    flip_rate: float
    scales: dict[str, float]
    #: The Bayes accuracy of the layout, as ``kryptonite_n.compute.bayes`` defines it for generated data.
    bayes: float


def layout(n: int, seed: int, settings: GeneratorSettings) -> Layout:
    """The study's layout for n and seed (generate() draws it first, whatever the row count)."""
    truth = generate(n, seed, settings).truth
    return Layout(n, truth["families"], np.array(truth["informative"]), truth["flip_rate"],
                  dict(truth["scales"]), float(bayes_limit(truth)["accuracy"]))


def draw(plan: Layout, rows: int, stream: str, **key: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``rows`` rows of the layout's ``stream`` for ``key`` (blocks of BLOCK_ROWS,
    block b from the stream's block b): deterministic, and a prefix of any longer draw of the
    same stream and key."""
    parts_X, parts_y = [], []
    for block in range(-(-rows // BLOCK_ROWS)):
        rng = streams.rng(stream, **key, block=block)
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


def cell_row(model: str, n: int, factor: float, repeat: int, bayes: float, basis: int | None,
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
    # Imported before any fork: a fit's time and memory are then the fit's alone.
    model_module(model)
    for module in spec(model).imports:
        importlib.import_module(module)
    plan = layout(n, seed, generator)
    bayes = plan.bayes
    basis = basis_size(model, n, settings)
    X_test, y_test = draw(plan, int(scaling["test_rows"]), "scaling_test", seed=seed, n=n)
    grid = list(cells(model, n, scaling["train_rows"], int(scaling["repeats"]), limits, study_factor))
    largest = max((train_rows(n, f) for f, _, note in grid if note is None), default=0)
    # Only a model that reads validation rows (early stopping) is given them: a third fewer rows drawn.
    share = float(scaling["validation_share"]) if spec(model).uses_validation else 0.0
    drawn: dict[int, tuple[np.ndarray, ...]] = {}
    rows = []
    for factor, repeat, note in tqdm(grid, desc=f"scaling {model} n={n}", file=sys.stderr, mininterval=5):
        row = cell_row(model, n, factor, repeat, bayes, basis, len(y_test))
        if note is not None:
            row["note"] = note
            rows.append(row)
            continue
        if repeat not in drawn:
            validation = validation_rows(largest, share)
            drawn = {repeat: (*draw(plan, largest, "scaling_train", seed=seed, n=n, repeat=repeat),
                              *draw(plan, validation, "scaling_validation", seed=seed, n=n, repeat=repeat))}
        X_all, y_all, X_val_all, y_val_all = drawn[repeat]
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


# --------------------------------------------------------------------------- analysis


