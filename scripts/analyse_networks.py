"""Weight matrices, zero gradients and robustness of the n's MLP under every activation."""

from pathlib import Path

from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads, carbon=snakemake.params.carbon):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.network import analyse_networks

    analyse_networks(
        int(snakemake.wildcards.n),
        model_files={a: list(snakemake.input[f"models_{a}"]) for a in snakemake.params.activations},
        split_files=list(snakemake.input.splits),
        data_folder=Path(snakemake.input.X).parent,
        features_csv=snakemake.input.features,
        outputs=dict(snakemake.output.items()),
        attack_settings=snakemake.params.attack_settings,
        robustness=snakemake.params.robustness,
        seed=snakemake.params.seed,
        repeats=snakemake.params.repeats,
        carbon=snakemake.params.carbon,
    )
