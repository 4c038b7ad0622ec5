"""Render the report's Markdown pages from the results; record the config and the rule graph."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.report.pages import render_pages

    render_pages(
        snakemake.params.templates,
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        snakemake.params.config,
        logs_dir=snakemake.params.logs,
        snakemake_command=snakemake.params.snakemake,
    )
