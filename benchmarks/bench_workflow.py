"""The whole workflow from scratch: wall time, peak memory, slowest rules, suggested resources.

Usage:
    python benchmarks/bench_workflow.py --quick            # config/quick.yaml
    python benchmarks/bench_workflow.py --full             # config/config.yaml (hours)
    python benchmarks/bench_workflow.py --from-logs DIR    # only read DIR/logs of a finished run
Options: --cores N (default 2), --directory DIR (default: a fresh temporary directory),
--keep (keep the temporary directory), --config KEY=VALUE ... (passed on to Snakemake, e.g.
``--config 'carbon={enabled: false}'`` for a run without carbon accounting).

Peak memory is reported three ways: the largest single job (max_rss in the benchmark files),
the largest single process over the run (getrusage of the children, the same measure for
Snakemake itself), and the sum of the resident memory of every process of the run, sampled
twice a second (what the machine had to hold at once). Per rule, the largest max_rss and
wall time suggest its resources: mem_mb with 50% headroom, runtime twice the slowest job.
Every run is given the project's default profile explicitly (``--profile profiles/default``)
and starts in its own working directory, so the figures do not depend on the folder the
benchmark is started from (Snakemake would otherwise pick up ``profiles/default`` only when
started from the repository). Prints `name: value` lines, the mode first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
PROFILE = REPO / "profiles" / "default"
JOB_START = re.compile(r"^(?:local)?rule (\S+):$")


def benchmark_rules(directory: Path) -> dict[str, str]:
    """Benchmark file -> rule.

    From the job listings in the run's Snakemake logs, and, for runs logged with
    ``--quiet rules``, from Snakemake's per-output metadata (rule and log files; this project
    keeps a job's benchmark beside its log as X.benchmark.tsv for X.log).
    """
    rules: dict[str, str] = {}
    for path in (directory / ".snakemake" / "metadata").glob("*"):
        with contextlib.suppress(ValueError, OSError):
            record = json.loads(path.read_text())
            for log in record.get("log") or []:
                rules[re.sub(r"\.log$", ".benchmark.tsv", log)] = record["rule"]
    for log in sorted((directory / ".snakemake" / "log").glob("*.snakemake.log")):
        rule = None
        for line in log.read_text(errors="replace").splitlines():
            start = JOB_START.match(line)
            if start:
                rule = start.group(1)
            elif rule and line.strip().startswith("benchmark: "):
                rules[line.strip().removeprefix("benchmark: ")] = rule
            elif not line.startswith("    "):
                rule = None
    return rules


def job_table(directory: Path) -> pd.DataFrame:
    """One row per job: its rule, benchmark file, wall seconds, max_rss (MB), CPU seconds."""
    rules = benchmark_rules(directory)
    rows = []
    for path in sorted((directory / "logs").rglob("*.benchmark.tsv")):
        name = str(path.relative_to(directory))
        table = pd.read_csv(path, sep="\t")
        rows.append({
            "rule": rules.get(name, path.name.removesuffix(".benchmark.tsv")),
            "benchmark": name,
            "s": float(table["s"].max()),
            "max_rss": float(pd.to_numeric(table["max_rss"], errors="coerce").max()),
            "cpu_time": float(pd.to_numeric(table["cpu_time"], errors="coerce").max()),
        })
    return pd.DataFrame(rows, columns=["rule", "benchmark", "s", "max_rss", "cpu_time"])


class TreeSampler(threading.Thread):
    """Sample the summed resident memory of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root, self.interval, self.peak_mb = psutil.Process(pid), interval, 0.0
        self.finished = threading.Event()

    def run(self) -> None:
        while not self.finished.is_set():
            total = 0
            try:
                for process in (self.root, *self.root.children(recursive=True)):
                    with contextlib.suppress(psutil.Error):
                        total += process.memory_info().rss
            except psutil.Error:
                break
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self.finished.wait(self.interval)


