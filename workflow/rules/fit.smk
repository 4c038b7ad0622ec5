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
        # One thread: the study has many independent jobs, and one-thread jobs side by side
        # keep both cores of a laptop busy (an MLP job given more threads trains its repeats
        # in that many processes). Memory and time: about 1.5x and 2x the full run's peaks
        # (benchmarks/bench_workflow.py --full: mlp 884 MB and 132 s at n = 45, poly_logreg
        # 504 MB and 32 s at n = 18, every other model under 250 MB and 90 s).
        threads: 1
        resources:
            mem_mb={"mlp": 1400, "poly_logreg": 800}.get(model, 500),
            runtime=15 if model == "mlp" else 5,
        conda:
            "../../envs/models.yaml"
        script:
            "../../scripts/fit_model.py"
