# Input functions and small helpers: the only Python in rules/.
from pathlib import Path

from kryptonite_n.config import model_dimensions, model_settings, prepare_config
from kryptonite_n.models import MODELS

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
