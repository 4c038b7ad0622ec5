"""Gather the per-(model, n) attack tables into results/adversarial.csv."""

from kryptonite_n.compute.attacks import COLUMNS
from kryptonite_n.compute.jobs import job_log
from kryptonite_n.io import concat_csv

with job_log(snakemake.log[0], snakemake.threads):
    concat_csv(list(snakemake.input.parts), snakemake.output[0], COLUMNS)
