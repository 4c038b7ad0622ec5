"""Draw one family of report figures: a Vega-Lite spec and a static SVG per figure."""

from kryptonite_n.carbon import start_tracker
from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    start_tracker(snakemake.params.carbon)  # CodeCarbon starts up while the job imports and loads
    from kryptonite_n.report.figures import draw_family

    draw_family(
        snakemake.params.family,
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        logs_dir=snakemake.params.logs,
        carbon=snakemake.params.carbon,
    )
