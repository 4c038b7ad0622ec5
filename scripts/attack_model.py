"""Attack every repeat of one fitted (model, n): FGSM, BIM, PGD or the exact worst case, and noise."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    model=snakemake.wildcards.model,
    n=int(snakemake.wildcards.n),
):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.compute.robustness import attack_model

    attack_model(
        snakemake.wildcards.model,
        int(snakemake.wildcards.n),
        model_files=list(snakemake.input.models),
        split_files=list(snakemake.input.splits),
        data_files=dict(snakemake.input.items()),
        features_csv=snakemake.input.features,
        outputs=dict(snakemake.output.items()),
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        repeats=snakemake.params.repeats,
    )
