"""The dry-run parser of tests/dryrun.py, on plans whose jobs are known.

The incremental and restart tests trust ``planned`` and ``nothing_planned``; if the parser
stopped finding jobs, "nothing planned" would pass everywhere. These tests make it find jobs
where Snakemake plans them, and fail loudly when its count disagrees with Snakemake's.
"""

from __future__ import annotations

import pytest
from conftest import REPO, WorkflowRun
from dryrun import check_listing, nothing_planned, parse_jobs, planned

pytestmark = pytest.mark.workflow

LISTING = """Building DAG of jobs...
Job stats:
job                count
---------------  -------
explore_dataset        1
prepare_dataset        1
total                  2


rule prepare_dataset:
    output: results/data/n9/kryptonite-9-X.npy, results/data/n9/kryptonite-9-y.npy
    log: logs/data/n9/prepare_dataset.log
    jobid: 1
    reason: Missing output files: results/data/n9/kryptonite-9-X.npy
    wildcards: n=9
    resources: tmpdir=<TBD>

rule explore_dataset:
    input: results/data/n9/kryptonite-9-X.npy, results/data/n9/kryptonite-9-y.npy
    output: results/data/n9/features.csv
    log: logs/data/n9/explore_dataset.log
    jobid: 0
    reason: Missing output files: results/data/n9/features.csv
    wildcards: n=9
Job stats:
job                count
---------------  -------
explore_dataset        1
prepare_dataset        1
total                  2

This was a dry-run (flag -n). The order of jobs does not reflect the order of execution.
"""


def test_a_listing_is_parsed_into_its_jobs():
    jobs = parse_jobs(LISTING)
    assert sorted(jobs) == [("explore_dataset", "logs/data/n9/explore_dataset.log"),
                            ("prepare_dataset", "logs/data/n9/prepare_dataset.log")]
    prepare = jobs[("prepare_dataset", "logs/data/n9/prepare_dataset.log")]
    assert prepare.outputs == {"results/data/n9/kryptonite-9-X.npy", "results/data/n9/kryptonite-9-y.npy"}
    assert prepare.dimensions == {9}
    assert prepare.reason.startswith("Missing output files")
    check_listing(LISTING, jobs)


def test_a_parser_that_finds_fewer_jobs_than_snakemake_fails():
    jobs = parse_jobs(LISTING)
    with pytest.raises(AssertionError, match="plans 2 jobs, the parser found 0"):
        check_listing(LISTING, {})
    with pytest.raises(AssertionError, match="plans 2 jobs, the parser found 1"):
        check_listing(LISTING, dict(list(jobs.items())[:1]))
    # With --until, Snakemake says "nothing" as a table whose total is 0: an empty plan.
    check_listing("Building DAG of jobs...\nJob stats:\njob      count\n-----  -------\ntotal        0\n", {})
    # A listing in a format the parser does not know is not taken as an empty plan.
    unknown = LISTING.replace("rule ", "job ").replace("total                  2", "")
    with pytest.raises(AssertionError, match="neither says 'Nothing to be done' nor has a job count"):
        check_listing(unknown, parse_jobs(unknown))


def test_a_plan_known_to_hold_jobs_is_found(tmp_path):
    """From an empty folder, one n's feature table needs exactly its dataset and its exploration."""
    run = WorkflowRun(tmp_path, REPO / "config" / "quick.yaml")
    jobs = planned(run, "--", "results/data/n9/features.csv", "results/data/n12/features.csv")
    assert sorted((job.rule, tuple(sorted(job.dimensions))) for job in jobs.values()) == [
        ("explore_dataset", (9,)), ("explore_dataset", (12,)),
        ("prepare_dataset", (9,)), ("prepare_dataset", (12,)),
    ]
    assert all(job.reason.startswith("Missing output files") for job in jobs.values())
    assert not nothing_planned(run, "--", "results/data/n9/features.csv")


def test_a_finished_target_plans_nothing_in_snakemakes_own_words(tmp_path):
    run = WorkflowRun(tmp_path, REPO / "config" / "quick.yaml")
    target = "results/data/n9/kryptonite-9-y.npy"
    assert [job.rule for job in planned(run, "--", target).values()] == ["prepare_dataset"]
    run.run("--", target)
    assert nothing_planned(run, "--", target)
    assert planned(run, "--", target) == {}
