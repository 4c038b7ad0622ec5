"""Brier score, log loss and expected calibration errors of every model with probabilities."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.tables.calibration import summarise_calibration

with job_log(snakemake.log[0], snakemake.threads):
    labelled = zip(snakemake.input.features, snakemake.input.labels, strict=True)
    summarise_calibration(
        list(snakemake.input.probabilities),
        list(snakemake.input.splits),
        {n: {"X": X, "y": y} for n, (X, y) in zip(snakemake.params.dimensions, labelled, strict=True)},
        list(snakemake.input.tables),
        snakemake.output.calibration,
        snakemake.output.reliability,
    )
