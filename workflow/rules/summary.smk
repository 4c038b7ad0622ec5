# Summaries of the fitted models: the results table, the submitted hidden labels, the
# feature sets the rule-like models found.


rule summarise_models:
    input:
        tables=fits(paths.METRICS_TABLE),
        truths=expand(paths.DATASET["truth"], n=DIMENSIONS),
    output:
        summary=paths.SUMMARY,
    log:
        "logs/summary.log",
    benchmark:
        "logs/summary.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        # Which (model, n) were not run, and why: the summary's note rows.
        study={"dimensions": DIMENSIONS, "models": config["models"]},
    script:
        "../../scripts/summarise_models.py"


rule choose_hidden_labels:
    input:
        tables=fits(paths.METRICS_TABLE),
        predictions=fits(paths.FIT_FILES["hidden_predictions"]),
    output:
        labels=expand(paths.HIDDEN_SUBMISSION, n=HIDDEN_DIMENSIONS),
        choice=paths.HIDDEN_CHOICE,
    log:
        "logs/hiddenlabels/choose_hidden_labels.log",
    benchmark:
        "logs/hiddenlabels/choose_hidden_labels.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        dimensions=HIDDEN_DIMENSIONS,
        # A function, so Snakemake leaves the pattern's braces alone.
        template=lambda wildcards: paths.FIT_FILES["hidden_predictions"],
    script:
        "../../scripts/choose_hidden_labels.py"


rule collect_support:
    input:
        metrics=fits(paths.FIT_FILES["metrics"], SUPPORT_MODELS),
        truths=expand(paths.DATASET["truth"], n=DIMENSIONS),
    output:
        support=paths.SUPPORT,
    log:
        "logs/support.log",
    benchmark:
        "logs/support.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/collect_support.py"
