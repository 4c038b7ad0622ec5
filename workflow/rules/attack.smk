# Robustness: adversarial and noise attacks on every fitted model (one job per model and n,
# covering all repeats), and what the trained networks look like (weight matrices, gradients,
# activation comparison, decision boundary).


wildcard_constraints:
    activation="|".join(NETWORK["activations"]),


rule attack_model:
    input:
        unpack(data_files),
        splits=split_files,
        features="results/data/n{n}/features.csv",
        models=attacked_model_files,
        code=str(SOURCE / "attacks.py"),
    output:
        table="results/adversarial/{model}/n{n}.csv",
        carbon="results/carbon/attack/{model}/n{n}.csv",
    params:
        settings=ATTACKS,
        seed=config["seed"],
        repeats=REPEATS,
        carbon=CARBON,
    wildcard_constraints:
        model="|".join(ATTACKED) or "no-attacked-model",
    log:
        "logs/adversarial/{model}/n{n}/attack_model.log",
    benchmark:
        "logs/adversarial/{model}/n{n}/attack_model.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/models.yaml"
    script:
        "../../scripts/attack_model.py"


rule aggregate_adversarial:
    input:
        adversarial_tables(),
    output:
        "results/adversarial.csv",
    log:
        "logs/adversarial/aggregate_adversarial.log",
    benchmark:
        "logs/adversarial/aggregate_adversarial.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/models.yaml"
    script:
        "../../scripts/aggregate_adversarial.py"


rule fit_mlp_activation:
    input:
        unpack(data_files),
        splits=split_files,
        features="results/data/n{n}/features.csv",
        code=model_code("mlp"),
    output:
        model=expand(f"{VARIANT_FOLDER}/repeat{{repeat}}/model.npz", repeat=REPEATS, allow_missing=True),
        metrics=expand(f"{VARIANT_FOLDER}/repeat{{repeat}}/metrics.json", repeat=REPEATS, allow_missing=True),
        carbon="results/carbon/network_analysis/mlp_{activation}/n{n}.csv",
    params:
        settings=lambda wildcards: model_settings(config, "mlp", int(wildcards.n)),
        seed=config["seed"],
        repeats=REPEATS,
        carbon=CARBON,
    log:
        "logs/network_analysis/n{n}/mlp_{activation}/fit.log",
    benchmark:
        "logs/network_analysis/n{n}/mlp_{activation}/fit.benchmark.tsv"
    threads: 1  # as fit_mlp: see rules/fit.smk
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/models.yaml"
    script:
        "../../scripts/fit_mlp_activation.py"


rule analyse_networks:
    input:
        unpack(data_files),
        unpack(analysed_networks),
        splits=split_files,
        features="results/data/n{n}/features.csv",
        code=[str(SOURCE / "network.py"), str(SOURCE / "attacks.py")],
    output:
        layers="results/network_analysis/n{n}/layers.csv",
        robustness="results/network_analysis/n{n}/robustness.csv",
        carbon="results/carbon/network_analysis/n{n}.csv",
    params:
        activations=lambda wildcards: network_activations(wildcards.n),
        attack_settings=ATTACKS,
        robustness={key: NETWORK[key] for key in ("eps", "scopes", "methods")},
        seed=config["seed"],
        repeats=REPEATS,
        carbon=CARBON,
    log:
        "logs/network_analysis/n{n}/analyse_networks.log",
    benchmark:
        "logs/network_analysis/n{n}/analyse_networks.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/models.yaml"
    script:
        "../../scripts/analyse_networks.py"


rule map_decision_boundary:
    input:
        unpack(data_files),
        models=lambda wildcards: [entry["file"] for entry in boundary_entries(wildcards.n)],
        split="results/data/n{n}/splits/repeat%d.npy" % REPEATS[0],
        features="results/data/n{n}/features.csv",
    output:
        table="results/decision_boundary/n{n}.csv",
        carbon="results/carbon/decision_boundary/n{n}.csv",
    params:
        entries=lambda wildcards: boundary_entries(wildcards.n),
        repeat=REPEATS[0],
        grid=NETWORK["boundary_grid"],
        carbon=CARBON,
    log:
        "logs/decision_boundary/n{n}/map_decision_boundary.log",
    benchmark:
        "logs/decision_boundary/n{n}/map_decision_boundary.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/models.yaml"
    script:
        "../../scripts/map_decision_boundary.py"


rule aggregate_network_analysis:
    input:
        layers=expand("results/network_analysis/n{n}/layers.csv", n=ANALYSED),
        robustness=expand("results/network_analysis/n{n}/robustness.csv", n=ANALYSED),
    output:
        layers="results/network_analysis.csv",
        robustness="results/activation_robustness.csv",
    log:
        "logs/network_analysis/aggregate_network_analysis.log",
    benchmark:
        "logs/network_analysis/aggregate_network_analysis.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/models.yaml"
    script:
        "../../scripts/aggregate_network_analysis.py"
