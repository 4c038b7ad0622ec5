# Input functions and small helpers: the only Python in rules/.
import sys
from pathlib import Path

from kryptonite_n.config import model_dimensions, model_settings, prepare_config
from kryptonite_n.models import MODELS
from kryptonite_n.report.figures import FAMILIES, family_inputs, figure_names
from kryptonite_n.report.pages import PAGES
from kryptonite_n.summary import SUPPORT_MODELS, skipped_models

config.update(prepare_config(config, workflow.source_path("../schemas/config.schema.yaml")))

DIMENSIONS = config["dimensions"]
REPEATS = list(range(config["repeats"]))
GENERATED = config["data_dir"] is None
CARBON = {"enabled": config["carbon"]["enabled"], "country": config["carbon"]["country"]}


wildcard_constraints:
    n=r"\d+",
    repeat=r"\d+",


def data_files(wildcards):
    folder = f"results/data/n{wildcards.n}"
    return {
        "X": f"{folder}/kryptonite-{wildcards.n}-X.npy",
        "y": f"{folder}/kryptonite-{wildcards.n}-y.npy",
        "hidden_X": f"{folder}/hidden-kryptonite-{wildcards.n}-X.npy",
        "truth": f"{folder}/truth.json",
    }


def split_files(wildcards):
    return expand(
        "results/data/n{n}/splits/repeat{repeat}.npy", n=wildcards.n, repeat=REPEATS
    )


def data_targets():
    return expand(
        "results/data/n{n}/{table}.csv",
        n=DIMENSIONS,
        table=["features", "histograms", "correlation", "pca"],
    ) + expand("results/data/n{n}/splits/repeat{repeat}.npy", n=DIMENSIONS, repeat=REPEATS)


def dataset_outputs():
    """Files of one n; true hidden labels exist only for generated data."""
    folder = "results/data/n{n}"
    outputs = {
        "X": f"{folder}/kryptonite-{{n}}-X.npy",
        "y": f"{folder}/kryptonite-{{n}}-y.npy",
        "hidden_X": f"{folder}/hidden-kryptonite-{{n}}-X.npy",
        "truth": f"{folder}/truth.json",
        "carbon": "results/carbon/data/n{n}.csv",
    }
    if GENERATED:
        outputs["hidden_y"] = f"{folder}/hidden-kryptonite-{{n}}-y.npy"
    return outputs


def published_inputs(wildcards):
    """The published files read for n, so that replacing one reruns what depends on it."""
    if GENERATED:
        return []
    folder = Path(config["data_dir"])
    return [
        folder / f"kryptonite-{wildcards.n}-X.npy",
        folder / f"kryptonite-{wildcards.n}-y.npy",
        folder / f"hidden-kryptonite-{wildcards.n}-X.npy",
    ]


# Extra per-repeat tables a model writes beside its metrics, as {name}.csv.
MODEL_TABLES = {"mlp": ["history"], "poly_logreg": ["coefficients"]}
FITTED = {model: model_dimensions(config, model) for model in config["models"]}
SOURCE = Path(workflow.basedir).parent / "src" / "kryptonite_n"


def fit_outputs(model):
    """Per-repeat files of one (model, n) job, plus its per-repeat table and carbon CSV."""
    folder = f"results/models/{model}/n{{n}}"
    files = {
        "metrics": "metrics.json",
        "model": "model.npz",
        "test_predictions": "test_predictions.npy",
        "hidden_predictions": "hidden_predictions.npy",
    } | {table: f"{table}.csv" for table in MODEL_TABLES.get(model, [])}
    per_repeat = {
        name: expand(f"{folder}/repeat{{repeat}}/{file}", repeat=REPEATS, allow_missing=True)
        for name, file in files.items()
    }
    return per_repeat | {
        "table": f"{folder}/metrics.csv",
        "carbon": f"results/carbon/fit/{model}/n{{n}}.csv",
    }


def model_code(model):
    """The model's own module: editing it reruns only that model's jobs."""
    return str(SOURCE / "models" / f"{model}.py")


def fitted_tables():
    return [
        f"results/models/{model}/n{n}/metrics.csv"
        for model, dimensions in FITTED.items()
        for n in dimensions
    ]


# --- summary stage ------------------------------------------------------------

HIDDEN_PREDICTIONS = "results/models/{model}/n{n}/repeat{repeat}/hidden_predictions.npy"


# The n some model is fitted on: only those get submitted hidden labels.
HIDDEN_DIMENSIONS = sorted({n for dimensions in FITTED.values() for n in dimensions})


