"""The chosen model's hidden-set probabilities, beside its submitted labels."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.tables.summary import submit_probabilities

with job_log(snakemake.log[0], snakemake.threads):
    submit_probabilities(snakemake.input.probabilities, snakemake.input.labels, snakemake.output[0])
