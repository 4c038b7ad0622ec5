"""Write the vendored Vega bundle and copy the site's own script and stylesheet."""

from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads, carbon=snakemake.params.carbon):
    # Imported once the carbon tracker started, so that its start-up overlaps the import.
    from kryptonite_n.report.site import prepare_assets

    prepare_assets(
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        carbon=snakemake.params.carbon,
    )