def truth_files():
    return expand("results/data/n{n}/truth.json", n=DIMENSIONS)


def hidden_prediction_files():
    return [
        HIDDEN_PREDICTIONS.format(model=model, n=n, repeat=repeat)
        for model, dimensions in FITTED.items()
        for n in dimensions
        for repeat in REPEATS
    ]


def support_metrics():
    return [
        f"results/models/{model}/n{n}/repeat{repeat}/metrics.json"
        for model, dimensions in FITTED.items()
        if model in SUPPORT_MODELS
        for n in dimensions
        for repeat in REPEATS
    ]


def summary_targets():
    targets = ["results/summary.csv", "results/support.csv"]
    if HIDDEN_DIMENSIONS:
        targets += expand("results/hiddenlabels/y_predicted_{n}.npy", n=HIDDEN_DIMENSIONS)
        targets.append("results/hiddenlabels/choice.csv")
    return targets


# --- attack stage -------------------------------------------------------------

ATTACKS = config["attacks"]


NETWORK = config["network_analysis"]


# The attacked models: enabled, fitted on some n, and listed in attacks.models.
ATTACKED = {
    model: FITTED[model]
    for model in ATTACKS["models"]
    if ATTACKS["enabled"] and FITTED.get(model)
}


# The n whose MLP is analysed: configured and fitted.
ANALYSED = (
    [n for n in NETWORK["dimensions"] if n in FITTED.get("mlp", [])]
    if NETWORK["enabled"]
    else []
)


MODEL_FILE = "results/models/{model}/n{n}/repeat{repeat}/model.npz"


VARIANT_FOLDER = "results/network_analysis/n{n}/mlp_{activation}"


def fitted_activation(n):
    return model_settings(config, "mlp", int(n))["activation"]


def network_activations(n):
    """The configured activations, plus the fitted network's own if it is not among them."""
    activations = list(NETWORK["activations"])
    if fitted_activation(n) not in activations:
        activations.append(fitted_activation(n))
    return activations


def activation_models(n, activation):
    """Per-repeat model files of the n's MLP with ``activation``: the fit itself when it is that one."""
    if activation == fitted_activation(n):
        return [MODEL_FILE.format(model="mlp", n=n, repeat=r) for r in REPEATS]
    folder = VARIANT_FOLDER.format(n=n, activation=activation)
    return [f"{folder}/repeat{r}/model.npz" for r in REPEATS]


def attacked_model_files(wildcards):
    return [MODEL_FILE.format(model=wildcards.model, n=wildcards.n, repeat=r) for r in REPEATS]


def boundary_entries(n):
    """(model, activation, file) of every model drawn on the n's decision-boundary slice (repeat 0)."""
    entries = [
        {"model": "mlp", "activation": activation, "file": activation_models(n, activation)[0]}
        for activation in network_activations(n)
    ]
    entries += [
        {"model": model, "activation": "none", "file": MODEL_FILE.format(model=model, n=n, repeat=REPEATS[0])}
        for model, dimensions in ATTACKED.items()
        if model != "mlp" and int(n) in dimensions
    ]
    return entries


def adversarial_tables():
    return [f"results/adversarial/{model}/n{n}.csv" for model, dimensions in ATTACKED.items() for n in dimensions]


def analysed_networks(wildcards):
    return {
        f"models_{activation}": activation_models(wildcards.n, activation)
        for activation in network_activations(wildcards.n)
    }


def attack_targets():
    targets = []
    if ATTACKED:
        targets.append("results/adversarial.csv")
    if ANALYSED:
        targets += ["results/network_analysis.csv", "results/activation_robustness.csv"]
        targets += expand("results/decision_boundary/n{n}.csv", n=ANALYSED)
    return targets


def attack_carbon_files():
    """Carbon CSVs of every job attack_targets() runs (gathered by carbon.smk)."""
    files = [f"results/carbon/attack/{model}/n{n}.csv" for model, dimensions in ATTACKED.items() for n in dimensions]
    for n in ANALYSED:
        files.append(f"results/carbon/network_analysis/n{n}.csv")
        files.append(f"results/carbon/decision_boundary/n{n}.csv")
        files += [
            f"results/carbon/network_analysis/mlp_{activation}/n{n}.csv"
            for activation in network_activations(n)
            if activation != fitted_activation(n)
        ]
    return files


# --- carbon stage -------------------------------------------------------------

def data_carbon_files():
    return expand("results/carbon/data/n{n}.csv", n=DIMENSIONS)


