"""Every model's P(y = 1) on a 2-D slice through two informative features of one n."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    n=int(snakemake.wildcards.n),
):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.compute.robustness import map_decision_boundary

    map_decision_boundary(
        int(snakemake.wildcards.n),
        entries=snakemake.params.entries,
        split_file=snakemake.input.split,
        repeat=snakemake.params.repeat,
        data_files=dict(snakemake.input.items()),
        features_csv=snakemake.input.features,
        outputs=dict(snakemake.output.items()),
        grid=snakemake.params.grid,
    )
