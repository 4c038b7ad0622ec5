"""Gather the per-n network analysis tables."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.compute.nets.inspection import LAYER_COLUMNS, ROBUSTNESS_COLUMNS
from kryptonite_n.io import concat_csv

with job_log(snakemake.log[0], snakemake.threads):
    concat_csv(list(snakemake.input.layers), snakemake.output.layers, LAYER_COLUMNS)
    concat_csv(list(snakemake.input.robustness), snakemake.output.robustness, ROBUSTNESS_COLUMNS)
