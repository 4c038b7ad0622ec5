# Carbon: every compute job writes its own small CSV under results/carbon/ (one row per
# measured phase, see kryptonite_n.carbon); this stage gathers them into results/carbon.csv.
#
# carbon_inputs() (common.smk) lists them. The report's jobs, which read results/carbon.csv,
# keep theirs apart in results/carbon/report.csv: anything else would be a cycle.


rule aggregate_carbon:
    input:
        carbon_inputs,
    output:
        "results/carbon.csv",
    log:
        "logs/carbon/aggregate_carbon.log",
    benchmark:
        "logs/carbon/aggregate_carbon.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/aggregate_carbon.py"
