"""The scaling stage's plan: which (model, n) get a scaling job, the grid's limits and row
counts, which cells are the study's own fits, and what each job reads of the configuration
(so that a change reruns only the jobs it concerns). The computation is
``kryptonite_n.compute.scaling``; the map and its break points ``kryptonite_n.tables.scaling``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kryptonite_n import stats
from kryptonite_n.plan import paths
from kryptonite_n.plan.config import model_dimensions, model_settings
from kryptonite_n.plan.models import Limits, mappable_models, spec

#: The published training share of the labelled rows (60/20/20) and rows per feature.
PUBLISHED_TRAIN_SHARE = 0.6
PUBLISHED_ROWS_PER_FEATURE = 2000
#: Memory of one scaling job: the largest default cell (n = 90, four times the published rows)
#: holds 2 x 155 MB of features, and its fit adds up to 750 MB (LR with FSO).
JOB_MEM_MB = 2000


def scaling_models(config: Mapping[str, Any]) -> list[str]:
    """The mappable models (``models.mappable_models``) not disabled in ``scaling.models``."""
    section = config["scaling"].get("models", {})
    return [m for m in mappable_models() if section.get(m, {}).get("enabled", True)]


def model_limits(config: Mapping[str, Any], model: str) -> Limits:
    """The model's limits in this stage: ``scaling.models.<model>``'s where it sets them (null:
    no limit), else its spec's own."""
    section = config["scaling"].get("models", {}).get(model, {})
    own = spec(model).scaling
    return Limits(section.get("max_n", own.max_n), section.get("max_rows_factor", own.max_rows_factor),
                  tuple("config" if key in section else "spec" for key in ("max_n", "max_rows_factor")))


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
