"""Fit one model on every cell of one n of the scaling grid; write its rows of the map."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    model=snakemake.params.model,
    n=int(snakemake.wildcards.n),
):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.compute.scaling import run_scaling_job

    run_scaling_job(
        snakemake.params.model,
        int(snakemake.wildcards.n),
        snakemake.output.table,
        scaling=snakemake.params.scaling,
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        generator=snakemake.params.generator,
        study_factor=snakemake.params.study_factor,
    )
