"""Per-feature statistics, inferred noise families, histograms, correlations and PCA of one n."""

from pathlib import Path

from kryptonite_n.explore import explore_dataset
from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    explore_dataset(
        Path(snakemake.input.X).parent,
        int(snakemake.wildcards.n),
        dict(snakemake.output.items()),
        histogram_bins=snakemake.params.histogram_bins,
        pca_points=snakemake.params.pca_points,
        seed=snakemake.params.seed,
    )
