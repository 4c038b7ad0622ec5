"""Fit one model on every cell of one n of the scaling grid; write its rows of the map."""

from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    # Imported inside the log's block, so that an import error lands in the job's log.
    from kryptonite_n.scaling import run_scaling_job

    run_scaling_job(
        snakemake.params.model,
        int(snakemake.wildcards.n),
        snakemake.output.table,
        scaling=snakemake.params.scaling,
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        generator=snakemake.params.generator,
    )
