"""Generate the Kryptonite-n dataset, or read and validate the published one."""

from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads, carbon=snakemake.params.carbon):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.data import prepare_dataset

    prepare_dataset(
        int(snakemake.wildcards.n),
        dict(snakemake.output.items()),
        seed=snakemake.params.seed,
        data_dir=snakemake.params.data_dir,
        generator=snakemake.params.generator,
        carbon=snakemake.params.carbon,
    )
