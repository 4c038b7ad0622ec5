"""Gather jobs' carbon CSVs into one table, emissions for the configured country's grid."""

from kryptonite_n.carbon import aggregate
from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    aggregate(list(snakemake.input), snakemake.output[0], country=snakemake.params.country)
