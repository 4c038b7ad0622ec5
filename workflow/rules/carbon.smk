# Carbon: every compute job writes its own small CSV under results/carbon/ (one row per
# measured phase, see kryptonite_n.carbon); this stage gathers them into results/carbon.csv.
#
# Stage files add their jobs' carbon CSVs by defining a function named in CARBON_STAGE_FILES
# that takes no argument and returns a list of paths, e.g. in attack.smk
#     def attack_carbon_files():
#         return [f"results/carbon/attack/{model}/n{n}.csv" for ...]
# It is looked up when the DAG is built, so include order does not matter and a stage that
# is not written yet simply contributes nothing. A job that reads results/carbon.csv (the
# report) cannot have its own CSV in it: that would be a cycle.

CARBON_STAGE_FILES = ("attack_carbon_files", "report_carbon_files")


def data_carbon_files():
    return expand("results/carbon/data/n{n}.csv", n=DIMENSIONS)


def fit_carbon_files():
    return [
        f"results/carbon/fit/{model}/n{n}.csv"
        for model, dimensions in FITTED.items()
        for n in dimensions
    ]


def carbon_inputs(wildcards=None):
    """Every per-job carbon CSV of the study: data and fits here, other stages by name."""
    files = data_carbon_files() + fit_carbon_files()
    for name in CARBON_STAGE_FILES:
        stage_files = globals().get(name)
        if stage_files is not None:
            files += list(stage_files())
    return files


rule aggregate_carbon:
    input:
        carbon_inputs,
    output:
        "results/carbon.csv",
    log:
        "logs/carbon/aggregate_carbon.log",
    benchmark:
        "logs/carbon/aggregate_carbon.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/aggregate_carbon.py"


def carbon_targets():
    return ["results/carbon.csv"]
