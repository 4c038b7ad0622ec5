"""Gather the scaling jobs' rows and the noted rows of cells beyond a model's limits."""

from kryptonite_n.jobs import job_log
from kryptonite_n.scaling import collect_scaling

with job_log(snakemake.log[0], snakemake.threads):
    collect_scaling(list(snakemake.input.tables), snakemake.output.table, snakemake.params.config)
