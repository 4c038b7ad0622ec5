"""Each model's repeats as an ensemble, on the hidden rows none of them trained on."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.tables.ensembles import summarise_ensembles

with job_log(snakemake.log[0], snakemake.threads):
    summarise_ensembles(
        list(snakemake.input.predictions),
        list(snakemake.input.probabilities),
        list(snakemake.input.hidden_labels),
        list(snakemake.input.tables),
        snakemake.output[0],
    )
