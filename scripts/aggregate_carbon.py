"""Gather jobs' carbon CSVs into one table, each watt charged once, for the configured grid and TDP."""

from kryptonite_n.compute.carbon import aggregate
from kryptonite_n.compute.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    aggregate(
        list(snakemake.input.parts),
        snakemake.output[0],
        country=snakemake.params.country,
        tdp_w=snakemake.params.tdp_w,
        tdp_floor_w=snakemake.params.tdp_floor_w,
    )
