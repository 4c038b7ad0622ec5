# Model fits: one rule per model, one job per n that fits every repeat
# (the MLP trains its repeats together).

for model in MODELS:

    rule:
        name:
            f"fit_{model}"
        input:
            unpack(data_files),
            splits=split_files,
            features="results/data/n{n}/features.csv",
            code=model_code(model),
        output:
            **fit_outputs(model),
        params:
            model=model,
            settings=lambda wildcards, model=model: model_settings(config, model, int(wildcards.n)),
            seed=config["seed"],
            repeats=REPEATS,
            carbon=CARBON,
            inference_batch_size=config["carbon"]["inference_batch_size"],
        log:
            f"logs/models/{model}/n{{n}}/fit.log",
        benchmark:
            f"logs/models/{model}/n{{n}}/fit.benchmark.tsv"
        threads: 2 if model in ("mlp", "poly_logreg") else 1
        resources:
            mem_mb=3000 if model == "poly_logreg" else 1500,
            runtime=60 if model in ("mlp", "poly_logreg") else 10,
        conda:
            "../../envs/models.yaml"
        script:
            "../../scripts/fit_model.py"
