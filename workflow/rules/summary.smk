# Summaries of the fitted models: the results table, the submitted hidden labels, the
# feature sets the rule-like models found.


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
    conda:
        "../../envs/data.yaml"
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
    conda:
        "../../envs/data.yaml"
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
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/collect_support.py"
