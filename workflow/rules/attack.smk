# Robustness: adversarial and noise attacks on every fitted model (one job per model and n,
# covering all repeats), and what the trained networks look like (weight matrices, gradients,
# activation comparison, decision boundary).

ATTACKS = config["attacks"]
NETWORK = config["network_analysis"]
# The attacked models: enabled, fitted on some n, and listed in attacks.models.
ATTACKED = {
    model: FITTED[model]
    for model in ATTACKS["models"]
    if ATTACKS["enabled"] and FITTED.get(model)
}
# The n whose MLP is analysed: configured and fitted.
ANALYSED = (
    [n for n in NETWORK["dimensions"] if n in FITTED.get("mlp", [])]
    if NETWORK["enabled"]
    else []
)
MODEL_FILE = "results/models/{model}/n{n}/repeat{repeat}/model.npz"
VARIANT_FOLDER = "results/network_analysis/n{n}/mlp_{activation}"


wildcard_constraints:
    activation="|".join(NETWORK["activations"]),


def fitted_activation(n):
    return model_settings(config, "mlp", int(n))["activation"]


def network_activations(n):
    """The configured activations, plus the fitted network's own if it is not among them."""
    activations = list(NETWORK["activations"])
    if fitted_activation(n) not in activations:
        activations.append(fitted_activation(n))
    return activations


def activation_models(n, activation):
    """Per-repeat model files of the n's MLP with ``activation``: the fit itself when it is that one."""
    if activation == fitted_activation(n):
        return [MODEL_FILE.format(model="mlp", n=n, repeat=r) for r in REPEATS]
    folder = VARIANT_FOLDER.format(n=n, activation=activation)
    return [f"{folder}/repeat{r}/model.npz" for r in REPEATS]


def attacked_model_files(wildcards):
    return [MODEL_FILE.format(model=wildcards.model, n=wildcards.n, repeat=r) for r in REPEATS]


def boundary_entries(n):
    """(model, activation, file) of every model drawn on the n's decision-boundary slice (repeat 0)."""
    entries = [
        {"model": "mlp", "activation": activation, "file": activation_models(n, activation)[0]}
        for activation in network_activations(n)
    ]
    entries += [
        {"model": model, "activation": "none", "file": MODEL_FILE.format(model=model, n=n, repeat=REPEATS[0])}
        for model, dimensions in ATTACKED.items()
        if model != "mlp" and int(n) in dimensions
    ]
    return entries


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


def adversarial_tables():
    return [f"results/adversarial/{model}/n{n}.csv" for model, dimensions in ATTACKED.items() for n in dimensions]


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
    threads: 2
    resources:
        mem_mb=1500,
        runtime=60,
    conda:
        "../../envs/models.yaml"
    script:
        "../../scripts/fit_mlp_activation.py"


def analysed_networks(wildcards):
    return {
        f"models_{activation}": activation_models(wildcards.n, activation)
        for activation in network_activations(wildcards.n)
    }


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


def attack_targets():
    targets = []
    if ATTACKED:
        targets.append("results/adversarial.csv")
    if ANALYSED:
        targets += ["results/network_analysis.csv", "results/activation_robustness.csv"]
        targets += expand("results/decision_boundary/n{n}.csv", n=ANALYSED)
    return targets


def attack_carbon_files():
    """Carbon CSVs of every job attack_targets() runs (gathered by carbon.smk)."""
    files = [f"results/carbon/attack/{model}/n{n}.csv" for model, dimensions in ATTACKED.items() for n in dimensions]
    for n in ANALYSED:
        files.append(f"results/carbon/network_analysis/n{n}.csv")
        files.append(f"results/carbon/decision_boundary/n{n}.csv")
        files += [
            f"results/carbon/network_analysis/mlp_{activation}/n{n}.csv"
            for activation in network_activations(n)
            if activation != fitted_activation(n)
        ]
    return files
