# Where each learner breaks: one job per (model, n) fits every (training rows, repeat) cell of
# that n within the model's limits; a change to one model's settings or code reruns only its
# jobs, and a new n adds only its own. A cell at the study's own rows (x1 by default) is the
# study's fits of that (model, n), read from its metrics table, not refitted. The collecting
# job adds those and the noted rows of the cells beyond each model's limits, which no job
# fits, and judges where each model breaks (results/scaling/breaks.csv).

for model in PLAN.scaled:

    rule:
        name:
            f"scale_{model}"
        input:
            code=code("scale_model", models=[model]),
        output:
            table=paths.SCALING_PART.replace("{model}", model),
            carbon=paths.CARBON_SCALE.replace("{model}", model),
        log:
            f"logs/scaling/{model}/n{{n}}.log",
        benchmark:
            f"logs/scaling/{model}/n{{n}}.benchmark.tsv"
        conda:
            "../../envs/models.yaml"
        # One thread: each fit runs in one forked child at a time, its memory measured alone.
        threads: 1
        resources:
            mem_mb=scaling.JOB_MEM_MB,
            # Every cell of one n in one job: three times a study fit's allowance.
            runtime=lambda wildcards, model=model: 3
            * spec(model).resources.at(int(wildcards.n))["runtime"],
        params:
            **scaling.job_params(config, model),
            model=model,
            settings=lambda wildcards, model=model: scaling.scaling_settings(
                config, model, int(wildcards.n)
            ),
            study_factor=lambda wildcards, model=model: scaling.study_factor(
                config, model, int(wildcards.n)
            ),
        script:
            "../../scripts/scale_model.py"


rule collect_scaling:
    input:
        tables=PLAN.scaling_tables(),
        metrics=scaling.study_metrics(config),
        code=code("collect_scaling"),
    output:
        table=paths.SCALING,
        breaks=paths.SCALING_BREAKS,
    log:
        "logs/scaling/collect_scaling.log",
    benchmark:
        "logs/scaling/collect_scaling.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        config=scaling.collect_params(config),
    script:
        "../../scripts/collect_scaling.py"
