"""Build the report site with `mkdocs build --strict`."""

from kryptonite_n.jobs import job_log
from kryptonite_n.report.site import build_site

with job_log(snakemake.log[0], snakemake.threads):
    build_site(
        snakemake.input.mkdocs,
        snakemake.params.docs,
        [*snakemake.input.pages, *snakemake.input.figures, *snakemake.input.assets],
        dict(snakemake.output.items()),
        report_carbon=list(snakemake.input.carbon),
        carbon=snakemake.params.carbon,
    )
