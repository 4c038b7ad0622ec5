# Input functions and small helpers: the only Python in rules/. Paths come from
# kryptonite_n.paths, what a model is and needs from its spec (kryptonite_n.models).
# Planning imports no plotting or ML stack: each cluster job parses this again.
import sys
from pathlib import Path

from kryptonite_n import paths
from kryptonite_n.config import model_dimensions, model_settings, prepare_config
from kryptonite_n.models import MODELS, spec
from kryptonite_n.report.figures import FAMILIES, family_inputs, figure_names
from kryptonite_n.report.pages import PAGES

config.update(
    prepare_config(config, workflow.source_path("../schemas/config.schema.yaml"))
)

DIMENSIONS = config["dimensions"]
REPEATS = list(range(config["repeats"]))
GENERATED = config["data_dir"] is None
REPO = Path(workflow.basedir).parent
SOURCE = REPO / "src" / "kryptonite_n"
FITTED = {model: model_dimensions(config, model) for model in MODELS}
ATTACKS = config["attacks"]
NETWORK = config["network_analysis"]
# The network the analysis looks inside: the one model with weight matrices to inspect.
NETWORK_MODEL = "mlp"
ATTACKED = {
    model: FITTED[model]
    for model in ATTACKS["models"]
    if ATTACKS["enabled"] and FITTED[model]
}
ANALYSED = (
    [n for n in NETWORK["dimensions"] if n in FITTED[NETWORK_MODEL]]
    if NETWORK["enabled"]
    else []
)


wildcard_constraints:
    n=r"\d+",
    repeat=r"\d+",


def per_repeat(pattern, **wildcards):
    return expand(pattern, repeat=REPEATS, allow_missing=True, **wildcards)


def module_file(module):
    """The source file of a kryptonite_n module: an input, so editing it reruns its jobs."""
    return str(SOURCE.joinpath(*module.split(".")[1:]).with_suffix(".py"))


def model_code(model):
    own = [f"kryptonite_n.models.{model}"]
    return [
        module_file(m)
        for m in own + list(spec(model).imports)
        if m.startswith("kryptonite_n.")
    ]


# --- data ---------------------------------------------------------------------

# The files prepare_dataset writes; true hidden labels exist only for generated data.
DATASET = {
    key: pattern
    for key, pattern in paths.DATASET.items()
    if GENERATED or key != "hidden_y"
}


def published_inputs(wildcards):
    """The published files read for n, so that replacing one reruns what depends on it."""
    if GENERATED:
        return []
    return list(paths.dataset_files(config["data_dir"], wildcards.n).values())


def data_targets():
    return expand(list(paths.EXPLORATION.values()), n=DIMENSIONS)


# --- fits ---------------------------------------------------------------------


def fit_outputs(model, folder=paths.FIT):
    """Per-repeat files of one (model, n) job (in ``folder``), and its per-repeat table."""
    repeat = paths.REPEAT.replace(paths.FIT, folder)
    files = {
        name: p.replace(paths.REPEAT, repeat) for name, p in paths.FIT_FILES.items()
    }
    files |= {
        t: paths.FIT_TABLE.replace(paths.REPEAT, repeat) for t in spec(model).tables
    }
    outputs = {
        name: per_repeat(pattern, model=model, table=name)
        for name, pattern in files.items()
    }
    table = paths.METRICS_TABLE.replace(paths.FIT, folder)
    return outputs | {"table": expand(table, model=model, allow_missing=True)[0]}


def fit_resource(model, key):
    """``mem_mb`` or ``runtime`` of one fit job, from the model's spec."""
    return lambda wildcards: spec(model).resources.at(int(wildcards.n))[key]


def fits(pattern, models=FITTED):
    """``pattern`` for every (model, n) fitted (and every repeat if it has one)."""
    return [
        path
        for model, dimensions in models.items()
        for n in dimensions
        for path in expand(pattern, model=model, n=n, repeat=REPEATS)
    ]


# --- summaries ----------------------------------------------------------------

# The n some model is fitted on: only those get submitted hidden labels.
HIDDEN_DIMENSIONS = sorted({n for dimensions in FITTED.values() for n in dimensions})
SUPPORT_MODELS = {m: d for m, d in FITTED.items() if spec(m).feature_set_key}


def summary_targets():
    targets = [paths.SUMMARY, paths.SUPPORT]
    if HIDDEN_DIMENSIONS:
        targets += expand(paths.HIDDEN_SUBMISSION, n=HIDDEN_DIMENSIONS)
        targets.append(paths.HIDDEN_CHOICE)
    return targets


# --- robustness ---------------------------------------------------------------


def fitted_activation(n):
    return model_settings(config, NETWORK_MODEL, int(n))["activation"]


def network_activations(n):
    """The configured activations, plus the fitted network's own if it is not among them."""
    activations = list(NETWORK["activations"])
    if fitted_activation(n) not in activations:
        activations.append(fitted_activation(n))
    return activations


