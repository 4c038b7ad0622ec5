"""Draw one family of report figures: a Vega-Lite spec and a static SVG per figure."""

from kryptonite_n.jobs import job_log
from kryptonite_n.report.figures import draw_family

with job_log(snakemake.log[0], snakemake.threads):
    draw_family(
        snakemake.params.family,
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        logs_dir=snakemake.params.logs,
        carbon=snakemake.params.carbon,
    )
