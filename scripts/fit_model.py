"""Fit one model on every repeat of one n; write metrics, predictions and the fitted model."""

from pathlib import Path

from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads, carbon=snakemake.params.carbon):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.models import fit_model

    fit_model(
        snakemake.params.model,
        int(snakemake.wildcards.n),
        data_folder=Path(snakemake.input.X).parent,
        split_files=list(snakemake.input.splits),
        features_csv=snakemake.input.features,
        outputs=dict(snakemake.output.items()),
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        repeats=snakemake.params.repeats,
        carbon=snakemake.params.carbon,
        inference_batch_size=snakemake.params.inference_batch_size,
        threads=snakemake.threads,
    )
