"""Layer statistics and activation comparison of the n's MLP, every repeat."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    model=snakemake.params.model,
    n=int(snakemake.wildcards.n),
):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.compute.robustness import analyse_networks

    analyse_networks(
        int(snakemake.wildcards.n),
        model=snakemake.params.model,
        model_files={a: list(snakemake.input[f"models_{a}"]) for a in snakemake.params.activations},
        split_files=list(snakemake.input.splits),
        data_files=dict(snakemake.input.items()),
        features_csv=snakemake.input.features,
        outputs=dict(snakemake.output.items()),
        attack_settings=snakemake.params.attack_settings,
        robustness=snakemake.params.robustness,
        seed=snakemake.params.seed,
        repeats=snakemake.params.repeats,
    )
