"""Per n, the hidden-set labels of the model with the best mean validation accuracy."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.tables.summary import choose_hidden_labels

with job_log(snakemake.log[0], snakemake.threads):
    choose_hidden_labels(
        list(snakemake.input.tables),
        snakemake.params.template,
        dict(zip(snakemake.params.dimensions, snakemake.output.labels, strict=True)),
        snakemake.output.choice,
    )
