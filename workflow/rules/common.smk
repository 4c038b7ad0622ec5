# Input functions and small helpers: the only Python in rules/. What the configuration asks
# for is kryptonite_n.plan, the file names kryptonite_n.paths, what a model is its spec.
# Planning imports no plotting or ML stack: each cluster job parses this again.
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
