"""Every file the study writes, by name: the one place a result path is spelled.

Patterns hold Snakemake-style wildcards (``{n}``, ``{model}``, ``{repeat}``, ``{activation}``,
``{table}``, ``{family}``, ``{job}``): the rules use them as they are, the library and the tests
fill them with ``str.format`` (or ``fill``). Logs and Snakemake benchmark tables mirror these
paths under ``logs/`` (see the rules). Names here are stable and documented in the README.
"""

from __future__ import annotations

import re
from pathlib import Path

from kryptonite_n.io import DataError

RESULTS = "results"
LOGS = "logs"
SITE = "site"

# --------------------------------------------------------------------------- datasets

#: The published file names of one n (``data_dir`` holds them; the study writes the same).
PUBLISHED = {
    "X": "kryptonite-{n}-X.npy",
    "y": "kryptonite-{n}-y.npy",
    "hidden_X": "hidden-kryptonite-{n}-X.npy",
}
#: Generated data only: the true hidden labels.
HIDDEN_LABELS = "hidden-kryptonite-{n}-y.npy"
DATA = f"{RESULTS}/data/n{{n}}"
DATASET = {
    **{key: f"{DATA}/{name}" for key, name in PUBLISHED.items()},
    "hidden_y": f"{DATA}/{HIDDEN_LABELS}",
    "truth": f"{DATA}/truth.json",
}
SPLIT = f"{DATA}/splits/repeat{{repeat}}.npy"
#: What exploring a dataset writes (features.csv is what models read for the informative set).
EXPLORATION = {table: f"{DATA}/{table}.csv" for table in ("features", "histograms", "correlation", "pca")}
FEATURES = EXPLORATION["features"]

# --------------------------------------------------------------------------- model fits

FIT = f"{RESULTS}/models/{{model}}/n{{n}}"
REPEAT = f"{FIT}/repeat{{repeat}}"
#: Per-repeat files of a fit; a model's own tables add ``{table}.csv`` (ModelSpec.tables).
FIT_FILES = {
    "metrics": f"{REPEAT}/metrics.json",
    "model": f"{REPEAT}/model.npz",
    "test_predictions": f"{REPEAT}/test_predictions.npy",
    "hidden_predictions": f"{REPEAT}/hidden_predictions.npy",
}
#: Per-repeat probabilities of label 1, of a model whose spec has ``probabilities``.
PROBABILITY_FILES = {
    "test_probabilities": f"{REPEAT}/test_probabilities.npy",
    "hidden_probabilities": f"{REPEAT}/hidden_probabilities.npy",
}
FIT_TABLE = f"{REPEAT}/{{table}}.csv"
#: One row per repeat of a (model, n) fit.
METRICS_TABLE = f"{FIT}/metrics.csv"

# --------------------------------------------------------------------------- tuning

#: One search per (searched model, n): its journal is no workflow output (a killed search
#: resumes from it); each worker job writes a record, the collection the tables.
TUNING = f"{RESULTS}/tuning/{{model}}/n{{n}}"
TUNING_JOURNAL = f"{TUNING}/study.journal"
TUNING_WORKER = f"{TUNING}/worker{{worker}}.json"
TRIALS = f"{TUNING}/trials.csv"
IMPORTANCES = f"{TUNING}/importances.csv"

# --------------------------------------------------------------------------- summaries

SUMMARY = f"{RESULTS}/summary.csv"
SUPPORT = f"{RESULTS}/support.csv"
HIDDEN_SUBMISSION = f"{RESULTS}/hiddenlabels/y_predicted_{{n}}.npy"
HIDDEN_CHOICE = f"{RESULTS}/hiddenlabels/choice.csv"
#: Beside y_predicted_{n}.npy where the chosen model has probabilities (HIDDEN_CHOICE says which).
HIDDEN_PROBABILITY = f"{RESULTS}/hiddenlabels/y_probability_{{n}}.npy"
#: Per (model, n): Brier score, log loss and expected calibration errors of the test rows.
CALIBRATION = f"{RESULTS}/calibration.csv"
#: Per (model, n, binning, bin): the reliability curve behind the calibration errors.
RELIABILITY = f"{RESULTS}/reliability.csv"
#: Per (model, n, members): the repeats as an ensemble on rows none of them trained on.
ENSEMBLES = f"{RESULTS}/ensembles.csv"

# --------------------------------------------------------------------------- robustness

ADVERSARIAL_PART = f"{RESULTS}/adversarial/{{model}}/n{{n}}.csv"
ADVERSARIAL = f"{RESULTS}/adversarial.csv"
NETWORK_FOLDER = f"{RESULTS}/network_analysis/n{{n}}"
#: The n's network retrained with another activation: a fit's files in their own folder.
VARIANT = f"{NETWORK_FOLDER}/variant_{{activation}}"
NETWORK_LAYERS_PART = f"{NETWORK_FOLDER}/layers.csv"
NETWORK_ROBUSTNESS_PART = f"{NETWORK_FOLDER}/robustness.csv"
NETWORK_LAYERS = f"{RESULTS}/network_analysis.csv"
ACTIVATION_ROBUSTNESS = f"{RESULTS}/activation_robustness.csv"
BOUNDARY = f"{RESULTS}/decision_boundary/n{{n}}.csv"

# --------------------------------------------------------------------------- carbon

