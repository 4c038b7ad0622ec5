"""Build the report site with `mkdocs build --strict`."""

from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads, carbon=snakemake.params.carbon):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.report.site import build_site

    build_site(
        snakemake.input.mkdocs,
        snakemake.params.docs,
        [*snakemake.input.pages, *snakemake.input.figures, *snakemake.input.assets],
        dict(snakemake.output.items()),
        report_carbon=list(snakemake.input.carbon),
        carbon=snakemake.params.carbon,
    )
