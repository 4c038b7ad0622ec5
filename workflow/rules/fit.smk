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
        # About twice the measured peaks: quick run 130-300 MB, seconds; full-size data with ten
        # repeats, mlp n=45 780 MB and 1.4 s per epoch (at most 1000 epochs, about 25 min),
        # poly_logreg n=18 510 MB and 9 s per epoch. Refine with bench_workflow.py --from-logs.
        resources:
            mem_mb=1500 if model in ("mlp", "poly_logreg") else 1000,
            runtime={"mlp": 60, "poly_logreg": 30}.get(model, 10),
        conda:
            "../../envs/models.yaml"
        script:
            "../../scripts/fit_model.py"
