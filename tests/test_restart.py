"""Safe restarts: a run killed with SIGKILL in the middle of a job leaves no output Snakemake
would take as complete, and the rerun finishes the rest without redoing finished jobs.

The run is the quick study on n = 9 up to two of its model fits (``--until``): the MLP, the
longest job, and the XOR oracle. Data jobs, then fits; the kill comes while one fit runs after
the other has finished. Later stages restart no differently, and a longer run would only make
the test slower.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from conftest import REPO, WorkflowRun
from dryrun import nothing_planned, planned

pytestmark = pytest.mark.workflow

UNTIL = ("--config", "dimensions=[9]", "--until", "fit_mlp", "fit_xor_oracle")


def _complete(path: Path) -> None:
    """Read the whole file; raises if it was cut short."""
    if path.suffix == ".npy":
        np.load(path, allow_pickle=False)
    elif path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as arrays:
            [arrays[name] for name in arrays.files]
    elif path.suffix == ".json":
        json.loads(path.read_text())
    elif path.suffix == ".csv":
        pd.read_csv(path)


def _fit_jobs(directory: Path) -> tuple[list[Path], list[Path]]:
    """Fit logs of finished jobs (benchmark written over a second ago) and of running ones."""
    finished, running = [], []
    for log in sorted((directory / "logs" / "models").glob("*/n*/fit.log")):
        benchmark = log.with_name("fit.benchmark.tsv")
        if not benchmark.exists():
            running.append(log)
        elif time.time() - benchmark.stat().st_mtime > 1.0:
            # Snakemake records a job as finished just after its benchmark: leave it that moment.
            finished.append(log)
    return finished, running


def _kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL the run and every process it started, as a crashed node would."""
    try:
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    os.killpg(process.pid, signal.SIGKILL)
    for member in tree:  # a job in its own session would escape killpg
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    process.wait(timeout=30)
    psutil.wait_procs(tree, timeout=30)


def test_a_run_killed_mid_job_restarts_where_it_stopped(tmp_path):
    run = WorkflowRun(tmp_path / "run", REPO / "config" / "quick.yaml")
    console = (tmp_path / "first-run.txt").open("w")
    process = subprocess.Popen(run.command(*UNTIL), stdout=console, stderr=subprocess.STDOUT,
                               start_new_session=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    try:
        deadline = time.time() + 600
        while True:
            finished, running = _fit_jobs(run.directory)
            if finished and running:
                break
            assert process.poll() is None, (
                "the run ended before a fit was running after another had finished:\n"
                + (tmp_path / "first-run.txt").read_text()[-3000:])
            assert time.time() < deadline, "no fit finished within 10 minutes"
            time.sleep(0.1)
        _kill_tree(process)
    finally:
        if process.poll() is None:
            _kill_tree(process)
        console.close()

    # Nothing a killed job left behind is taken as done: its jobs are planned again.
    plan = planned(run, "--rerun-incomplete", *UNTIL)
    planned_logs = {job.log for job in plan.values()}
    assert {str(log.relative_to(run.directory)) for log in running} <= planned_logs
    assert not {str(log.relative_to(run.directory)) for log in finished} & planned_logs
    redone = {output for job in plan.values() for output in job.outputs}
    assert not [name for name in redone if name.endswith(".tmp")]
    # What is taken as done is whole: files are written under a temporary name, then renamed.
    done = [path for path in (run.directory / "results").rglob("*")
            if path.is_file() and str(path.relative_to(run.directory)) not in redone]
    assert done
    for path in done:
        if not path.name.endswith(".tmp"):
            _complete(path)
    before = {path: path.stat().st_mtime_ns for path in done}

    # The documented restart: remove the stale lock, rerun; incomplete jobs are redone.
    run.run("--unlock")
    second = run.run("--rerun-incomplete", *UNTIL)
    assert {path: path.stat().st_mtime_ns for path in done} == before
    for log in running:
        assert log.with_name("fit.benchmark.tsv").exists(), second.stdout[-3000:]
    left = planned(run, *UNTIL)
    assert not left, [(job.rule, job.reason) for job in left.values()]
    assert nothing_planned(run, *UNTIL)
