# Robustness: adversarial and noise attacks on every fitted model (one job per model and n,
# covering all repeats), and what the trained networks look like (weight matrices, gradients,
# activation comparison, decision boundary).


wildcard_constraints:
    activation="|".join(NETWORK["activations"]),


rule attack_model:
    input:
        **DATASET,
        splits=rules.split_dataset.output.splits,
        features=rules.explore_dataset.output.features,
        models=lambda wildcards: PLAN.fits(
            paths.FIT_FILES["model"], {wildcards.model: [wildcards.n]}
        ),
        code=lambda wildcards: code("attack_model", models=[wildcards.model]),
    output:
        table=paths.ADVERSARIAL_PART,
        carbon=paths.CARBON_ATTACK,
    log:
        "logs/adversarial/{model}/n{n}/attack_model.log",
    benchmark:
        "logs/adversarial/{model}/n{n}/attack_model.benchmark.tsv"
    wildcard_constraints:
        model="|".join(PLAN.attacked) or "no-attacked-model",
    conda:
        "../../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=ATTACKS,
        seed=config["seed"],
        repeats=lambda wildcards: PLAN.model_repeats(wildcards.model),
    script:
        "../../scripts/attack_model.py"


rule aggregate_adversarial:
    input:
        parts=PLAN.fits(paths.ADVERSARIAL_PART, PLAN.attacked),
        code=code("aggregate_adversarial"),
    output:
        paths.ADVERSARIAL,
    log:
        "logs/adversarial/aggregate_adversarial.log",
    benchmark:
        "logs/adversarial/aggregate_adversarial.benchmark.tsv"
    conda:
        "../../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../../scripts/aggregate_adversarial.py"


# The network retrained with another activation: the one fit driver, the activation overridden.
rule fit_activation_variant:
    input:
        **DATASET,
        splits=rules.split_dataset.output.splits,
        code=code("fit_model", models=[NETWORK_MODEL]),
    output:
        **PLAN.fit_outputs(NETWORK_MODEL, paths.VARIANT),
        carbon=paths.CARBON_VARIANT,
    log:
        "logs/network_analysis/n{n}/variant_{activation}/fit.log",
    benchmark:
        "logs/network_analysis/n{n}/variant_{activation}/fit.benchmark.tsv"
    conda:
        "../../envs/models.yaml"
    threads: 1  # as the fits: see rules/fit.smk
    resources:
        mem_mb=fit_resource(NETWORK_MODEL, "mem_mb"),
        runtime=fit_resource(NETWORK_MODEL, "runtime"),
    params:
        model=NETWORK_MODEL,
        settings=lambda wildcards: model_settings(
            config, NETWORK_MODEL, int(wildcards.n)
        )
        | {"activation": wildcards.activation},
        seed=config["seed"],
        repeats=REPEATS,
        inference_batch_size=config["inference"]["batch_size"],
    script:
        "../../scripts/fit_model.py"


rule analyse_networks:
    input:
        unpack(analysed_networks),
        **DATASET,
        splits=rules.split_dataset.output.splits,
        features=rules.explore_dataset.output.features,
        code=code("analyse_networks", models=[NETWORK_MODEL]),
    output:
        layers=paths.NETWORK_LAYERS_PART,
        robustness=paths.NETWORK_ROBUSTNESS_PART,
        carbon=paths.CARBON_NETWORK,
    log:
        "logs/network_analysis/n{n}/analyse_networks.log",
    benchmark:
        "logs/network_analysis/n{n}/analyse_networks.benchmark.tsv"
    conda:
        "../../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        model=NETWORK_MODEL,
        activations=lambda wildcards: PLAN.network_activations(wildcards.n),
        attack_settings=ATTACKS,
        robustness={key: NETWORK[key] for key in ("eps", "scopes", "methods")},
        seed=config["seed"],
        repeats=REPEATS,
    script:
        "../../scripts/analyse_networks.py"


rule map_decision_boundary:
    input:
        **DATASET,
        models=lambda wildcards: [e["file"] for e in PLAN.boundary_entries(wildcards.n)],
        split=paths.SPLIT.replace("{repeat}", str(REPEATS[0])),
        features=rules.explore_dataset.output.features,
        code=lambda wildcards: code(
            "map_decision_boundary", models=PLAN.boundary_models(wildcards.n)
        ),
    output:
        table=paths.BOUNDARY,
        carbon=paths.CARBON_BOUNDARY,
    log:
        "logs/decision_boundary/n{n}/map_decision_boundary.log",
    benchmark:
        "logs/decision_boundary/n{n}/map_decision_boundary.benchmark.tsv"
    conda:
        "../../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        entries=lambda wildcards: PLAN.boundary_entries(wildcards.n),
        repeat=REPEATS[0],
        grid=NETWORK["boundary_grid"],
    script:
        "../../scripts/map_decision_boundary.py"


rule aggregate_network_analysis:
    input:
        layers=expand(paths.NETWORK_LAYERS_PART, n=PLAN.analysed),
        robustness=expand(paths.NETWORK_ROBUSTNESS_PART, n=PLAN.analysed),
        code=code("aggregate_network_analysis"),
    output:
        layers=paths.NETWORK_LAYERS,
        robustness=paths.ACTIVATION_ROBUSTNESS,
    log:
        "logs/network_analysis/aggregate_network_analysis.log",
    benchmark:
        "logs/network_analysis/aggregate_network_analysis.benchmark.tsv"
    conda:
        "../../envs/models.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/aggregate_network_analysis.py"
