"""Vendor the Vega scripts and copy the site's static files into the report's docs."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
):
    from kryptonite_n.report.site import prepare_assets

    static = {name: path for name, path in snakemake.input.items() if name != "code"}
    prepare_assets(static, dict(snakemake.output.items()))
