# Input functions and small helpers: the only Python in rules/. What the configuration asks
# for is kryptonite_n.plan, the file names kryptonite_n.paths, what a model is its spec.
# Planning imports no plotting or ML stack: each cluster job parses this again.
import math
import sys
from pathlib import Path

from kryptonite_n import paths
from kryptonite_n.config import model_settings, prepare_config
from kryptonite_n.models import MODELS, spec
from kryptonite_n.plan import NETWORK_MODEL, StudyPlan, model_code, module_file
from kryptonite_n.report.catalogue import (
    FAMILIES,
    FIGURE_FILES,
    PAGES,
    family_inputs,
    figure_names,
)
from kryptonite_n.tuning import TUNABLE
from kryptonite_n.tuning import check_settings as check_tuning_settings

config.update(
    prepare_config(config, workflow.source_path("../schemas/config.schema.yaml"))
)

PLAN = StudyPlan(config)
REPEATS = PLAN.repeats
DATASET = PLAN.dataset
ATTACKS = config["attacks"]
NETWORK = config["network_analysis"]
REPO = Path(workflow.basedir).parent
SOURCE = REPO / "src" / "kryptonite_n"
TEMPLATES = REPO / "docs" / "templates"
REPORT_CODE = SOURCE / "report"
STATIC = {
    "embed": REPO / "docs" / "static" / "javascripts" / "embed.js",
    "style": REPO / "docs" / "static" / "stylesheets" / "report.css",
    "iframe_worker": REPO / "docs/static/javascripts/vendor/iframe-worker/shim.js",
}


wildcard_constraints:
    n=r"\d+",
    repeat=r"\d+",


def code_of(module):
    """A library module's file: an input, so that editing it reruns the jobs that use it."""
    return module_file(SOURCE, module)


def fit_resource(model, key):
    """``mem_mb`` or ``runtime`` of one fit job, from the model's spec."""
    return lambda wildcards: spec(model).resources.at(int(wildcards.n))[key]


def published_inputs(wildcards):
    """The published files read for n, so that replacing one reruns what depends on it."""
    if PLAN.generated:
        return []
    return list(paths.dataset_files(config["data_dir"], wildcards.n).values())


def analysed_networks(wildcards):
    return {
        f"models_{activation}": PLAN.activation_models(wildcards.n, activation)
        for activation in PLAN.network_activations(wildcards.n)
    }


# --- scaling stage ------------------------------------------------------------

from kryptonite_n.scaling import scaled_dimensions, scaling_settings

SCALING = config["scaling"]
# model -> the n with at least one cell within its limits (one job each).
SCALED = scaled_dimensions(config)


def scaling_params(model):
    """The grid as one model's jobs see it: its own limits only, so another model's change
    does not rerun them."""
    grid = {key: SCALING[key] for key in sorted(SCALING) if key != "models"}
    return grid | {"models": {model: SCALING["models"].get(model, {})}}


# The generator's settings the scaling draws use (not its row counts, which it sets itself),
# so that changing the study's rows reruns no scaling job.
SCALING_GENERATOR = {
    key: value
    for key, value in sorted(config["generator"].items())
    if key not in ("rows_per_feature", "hidden_rows")
}


def scaling_collect_params():
    """What the collecting job needs to write the rows of unfitted cells."""
    # Only the settings of the (model, n) no job fits: a setting of a fitted cell changes its
    # job, not this one.
    unfitted = {
        model: {
            str(n): scaling_settings(config, model, n)
            for n in SCALING["dimensions"]
            if n not in dimensions
        }
        for model, dimensions in SCALED.items()
    }
    return {
        "scaling": SCALING,
        "generator": SCALING_GENERATOR,
        "unfitted_settings": unfitted,
    }


def scaling_mem_mb(model):
    # Measured on the default grid: the largest cell (n = 90, four times the published rows)
    # holds 2 x 155 MB of features in the job, and its fit adds up to 750 MB (LR with FSO).
    return 2000


def scaling_tables():
    return [
        paths.fill(paths.SCALING_PART, model=model, n=n)
        for model, dimensions in SCALED.items()
        for n in dimensions
    ]


def figure_code():
    """The drawing code: editing any page's figures redraws (the catalogue says what exists)."""
    drawing = sorted(str(path) for path in (REPORT_CODE / "figures").glob("*.py"))
    return drawing + [str(REPORT_CODE / name) for name in ("catalogue.py", "tables.py")]


def figure_outputs(family):
    outputs = {}
    for name in figure_names(family, PLAN.report_sources()):
        for suffix, kind in FIGURE_FILES.items():
            outputs[f"{name}{suffix}"] = paths.fill(
                paths.FIGURE, figure=name, kind=kind
            )
    return outputs


DRAWN = {family: figure_outputs(family) for family in FAMILIES}
DRAWN = {family: outputs for family, outputs in DRAWN.items() if outputs}


def figure_files(kind="js"):
    return [
        p
        for outputs in DRAWN.values()
        for p in outputs.values()
        if p.endswith(f".{kind}")
    ]


def page_sources():
    # The labels are read for their row counts; the features are drawn from, never quoted.
    sources = PLAN.report_sources().items()
    return {key: files for key, files in sources if files and key != "X"}


def report_carbon_parts():
    """The carbon CSVs of the report's jobs (gathered into results/carbon/report.csv)."""
    jobs = [f"draw_{family}_figures" for family in DRAWN]
    jobs += ["prepare_assets", "render_pages", "build_site"]
    return [paths.fill(paths.CARBON_REPORT_JOB, job=job) for job in jobs]


# --- tuning -------------------------------------------------------------------
# A search of a model's settings for every n its tuned model (kryptonite_n.tuning.TUNABLE) is fitted on
# (PLAN.tuned); the tuned model is then fitted, summarised and attacked like any other.

TUNING = config["tuning"]
check_tuning_settings(config)
# Models fitted from their configured settings (fit.smk); a tuned one's come from its search.
SETTINGS_MODELS = [model for model in MODELS if model not in TUNABLE.values()]
# CPU seconds per epoch per 1000 training rows of one small network (benchmarks/bench_tuning.py:
# 0.16 s per epoch at n = 12 on a 2-core laptop); a refit trains its repeats stacked.
EPOCH_SECONDS_PER_1000_ROWS = 0.012


def training_rows(n):
    return config["generator"]["rows_per_feature"] * int(n) * config["split"]["train"]


def tune_runtime(wildcards):
    """Minutes for one worker's share of the trials, all run to max_epochs, with a 2x margin."""
    trials = math.ceil(TUNING["trials"] / TUNING["workers"])
    epochs = trials * TUNING["max_epochs"]
    seconds = epochs * training_rows(wildcards.n) / 1000 * EPOCH_SECONDS_PER_1000_ROWS
    return 5 + math.ceil(2 * seconds / 60)


def refit_runtime(wildcards):
    """Minutes for the refit: the repeats share each step, about half their separate cost, x2."""
    epochs = len(REPEATS) * TUNING["max_epochs"]
    seconds = epochs * training_rows(wildcards.n) / 1000 * EPOCH_SECONDS_PER_1000_ROWS
    return 5 + math.ceil(seconds / 60)


def tuning_split(wildcards):
    return paths.fill(paths.SPLIT, n=wildcards.n, repeat=TUNING["split_repeat"])


def worker_records(wildcards):
    return expand(
        paths.TUNING_WORKER,
        model=wildcards.model,
        n=wildcards.n,
        worker=range(TUNING["workers"]),
    )
