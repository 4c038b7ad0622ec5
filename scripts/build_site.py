"""Build the site with mkdocs from this run's pages, figures and assets."""

from kryptonite_n.compute.jobs import job_log

with job_log(
    snakemake.log[0],
    snakemake.threads,
    carbon=snakemake.config["carbon"],
    carbon_csv=snakemake.output.carbon,
):
    from kryptonite_n.report.site import build_site

    build_site(
        snakemake.input.mkdocs,
        snakemake.params.docs,
        [*snakemake.input.pages, *snakemake.input.figures, *snakemake.input.assets],
        dict(snakemake.output.items()),
    )
