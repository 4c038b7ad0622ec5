"""Refit a search's best settings on every repeat of one n, as the model <model>_tuned (or take
over the searched model's own fit when its settings won)."""

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
    from kryptonite_n.compute.tuning import fit_tuned

    fit_tuned(
        snakemake.params.model,
        int(snakemake.wildcards.n),
        trials_csv=snakemake.input.trials,
        tuning=snakemake.params.tuning,
        paper_files=list(snakemake.input.paper),
        data_files=dict(snakemake.input.items()),
        split_files=list(snakemake.input.splits),
        outputs=dict(snakemake.output.items()),
        seed=snakemake.params.seed,
        repeats=snakemake.params.repeats,
        inference_batch_size=snakemake.params.inference_batch_size,
        threads=snakemake.threads,
    )
