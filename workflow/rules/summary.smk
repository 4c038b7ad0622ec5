# Summaries of the fitted models: the results table, the submitted hidden labels, the
# feature sets the rule-like models found.


rule summarise_models:
    input:
        tables=PLAN.fits(paths.METRICS_TABLE),
        truths=expand(paths.DATASET["truth"], n=PLAN.dimensions),
        code=code("summarise_models"),
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
        # Which (model, n) were not run, and why: the summary's note rows; the split's
        # n_test / n_train widens the intervals of repeats that re-split the same rows.
        study={
            "dimensions": PLAN.dimensions,
            "models": config["models"],
            "split": config["split"],
        },
    script:
        "../../scripts/summarise_models.py"


rule choose_hidden_labels:
    input:
        tables=PLAN.fits(paths.METRICS_TABLE),
        predictions=PLAN.fits(paths.FIT_FILES["hidden_predictions"]),
        code=code("choose_hidden_labels"),
    output:
        labels=expand(paths.HIDDEN_SUBMISSION, n=PLAN.hidden_dimensions),
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
        dimensions=PLAN.hidden_dimensions,
        # A function, so Snakemake leaves the pattern's braces alone.
        template=lambda wildcards: paths.FIT_FILES["hidden_predictions"],
    script:
        "../../scripts/choose_hidden_labels.py"


rule collect_support:
    input:
        metrics=PLAN.fits(paths.FIT_FILES["metrics"], PLAN.support_models),
        truths=expand(paths.DATASET["truth"], n=PLAN.dimensions),
        code=code("collect_support"),
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
