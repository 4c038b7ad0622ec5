"""Write the seeded train/validation/test split of every repeat of one n."""

from kryptonite_n.compute.data import write_splits
from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    n=int(snakemake.wildcards.n),
):
    write_splits(
        snakemake.input.y,
        int(snakemake.wildcards.n),
        snakemake.params.fractions,
        snakemake.params.seed,
        snakemake.params.repeats,
        snakemake.output.splits,
    )
