"""Run trials of one (model, n) Optuna study, warm-started with the paper's settings, until it
has tuning.trials finished ones."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.plan.tuning import tuned_name

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    model=tuned_name(snakemake.wildcards.model),
    n=int(snakemake.wildcards.n),
):
    from kryptonite_n.compute.tuning import search

    search(
        snakemake.wildcards.model,
        int(snakemake.wildcards.n),
        data_files={"X": snakemake.input.X, "y": snakemake.input.y},
        split_files=list(snakemake.input.splits),
        journal=snakemake.params.journal,
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        paper=snakemake.params.paper,
        out=snakemake.output.worker,
    )
