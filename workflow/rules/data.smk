# Datasets: generate (or read and validate published files), split, explore.


rule prepare_dataset:
    input:
        published_inputs,
    output:
        **dataset_outputs(),
    params:
        seed=config["seed"],
        data_dir=config["data_dir"],
        generator=config["generator"] if GENERATED else None,
        carbon=CARBON,
    log:
        "logs/data/n{n}/prepare_dataset.log",
    benchmark:
        "logs/data/n{n}/prepare_dataset.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/prepare_dataset.py"


rule split_dataset:
    input:
        y="results/data/n{n}/kryptonite-{n}-y.npy",
    output:
        splits=expand("results/data/n{{n}}/splits/repeat{repeat}.npy", repeat=REPEATS),
    params:
        seed=config["seed"],
        fractions=config["split"],
        repeats=REPEATS,
    log:
        "logs/data/n{n}/split_dataset.log",
    benchmark:
        "logs/data/n{n}/split_dataset.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/split_dataset.py"


rule explore_dataset:
    input:
        unpack(data_files),
    output:
        features="results/data/n{n}/features.csv",
        histograms="results/data/n{n}/histograms.csv",
        correlation="results/data/n{n}/correlation.csv",
        pca="results/data/n{n}/pca.csv",
    params:
        histogram_bins=config["explore"]["histogram_bins"],
        pca_points=config["explore"]["pca_points"],
        seed=config["seed"],
    log:
        "logs/data/n{n}/explore_dataset.log",
    benchmark:
        "logs/data/n{n}/explore_dataset.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/explore_dataset.py"
