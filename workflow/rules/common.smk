# Input functions and small helpers: the only Python in rules/. What the configuration asks
# for is kryptonite_n.plan.study, the file names kryptonite_n.plan.paths, what a model is its
# spec (kryptonite_n.plan.models), the code a job runs kryptonite_n.plan.code. A parse imports
# kryptonite_n.plan alone (no plotting or ML stack): each cluster job parses this again.
import sys
from pathlib import Path

from kryptonite_n.plan import paths, scaling, tuning
from kryptonite_n.plan.catalogue import PAGES, family_inputs
from kryptonite_n.plan.code import script_code
from kryptonite_n.plan.config import model_settings, prepare_config
from kryptonite_n.plan.models import spec
from kryptonite_n.plan.study import NETWORK_MODEL, StudyPlan

config.update(
    prepare_config(config, workflow.source_path("../schemas/config.schema.yaml"))
)

PLAN = StudyPlan(config)
REPEATS = PLAN.repeats
DATASET = PLAN.dataset
ATTACKS = config["attacks"]
NETWORK = config["network_analysis"]
TUNING = config["tuning"]
REPO = Path(workflow.basedir).parent
TEMPLATES = REPO / "docs" / "templates"
STATIC = {
    "embed": REPO / "docs" / "static" / "javascripts" / "embed.js",
    "style": REPO / "docs" / "static" / "stylesheets" / "report.css",
    "iframe_worker": REPO / "docs/static/javascripts/vendor/iframe-worker/shim.js",
}


wildcard_constraints:
    n=r"\d+",
    repeat=r"\d+",


def code(script, models=(), families=None):
    """The library files ``scripts/<script>.py`` runs (with the registry's ``models`` and the
    figure ``families`` it loads by name): a rule's ``code`` input, so that editing any of
    them reruns the rule's jobs (kryptonite_n.plan.code)."""
    return script_code(REPO, script, models=models, families=families)


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


def chosen_probabilities(wildcards):
    """The chosen repeat's hidden probabilities at n, once the hidden labels are chosen."""
    choice = checkpoints.choose_hidden_labels.get().output.choice
    return PLAN.chosen_probabilities(choice)[int(wildcards.n)]


def submitted_probabilities(wildcards):
    """y_probability_{n}.npy for every n whose chosen model has probabilities."""
    choice = checkpoints.choose_hidden_labels.get().output.choice
    return expand(paths.HIDDEN_PROBABILITY, n=sorted(PLAN.chosen_probabilities(choice)))
