"""The feature set each rule-like model found, per repeat, against the true informative set."""

from kryptonite_n.compute.jobs import job_log
from kryptonite_n.tables.summary import collect_support

with job_log(snakemake.log[0], snakemake.threads):
    collect_support(list(snakemake.input.metrics), list(snakemake.input.truths), snakemake.output.support)
