# Summaries of the fitted models: the results table, the submitted hidden labels, the
# feature sets the rule-like models found.

from kryptonite_n.summary import SUPPORT_MODELS, skipped_models

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


rule summarise_models:
    input:
        tables=fitted_tables(),
        truths=truth_files(),
    output:
        summary="results/summary.csv",
    params:
        dimensions=DIMENSIONS,
        skipped=skipped_models(config),
    log:
        "logs/summary.log",
    benchmark:
        "logs/summary.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/summarise_models.py"


rule choose_hidden_labels:
    input:
        tables=fitted_tables(),
        predictions=hidden_prediction_files(),
    output:
        labels=expand("results/hiddenlabels/y_predicted_{n}.npy", n=HIDDEN_DIMENSIONS),
        choice="results/hiddenlabels/choice.csv",
    params:
        dimensions=HIDDEN_DIMENSIONS,
        # A function, so Snakemake leaves the template's braces alone.
        template=lambda wildcards: HIDDEN_PREDICTIONS,
    log:
        "logs/hiddenlabels/choose_hidden_labels.log",
    benchmark:
        "logs/hiddenlabels/choose_hidden_labels.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/choose_hidden_labels.py"


rule collect_support:
    input:
        metrics=support_metrics(),
        truths=truth_files(),
    output:
        support="results/support.csv",
    params:
        dimensions=DIMENSIONS,
    log:
        "logs/support.log",
    benchmark:
        "logs/support.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/collect_support.py"


def summary_targets():
    targets = ["results/summary.csv", "results/support.csv"]
    if HIDDEN_DIMENSIONS:
        targets += expand("results/hiddenlabels/y_predicted_{n}.npy", n=HIDDEN_DIMENSIONS)
        targets.append("results/hiddenlabels/choice.csv")
    return targets
