# Tuning: an Optuna search per (model, n) over tuning.space, warm-started with the model's own
# (the paper's) settings for n, then the best trial refitted on every repeat as model
# <model>_tuned (kryptonite_n.plan.tuning.TUNABLE) with the usual driver.
#
# tune_model runs trials until the study has tuning.trials finished ones; with
# tuning.workers = k, k such jobs share the study's journal file. The journal
# (paths.TUNING_JOURNAL) is no output: Snakemake never deletes it, so a killed search resumes
# where it stopped. collect_trials reads it into trials.csv and importances.csv.


rule tune_model:
    input:
        X=paths.DATASET["X"],
        y=paths.DATASET["y"],
        splits=lambda wildcards: [
            paths.fill(paths.SPLIT, n=wildcards.n, repeat=repeat)
            for repeat in tuning.split_repeats(TUNING, config["repeats"])
        ],
        code=code("tune_model"),
    output:
        worker=paths.TUNING_WORKER,
        carbon=paths.CARBON_TUNE,
    log:
        "logs/tuning/{model}/n{n}/worker{worker}.log",
    benchmark:
        "logs/tuning/{model}/n{n}/worker{worker}.benchmark.tsv"
    wildcard_constraints:
        model="|".join(PLAN.tuned) or "no-tuned-model",
        worker=r"\d+",
    conda:
        "../../envs/models.yaml"
    # One thread: a stack of small networks (per-step overhead, not arithmetic). Memory: the
    # data and a batch of trials' networks (quick run: 250 MB); time: the worker's trials at
    # max_epochs.
    threads: 1
    resources:
        mem_mb=1500,
        runtime=lambda wildcards: tuning.worker_runtime(config, wildcards.n),
    params:
        settings=TUNING,
        seed=config["seed"],
        paper=lambda wildcards: model_settings(
            config, wildcards.model, int(wildcards.n)
        ),
        journal=lambda wildcards: paths.fill(paths.TUNING_JOURNAL, **wildcards),
    script:
        "../../scripts/tune_model.py"


rule collect_trials:
    input:
        workers=lambda wildcards: PLAN.worker_records(wildcards.model, wildcards.n),
        code=code("collect_trials"),
    output:
        trials=paths.TRIALS,
        importances=paths.IMPORTANCES,
    log:
        "logs/tuning/{model}/n{n}/collect_trials.log",
    benchmark:
        "logs/tuning/{model}/n{n}/collect_trials.benchmark.tsv"
    wildcard_constraints:
        model="|".join(PLAN.tuned) or "no-tuned-model",
    conda:
        "../../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=TUNING,
        seed=config["seed"],
    script:
        "../../scripts/collect_trials.py"


for model, tuned in tuning.TUNABLE.items():

    rule:
        name:
            f"fit_{tuned}"
        input:
            **DATASET,
            splits=rules.split_dataset.output.splits,
            trials=paths.TRIALS.replace("{model}", model),
            # The searched model's own fit: taken over when its settings win the search.
            paper=lambda wildcards, model=model: tuning.paper_fit_files(
                PLAN.fitted, model, wildcards.n, REPEATS
            ),
            code=code("fit_tuned_model", models=[tuned]),
        output:
            **PLAN.fit_outputs(tuned),
            carbon=paths.CARBON_FIT.replace("{model}", tuned),
        log:
            f"logs/models/{tuned}/n{{n}}/fit.log",
        benchmark:
            f"logs/models/{tuned}/n{{n}}/fit.benchmark.tsv"
        conda:
            "../../envs/models.yaml"
        threads: 1
        resources:
            mem_mb=fit_resource(tuned, "mem_mb"),
            runtime=lambda wildcards: tuning.refit_runtime(config, wildcards.n),
        params:
            model=tuned,
            tuning=TUNING,
            seed=config["seed"],
            repeats=REPEATS,
            inference_batch_size=config["inference"]["batch_size"],
        script:
            "../../scripts/fit_tuned_model.py"
