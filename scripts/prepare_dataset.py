"""Generate one n's dataset, or read and validate the published files."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    n=int(snakemake.wildcards.n),
):
    from kryptonite_n.compute.prepare import prepare_dataset

    prepare_dataset(
        int(snakemake.wildcards.n),
        dict(snakemake.output.items()),
        seed=snakemake.params.seed,
        data_dir=snakemake.params.data_dir,
        generator=snakemake.params.generator,
    )
