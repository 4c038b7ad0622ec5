"""One row per (model, n): accuracy over repeats, target, Bayes accuracy; notes for skipped pairs."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.tables.summary import summarise_models

with job_log(snakemake.log[0], snakemake.threads):
    summarise_models(
        list(snakemake.input.tables),
        list(snakemake.input.truths),
        snakemake.params.study,
        snakemake.output.summary,
    )
