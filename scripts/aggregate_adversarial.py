"""Gather the per-(model, n) attack tables into results/adversarial.csv."""

from kryptonite_n.attacks import COLUMNS
from kryptonite_n.io import concat_csv
from kryptonite_n.jobs import job_log

with job_log(snakemake.log[0], snakemake.threads):
    concat_csv(list(snakemake.input), snakemake.output[0], COLUMNS)
