"""Per-feature statistics, inferred noise families, histograms, correlations and PCA of one n."""

from kryptonite_n.compute.explore import explore_dataset
from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    n=int(snakemake.wildcards.n),
):
    explore_dataset(
        dict(snakemake.input.items()),
        int(snakemake.wildcards.n),
        dict(snakemake.output.items()),
        histogram_bins=snakemake.params.histogram_bins,
        pca_points=snakemake.params.pca_points,
        seed=snakemake.params.seed,
    )