def activation_models(n, activation):
    """Per-repeat model files of the n's network with ``activation`` (the fit itself if it has it)."""
    if activation == fitted_activation(n):
        return expand(
            paths.FIT_FILES["model"], model=NETWORK_MODEL, n=n, repeat=REPEATS
        )
    return expand(
        paths.FIT_FILES["model"].replace(paths.FIT, paths.VARIANT),
        n=n,
        activation=activation,
        repeat=REPEATS,
    )


def analysed_networks(wildcards):
    return {
        f"models_{activation}": activation_models(wildcards.n, activation)
        for activation in network_activations(wildcards.n)
    }


def boundary_entries(n):
    """(model, activation, file) of every model drawn on the n's decision-boundary slice (repeat 0)."""
    entries = [
        {"model": NETWORK_MODEL, "activation": a, "file": activation_models(n, a)[0]}
        for a in network_activations(n)
    ]
    entries += [
        {
            "model": model,
            "activation": "none",
            "file": paths.fill(
                paths.FIT_FILES["model"], model=model, n=n, repeat=REPEATS[0]
            ),
        }
        for model, dimensions in ATTACKED.items()
        if model != NETWORK_MODEL and int(n) in dimensions
    ]
    return entries


def attack_targets():
    targets = [paths.ADVERSARIAL] if ATTACKED else []
    if ANALYSED:
        targets += [paths.NETWORK_LAYERS, paths.ACTIVATION_ROBUSTNESS]
        targets += expand(paths.BOUNDARY, n=ANALYSED)
    return targets


# --- carbon -------------------------------------------------------------------


def carbon_inputs(wildcards=None):
    """Every compute job's carbon CSV but the report's (the report reads carbon.csv)."""
    files = expand(paths.CARBON_DATA, n=DIMENSIONS) + fits(paths.CARBON_FIT)
    files += fits(paths.CARBON_ATTACK, ATTACKED)
    for n in ANALYSED:
        files += [
            paths.fill(paths.CARBON_NETWORK, n=n),
            paths.fill(paths.CARBON_BOUNDARY, n=n),
        ]
        files += [
            paths.fill(paths.CARBON_VARIANT, n=n, activation=a)
            for a in network_activations(n)
            if a != fitted_activation(n)
        ]
    return files


# --- report -------------------------------------------------------------------

TEMPLATES = REPO / "docs" / "templates"
REPORT_CODE = SOURCE / "report"
STATIC = {
    "embed": REPO / "docs" / "static" / "javascripts" / "embed.js",
    "style": REPO / "docs" / "static" / "stylesheets" / "report.css",
}


def report_sources():
    """Every result file the report reads, by key; a stage this run does not build gives []."""
    sources = {key: expand(p, n=DIMENSIONS) for key, p in paths.EXPLORATION.items()}
    sources |= {
        key: expand(paths.DATASET[key], n=DIMENSIONS) for key in ("truth", "X", "y")
    }
    sources["metrics"] = fits(paths.METRICS_TABLE)
    for model in MODELS:
        for table in spec(model).tables:
            sources[table] = fits(
                paths.FIT_TABLE.replace("{table}", table), {model: FITTED[model]}
            )
    built = set(summary_targets() + attack_targets())
    for key, path in [
        ("summary", paths.SUMMARY),
        ("support", paths.SUPPORT),
        ("adversarial", paths.ADVERSARIAL),
        ("network", paths.NETWORK_LAYERS),
        ("activation_robustness", paths.ACTIVATION_ROBUSTNESS),
    ]:
        sources[key] = [path] if path in built else []
    sources["boundary"] = expand(paths.BOUNDARY, n=ANALYSED)
    sources["carbon"] = [paths.CARBON]
    return sources


def upstream_targets():
    """Everything the study builds before its report: the runtime figure waits for all of it."""
    return (
        data_targets()
        + fits(paths.METRICS_TABLE)
        + summary_targets()
        + attack_targets()
        + [paths.CARBON]
    )


def figure_outputs(family):
    outputs = {}
    for name in figure_names(family, report_sources()):
        for kind, suffix in (("json", ""), ("svg", "_svg"), ("js", "_script")):
            outputs[f"{name}{suffix}"] = paths.fill(
                paths.FIGURE, figure=name, kind=kind
            )
    return outputs


DRAWN = {family: figure_outputs(family) for family in FAMILIES}
DRAWN = {family: outputs for family, outputs in DRAWN.items() if outputs}


def figure_files(kind="json"):
    return [
        p
        for outputs in DRAWN.values()
        for p in outputs.values()
        if p.endswith(f".{kind}")
    ]


def page_sources():
    # The labels are read for their row counts; the features are drawn from, never quoted.
    return {
        key: files for key, files in report_sources().items() if files and key != "X"
    }


def report_carbon_parts():
    """The carbon CSVs of the report's jobs (gathered into results/carbon/report.csv)."""
    jobs = [f"draw_{family}_figures" for family in DRAWN]
    jobs += ["prepare_assets", "render_pages", "build_site"]
    return [paths.fill(paths.CARBON_REPORT_JOB, job=job) for job in jobs]