CARBON_PARTS = f"{RESULTS}/carbon"
#: Every compute job's own carbon CSV: ``{stage}/...`` mirrors the job's outputs.
CARBON_DATA = f"{CARBON_PARTS}/data/n{{n}}.csv"
CARBON_EXPLORE = f"{CARBON_PARTS}/explore/n{{n}}.csv"
CARBON_SPLIT = f"{CARBON_PARTS}/split/n{{n}}.csv"
CARBON_FIT = f"{CARBON_PARTS}/fit/{{model}}/n{{n}}.csv"
CARBON_TUNE = f"{CARBON_PARTS}/tune/{{model}}/n{{n}}/worker{{worker}}.csv"
CARBON_ATTACK = f"{CARBON_PARTS}/attack/{{model}}/n{{n}}.csv"
CARBON_VARIANT = f"{CARBON_PARTS}/network_analysis/variant_{{activation}}/n{{n}}.csv"
CARBON_NETWORK = f"{CARBON_PARTS}/network_analysis/n{{n}}.csv"
CARBON_BOUNDARY = f"{CARBON_PARTS}/decision_boundary/n{{n}}.csv"
CARBON_SCALE = f"{CARBON_PARTS}/scaling/{{model}}/n{{n}}.csv"
#: The report's jobs, kept out of carbon.csv (which the report reads).
CARBON_REPORT_JOB = f"{CARBON_PARTS}/report/{{job}}.csv"
CARBON_REPORT = f"{CARBON_PARTS}/report.csv"
CARBON = f"{RESULTS}/carbon.csv"

# --- scaling: where each learner breaks ----------------------------------------
SCALING_PART = f"{RESULTS}/scaling/{{model}}/n{{n}}.csv"
SCALING = f"{RESULTS}/scaling.csv"
#: Per (model, rows multiple): where the model stops reaching its goal.
SCALING_BREAKS = f"{RESULTS}/scaling/breaks.csv"

# --------------------------------------------------------------------------- report

REPORT = f"{RESULTS}/report"
REPORT_DOCS = f"{REPORT}/docs"
REPORT_FIGURES = f"{REPORT_DOCS}/figures"
FIGURE = f"{REPORT_FIGURES}/{{figure}}.{{kind}}"
PAGE = f"{REPORT_DOCS}/{{page}}.md"
REPORT_CONFIG = f"{REPORT}/config.yaml"
RULEGRAPH_DOT = f"{REPORT}/rulegraph.dot"
#: The Snakemake benchmarks of the jobs finished when the pages were rendered (Reproducibility).
REPORT_RUNTIMES = f"{REPORT}/runtimes.csv"
RULEGRAPH = f"{REPORT_FIGURES}/rulegraph.svg"
REPORT_ASSETS = {
    "bundle": f"{REPORT_DOCS}/javascripts/vendor/vega-bundle.js",
    "embed": f"{REPORT_DOCS}/javascripts/embed.js",
    "style": f"{REPORT_DOCS}/stylesheets/report.css",
    # Runs the search worker from disk (file://); see docs/report.md.
    "iframe_worker": f"{REPORT_DOCS}/javascripts/vendor/iframe-worker/shim.js",
}
MKDOCS_CONFIG = f"{REPORT}/mkdocs.yml"


def fit_files(probabilities: bool) -> dict[str, str]:
    """A fit's per-repeat files; with ``probabilities`` (the model's spec says so) its
    probabilities too."""
    return {**FIT_FILES, **(PROBABILITY_FILES if probabilities else {})}


def fill(pattern: str, **wildcards: object) -> str:
    """``pattern`` with its wildcards filled (every one must be given)."""
    return pattern.format(**wildcards)


def dataset_files(folder: Path | str, n: int, keys: tuple[str, ...] = tuple(PUBLISHED)) -> dict[str, Path]:
    """The files of one n inside ``folder`` under their published names."""
    names = {**PUBLISHED, "hidden_y": HIDDEN_LABELS, "truth": "truth.json"}
    return {key: Path(folder) / names[key].format(n=n) for key in keys}


_N = re.compile(r"(?:^|/)n(\d+)(?=/|\.[A-Za-z]+$)")
_REPEAT = re.compile(r"(?:^|/)repeat(\d+)(?=/|\.[A-Za-z]+$|$)")


_FIT_REPEAT = re.compile(r"(?:^|/)models/([^/]+)/n(\d+)/repeat(\d+)/[^/]+$")


def fit_key(path: Path | str) -> tuple[str, int, int]:
    """(model, n, repeat) of a per-repeat fit file (``FIT_FILES``, ``PROBABILITY_FILES``)."""
    match = _FIT_REPEAT.search(Path(path).as_posix())
    if match is None:
        raise DataError(f"{path}: not a per-repeat fit file (models/<model>/n<n>/repeat<r>/<file>)")
    return match.group(1), int(match.group(2)), int(match.group(3))


def n_of(path: Path | str) -> int:
    """The n a result path belongs to (``.../n12/...`` or ``.../n12.csv``)."""
    match = _N.search(Path(path).as_posix())
    if match is None:
        raise DataError(f"{path}: cannot tell which n this file belongs to (no n<digits> in its path)")
    return int(match.group(1))


def repeat_of(path: Path | str) -> int:
    match = _REPEAT.search(Path(path).as_posix())
    if match is None:
        raise DataError(f"{path}: cannot tell which repeat this file belongs to "
                        "(no repeat<digits> in its path)")
    return int(match.group(1))
