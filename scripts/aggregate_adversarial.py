"""Gather the per-(model, n) attack tables into results/adversarial.csv."""

from kryptonite_n.attacks import aggregate
from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    aggregate(list(snakemake.input), snakemake.output[0])
