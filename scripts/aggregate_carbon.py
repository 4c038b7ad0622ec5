"""Gather every job's carbon CSV into the study's carbon table."""

from kryptonite_n.carbon import aggregate
from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    aggregate(list(snakemake.input), snakemake.output[0])
