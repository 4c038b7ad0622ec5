"""Train the n's MLP again with another activation, same settings and seeds otherwise."""

from pathlib import Path

from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads, carbon=snakemake.params.carbon):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.network import fit_activation_variant

    fit_activation_variant(
        int(snakemake.wildcards.n),
        snakemake.wildcards.activation,
        data_folder=Path(snakemake.input.X).parent,
        split_files=list(snakemake.input.splits),
        features_csv=snakemake.input.features,
        outputs=dict(snakemake.output.items()),
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        repeats=snakemake.params.repeats,
        carbon=snakemake.params.carbon,
        threads=snakemake.threads,
    )
