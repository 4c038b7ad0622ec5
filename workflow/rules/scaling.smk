# Where each learner breaks: one job per (model, n) fits every (training rows, repeat) cell of
# that n within the model's limits; a change to one model's settings or code reruns only its
# jobs, and a new n adds only its own. The collecting job adds the noted rows of the cells
# beyond each model's limits, which no job fits.

for model in SCALED:

    rule:
        name:
            f"scale_{model}"
        input:
            code=model_code(SOURCE, model),
        output:
            table=paths.SCALING_PART.replace("{model}", model),
        log:
            f"logs/scaling/{model}/n{{n}}.log",
        benchmark:
            f"logs/scaling/{model}/n{{n}}.benchmark.tsv"
        conda:
            "../../envs/models.yaml"
        # One thread: each fit runs in one forked child at a time, its memory measured alone.
        threads: 1
        resources:
            mem_mb=scaling_mem_mb(model),
            # Every cell of one n in one job: three times a study fit's allowance.
            runtime=lambda wildcards, model=model: 3
            * spec(model).resources.at(int(wildcards.n))["runtime"],
        params:
            model=model,
            scaling=scaling_params(model),
            settings=lambda wildcards, model=model: scaling_settings(
                config, model, int(wildcards.n)
            ),
            seed=config["seed"],
            generator=SCALING_GENERATOR,
        script:
            "../../scripts/scale_model.py"


rule collect_scaling:
    input:
        tables=scaling_tables(),
    output:
        table=paths.SCALING,
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
        config=scaling_collect_params(),
    script:
        "../../scripts/collect_scaling.py"
