# Datasets: generate (or read and validate published files), split, explore.


rule prepare_dataset:
    input:
        published_inputs,
        code=code("prepare_dataset"),
    output:
        **DATASET,
        carbon=paths.CARBON_DATA,
    log:
        "logs/data/n{n}/prepare_dataset.log",
    benchmark:
        "logs/data/n{n}/prepare_dataset.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        seed=config["seed"],
        data_dir=config["data_dir"],
        generator=config["generator"] if PLAN.generated else None,
    script:
        "../../scripts/prepare_dataset.py"


rule split_dataset:
    input:
        y=rules.prepare_dataset.output.y,
        code=code("split_dataset"),
    output:
        splits=PLAN.per_repeat(paths.SPLIT),
        carbon=paths.CARBON_SPLIT,
    log:
        "logs/data/n{n}/split_dataset.log",
    benchmark:
        "logs/data/n{n}/split_dataset.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        seed=config["seed"],
        fractions=config["split"],
        repeats=REPEATS,
    script:
        "../../scripts/split_dataset.py"


rule explore_dataset:
    input:
        **DATASET,
        code=code("explore_dataset"),
    output:
        **paths.EXPLORATION,
        carbon=paths.CARBON_EXPLORE,
    log:
        "logs/data/n{n}/explore_dataset.log",
    benchmark:
        "logs/data/n{n}/explore_dataset.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        histogram_bins=config["explore"]["histogram_bins"],
        pca_points=config["explore"]["pca_points"],
        seed=config["seed"],
    script:
        "../../scripts/explore_dataset.py"
