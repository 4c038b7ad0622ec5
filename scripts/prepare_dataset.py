"""Generate the Kryptonite-n dataset, or read and validate the published one."""

from kryptonite_n.data import prepare_dataset
from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    prepare_dataset(
        int(snakemake.wildcards.n),
        dict(snakemake.output.items()),
        seed=snakemake.params.seed,
        data_dir=snakemake.params.data_dir,
        generator=snakemake.params.generator,
        carbon=snakemake.params.carbon,
    )