def fit_carbon_files():
    return [
        f"results/carbon/fit/{model}/n{n}.csv"
        for model, dimensions in FITTED.items()
        for n in dimensions
    ]


def carbon_inputs(wildcards=None):
    """Every per-job carbon CSV of the study but the report's (the report reads carbon.csv)."""
    return data_carbon_files() + fit_carbon_files() + attack_carbon_files()


def carbon_targets():
    return ["results/carbon.csv"]


# --- report stage -------------------------------------------------------------

# The published report: figures (one rule per family), the vendored scripts, the pages (with
# the rule graph), and the site built by `mkdocs build --strict` into site/.
#
# The report reads only files the DAG produces for this configuration (the stage target
# functions), so a disabled stage gives a page that says so, never a missing input. Its jobs'
# carbon goes to results/carbon/report/ and results/carbon/report.csv, outside
# results/carbon.csv, which the report reads (no report_carbon_files(): that would be a cycle).


REPORT_DOCS = "results/report/docs"


REPORT_FIGURES = f"{REPORT_DOCS}/figures"


REPO = Path(workflow.basedir).parent


TEMPLATES = REPO / "docs" / "templates"


# The report's own library: editing it redraws what it draws (as model_code() does for fits).
REPORT_CODE = SOURCE / "report"


STATIC = {
    "embed": REPO / "docs" / "static" / "javascripts" / "embed.js",
    "style": REPO / "docs" / "static" / "stylesheets" / "report.css",
}


def _named(targets, name):
    return [target for target in targets if Path(target).name == name]


def report_sources():
    """Every result file the report reads, by key; a stage this run does not build gives []."""
    summary, attacks = summary_targets(), attack_targets()
    sources = {
        key: expand(f"results/data/n{{n}}/{file}", n=DIMENSIONS)
        for key, file in [
            ("features", "features.csv"),
            ("histograms", "histograms.csv"),
            ("correlation", "correlation.csv"),
            ("pca", "pca.csv"),
            ("truth", "truth.json"),
        ]
    }
    sources["X"] = [f"results/data/n{n}/kryptonite-{n}-X.npy" for n in DIMENSIONS]
    sources["y"] = [f"results/data/n{n}/kryptonite-{n}-y.npy" for n in DIMENSIONS]
    sources["metrics"] = fitted_tables()
    for model, names in MODEL_TABLES.items():
        for name in names:
            sources[name] = expand(
                f"results/models/{model}/n{{n}}/repeat{{repeat}}/{name}.csv",
                n=FITTED.get(model, []),
                repeat=REPEATS,
            )
    sources["summary"] = _named(summary, "summary.csv")
    sources["support"] = _named(summary, "support.csv")
    sources["adversarial"] = _named(attacks, "adversarial.csv")
    sources["network"] = _named(attacks, "network_analysis.csv")
    sources["activation_robustness"] = _named(attacks, "activation_robustness.csv")
    sources["boundary"] = [t for t in attacks if Path(t).parent.name == "decision_boundary"]
    sources["carbon"] = _named(carbon_targets(), "carbon.csv")
    return sources


def upstream_targets():
    """Everything the study builds before its report: the runtime figure waits for all of it."""
    return (
        data_targets()
        + fitted_tables()
        + summary_targets()
        + attack_targets()
        + carbon_targets()
    )


def figure_outputs(family):
    names = figure_names(family, report_sources())
    outputs = {}
    for name in names:
        outputs[name] = f"{REPORT_FIGURES}/{name}.json"
        outputs[f"{name}_svg"] = f"{REPORT_FIGURES}/{name}.svg"
        outputs[f"{name}_script"] = f"{REPORT_FIGURES}/{name}.js"
    return outputs


DRAWN = {family: figure_outputs(family) for family in FAMILIES}


DRAWN = {family: outputs for family, outputs in DRAWN.items() if outputs}


def figure_files(kind="json"):
    return [
        path
        for outputs in DRAWN.values()
        for name, path in outputs.items()
        if path.endswith(f".{kind}")
    ]


def page_sources():
    # The labels are read for their row counts; the features are drawn from, never quoted.
    return {key: files for key, files in report_sources().items() if files and key != "X"}


def report_carbon_parts():
    """The carbon CSVs of the report jobs before the build (gathered by build_site)."""
    return [f"results/carbon/report/draw_{family}_figures.csv" for family in DRAWN] + [
        f"results/carbon/report/{job}.csv"
        for job in ("prepare_assets", "render_pages")
    ]


def report_targets():
    return ["site", "results/carbon/report.csv"]
