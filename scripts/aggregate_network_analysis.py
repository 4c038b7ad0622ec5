"""Gather the per-n network analysis tables."""

from kryptonite_n.jobs import job_log
from kryptonite_n.network import LAYER_COLUMNS, ROBUSTNESS_COLUMNS, aggregate

with job_log(snakemake.log[0], snakemake.threads):
    aggregate(list(snakemake.input.layers), snakemake.output.layers, LAYER_COLUMNS)
    aggregate(list(snakemake.input.robustness), snakemake.output.robustness, ROBUSTNESS_COLUMNS)
