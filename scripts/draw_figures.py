"""Draw one family of report figures: per figure its Vega spec (a script), a static SVG and its CSV."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.report.figures import draw_family

    draw_family(
        snakemake.params.family,
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        logs_dir=snakemake.params.logs,
    )
