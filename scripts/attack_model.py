"""Attack every repeat of one fitted (model, n): FGSM, BIM, PGD or the exact worst case, and noise."""

from pathlib import Path

from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads, carbon=snakemake.params.carbon):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.attacks import attack_model

    attack_model(
        snakemake.wildcards.model,
        int(snakemake.wildcards.n),
        model_files=list(snakemake.input.models),
        split_files=list(snakemake.input.splits),
        data_folder=Path(snakemake.input.X).parent,
        features_csv=snakemake.input.features,
        outputs=dict(snakemake.output.items()),
        settings=snakemake.params.settings,
        seed=snakemake.params.seed,
        repeats=snakemake.params.repeats,
        carbon=snakemake.params.carbon,
    )
