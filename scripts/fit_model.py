"""Fit one model on every repeat of one n; write metrics, predictions and the fitted model."""

from kryptonite_n.compute.jobs import job_log

# An activation variant of a network is measured apart from the network's own fit.
variant = snakemake.wildcards.get("activation")

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
    model=f"{snakemake.params.model}_{variant}" if variant else snakemake.params.model,
    n=int(snakemake.wildcards.n),
):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.compute.models.driver import fit_model

    fit_model(
        snakemake.params.model,
        int(snakemake.wildcards.n),
        data_files=dict(snakemake.input.items()),
        split_files=list(snakemake.input.splits),
        outputs=dict(snakemake.output.items()),
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        repeats=snakemake.params.repeats,
        inference_batch_size=snakemake.params.inference_batch_size,
        threads=snakemake.threads,
        # A variant's training is the network analysis', measured apart from the study's fits.
        train_stage="train_variants" if variant else "train",
    )
