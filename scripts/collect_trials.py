"""One (model, n) study's trials.csv and parameter importances, from its journal."""

from kryptonite_n.compute.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    from kryptonite_n.compute.tuning import collect

    collect(
        snakemake.wildcards.model,
        int(snakemake.wildcards.n),
        worker_records=list(snakemake.input.workers),
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        outputs=dict(snakemake.output.items()),
    )
