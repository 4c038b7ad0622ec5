# Input functions and small helpers: the only Python in rules/. What the configuration asks
# for is kryptonite_n.plan, the file names kryptonite_n.paths, what a model is its spec.
# Planning imports no plotting or ML stack: each cluster job parses this again.
import sys
from pathlib import Path

from kryptonite_n import paths, scaling, tuning
from kryptonite_n.config import model_settings, prepare_config
from kryptonite_n.data import check_published_folder
from kryptonite_n.models import spec
from kryptonite_n.plan import (
    NETWORK_MODEL,
    StudyPlan,
    code_closure,
    figure_code,
    model_code,
    module_file,
)
from kryptonite_n.report.catalogue import PAGES, family_inputs

config.update(
    prepare_config(config, workflow.source_path("../schemas/config.schema.yaml"))
)

if config["data_dir"] is not None:
    check_published_folder(config["data_dir"], config["dimensions"])
PLAN = StudyPlan(config)
REPEATS = PLAN.repeats
DATASET = PLAN.dataset
ATTACKS = config["attacks"]
NETWORK = config["network_analysis"]
TUNING = config["tuning"]
REPO = Path(workflow.basedir).parent
SOURCE = REPO / "src" / "kryptonite_n"
TEMPLATES = REPO / "docs" / "templates"
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
