# Carbon: every compute job writes its own small CSV under results/carbon/ (one row per
# measured phase, see kryptonite_n.compute.carbon); this stage gathers them into results/carbon.csv.
#
# The jobs read carbon.enabled and carbon.country from the config, not as params, on purpose:
# accounting never changes a result, so changing it must not rerun the science. The jobs
# record energy and what CodeCarbon found; the emissions (for carbon.country) and the TDP used
# where CodeCarbon's is implausible (carbon.tdp_w, carbon.tdp_floor_w) are applied here, so
# changing them reruns only this aggregation and the report. Here too the machine's CPU and
# RAM power is shared among the phases running at the same time (kryptonite_n.compute.carbon_share). The report's own jobs, which read results/carbon.csv,
# keep theirs apart in results/carbon/report.csv: anything else would be a cycle.


rule aggregate_carbon:
    input:
        parts=PLAN.carbon_inputs(),
        code=code("aggregate_carbon"),
    output:
        paths.CARBON,
    log:
        "logs/carbon/aggregate_carbon.log",
    benchmark:
        "logs/carbon/aggregate_carbon.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        country=config["carbon"]["country"],
        tdp_w=config["carbon"]["tdp_w"],
        tdp_floor_w=config["carbon"]["tdp_floor_w"],
    script:
        "../../scripts/aggregate_carbon.py"


rule aggregate_report_carbon:
    input:
        parts=PLAN.report_carbon_parts(),
        code=code("aggregate_carbon"),
    output:
        paths.CARBON_REPORT,
    log:
        "logs/carbon/aggregate_report_carbon.log",
    benchmark:
        "logs/carbon/aggregate_report_carbon.benchmark.tsv"
    conda:
        "../../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        country=config["carbon"]["country"],
        tdp_w=config["carbon"]["tdp_w"],
        tdp_floor_w=config["carbon"]["tdp_floor_w"],
    script:
        "../../scripts/aggregate_carbon.py"
