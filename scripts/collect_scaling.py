"""Gather the scaling jobs' rows, the study's fits that are cells, and the noted rows of cells
beyond a model's limits; write where each model breaks."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.tables.scaling import collect_scaling

with job_log(snakemake.log[0], snakemake.threads):
    collect_scaling(
        list(snakemake.input.tables),
        snakemake.output.table,
        snakemake.params.config,
        metrics=list(snakemake.input.metrics),
        breaks_out=snakemake.output.breaks,
    )
