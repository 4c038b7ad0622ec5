"""Render the report's Markdown pages; record the run's configuration and draw its rule graph."""

from kryptonite_n.jobs import job_log
from kryptonite_n.report.pages import render_pages

with job_log(snakemake.log[0], snakemake.threads):
    render_pages(
        snakemake.params.templates,
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        snakemake.params.config,
        logs_dir=snakemake.params.logs,
        snakemake_command=snakemake.params.snakemake,
        carbon=snakemake.params.carbon,
    )