def run_workflow(directory: Path, configfile: Path, cores: int, extra_config: list[str]) -> dict[str, float]:
    command = [SNAKEMAKE, "--snakefile", str(REPO / "workflow" / "Snakefile"), "--profile", str(PROFILE),
               "--directory", str(directory), "--configfile", str(configfile), "--cores", str(cores)]
    if extra_config:
        command += ["--config", *extra_config]
    started = time.perf_counter()
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=directory)
    sampler = TreeSampler(process.pid)
    sampler.start()
    output, _ = process.communicate()
    sampler.finished.set()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        print(output[-5000:], file=sys.stderr)
        raise SystemExit(f"the workflow failed (exit {process.returncode}) in {directory}")
    # ru_maxrss is in kilobytes on Linux: the largest single descendant process waited for.
    largest_process_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall_seconds": wall, "peak_process_rss_mb": largest_process_mb,
            "peak_concurrent_rss_mb": sampler.peak_mb}


def suggestions(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per rule: the largest job's memory and time, and resources sized from them."""
    per_rule = jobs.groupby("rule").agg(jobs=("s", "size"), total_s=("s", "sum"), max_s=("s", "max"),
                                        max_rss=("max_rss", "max"), cpu_time=("cpu_time", "sum"))
    per_rule["mem_mb"] = [max(500, 100 * math.ceil(1.5 * rss / 100)) for rss in per_rule["max_rss"]]
    per_rule["runtime"] = [max(5, math.ceil(2 * s / 60)) for s in per_rule["max_s"]]
    return per_rule.sort_values("total_s", ascending=False)


def report(name: str, directory: Path, measured: dict[str, float] | None) -> None:
    jobs = job_table(directory)
    if jobs.empty:
        raise SystemExit(f"no benchmark files under {directory / 'logs'}")
    print(f"{name}_jobs: {len(jobs)}")
    if measured:
        for key, value in measured.items():
            print(f"{name}_{key}: {value:.1f}")
    print(f"{name}_job_seconds_total: {jobs['s'].sum():.1f}")
    largest = jobs.loc[jobs["max_rss"].idxmax()]
    print(f"{name}_peak_job_max_rss_mb: {largest['max_rss']:.1f} ({largest['benchmark']})")
    per_rule = suggestions(jobs)
    for rank, (rule, row) in enumerate(per_rule.head(5).iterrows(), start=1):
        print(f"{name}_slowest_rule_{rank}: {rule} {row['total_s']:.1f} s over {row['jobs']:.0f} jobs "
              f"(slowest job {row['max_s']:.1f} s, max_rss {row['max_rss']:.0f} MB)")
    for rule, row in per_rule.sort_index().iterrows():
        print(f"{name}_suggested_resources_{rule}: mem_mb={row['mem_mb']:.0f}, runtime={row['runtime']:.0f}"
              f" (max_rss {row['max_rss']:.0f} MB, slowest {row['max_s']:.1f} s,"
              f" cpu/wall {row['cpu_time'] / max(row['total_s'], 1e-9):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run config/quick.yaml from scratch")
    parser.add_argument("--full", action="store_true", help="run config/config.yaml from scratch")
    parser.add_argument("--from-logs", type=Path, help="only summarise the finished run in this directory")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--directory", type=Path, help="working directory (must not hold a run)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary working directory")
    parser.add_argument("--config", nargs="*", default=[], help="extra Snakemake config items")
    args = parser.parse_args()
    if args.from_logs:
        report("run", args.from_logs, None)
        return
    chosen = [(name, REPO / "config" / file) for name, file, wanted in
              (("quick", "quick.yaml", args.quick), ("full", "config.yaml", args.full)) if wanted]
    if not chosen:
        parser.error("choose --quick, --full or --from-logs")
    print(f"mode: {', '.join(name for name, _ in chosen)} ({args.cores} cores, profile {PROFILE.name}"
          f"{', --config ' + ' '.join(args.config) if args.config else ''})")
    print(f"cores: {args.cores}")
    for name, configfile in chosen:
        directory = (args.directory / name if args.directory
                     else Path(tempfile.mkdtemp(prefix=f"bench-{name}-")))
        if (directory / "results").exists():
            raise SystemExit(f"{directory} already holds a run; give an empty --directory")
        try:
            measured = run_workflow(directory, configfile, args.cores, args.config)
            report(name, directory, measured)
        finally:
            if args.directory is None and not args.keep:
                shutil.rmtree(directory, ignore_errors=True)
            elif args.keep:
                print(f"{name}_directory: {directory}")


if __name__ == "__main__":
    main()
