# Model fits: one rule per model of the registry, one job per n that fits every repeat
# (the MLP trains its repeats together). Resources come from each model's spec.

# A tuned model's settings come from its search: its fit rule is in tune.smk.
for model in PLAN.settings_models:

    rule:
        name:
            f"fit_{model}"
        input:
            **DATASET,
            splits=rules.split_dataset.output.splits,
            code=code("fit_model", models=[model]),
        output:
            **PLAN.fit_outputs(model),
            carbon=paths.CARBON_FIT.replace("{model}", model),
        log:
            f"logs/models/{model}/n{{n}}/fit.log",
        benchmark:
            f"logs/models/{model}/n{{n}}/fit.benchmark.tsv"
        conda:
            "../../envs/models.yaml"
        # One thread: the study has many independent jobs, and one-thread jobs side by side
        # keep both cores of a laptop busy (an MLP job given more threads trains its repeats
        # in that many processes).
        threads: 1
        resources:
            mem_mb=fit_resource(model, "mem_mb"),
            runtime=fit_resource(model, "runtime"),
        params:
            model=model,
            settings=lambda wildcards, model=model: model_settings(
                config, model, int(wildcards.n)
            ),
            seed=config["seed"],
            repeats=PLAN.model_repeats(model),
            inference_batch_size=config["inference"]["batch_size"],
        script:
            "../../scripts/fit_model.py"
