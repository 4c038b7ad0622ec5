"""What carbon accounting adds to the wall time of a whole workflow run.

Runs the workflow from scratch in fresh temporary directories with carbon accounting on and
off (``--config carbon={enabled: ...}``) and prints ``name: value`` lines:
``quick_on_s``, ``quick_off_s``, ``quick_overhead_pct`` (and ``full_*`` with ``--full``, which
also runs config/config.yaml: that takes long). Each round runs the pair once, the order
alternating from round to round (``--first`` says which goes first in round one) so that a
machine that drifts does not favour one side. At least 5 rounds (``--rounds``, default 5):
the overhead is the median of the rounds' own on/off ratios, printed with its spread (min to
max over the rounds), beside the medians and spreads of the on and off times; every run's
time is printed too (``{name}_runs``). A shared machine can drift by more than the accounting
costs; ``--side-by-side`` then runs the two at the same time on half the cores each, so that
both see the same machine. Extra ``--config KEY=VALUE`` items are passed on to Snakemake (for
example to disable a model): they join the carbon item in one ``--config`` list.

Every run has its own working directory and is given the project's default profile
explicitly (``--profile profiles/default``), so the figures do not depend on the folder the
benchmark is started from. ``--small`` runs only the data jobs and two fast model fits of
the quick config on n = 9 (``SMALL_TARGETS``): to check that the benchmark works, not to
quote as the study's overhead. ``--targets`` limits any run to some result files.

    .venv/bin/python benchmarks/bench_carbon_overhead.py [--small | --full | --configs quick full]
        [--rounds 5] [--first off] [--side-by-side] [--config ...] [--targets ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
CONFIGS = {"quick": REPO / "config" / "quick.yaml", "full": REPO / "config" / "config.yaml"}
PROFILE = REPO / "profiles" / "default"
#: Fewer on/off pairs than this give no spread worth printing.
MIN_ROUNDS = 5
SMALL = ["dimensions=[9]"]
SMALL_TARGETS = ["results/data/n9/features.csv", "results/models/xor_oracle/n9/metrics.csv",
                 "results/models/parity_gf2/n9/metrics.csv"]


def warm_up() -> None:
    """Load the heavy libraries once, untimed, so that neither run pays for a cold disk cache."""
    subprocess.run([sys.executable, "-c", "import torch, pandas, sklearn, codecarbon, snakemake"],
                   check=True)


class Run:
    """One workflow run from scratch, in a fresh temporary directory, started at once."""

    def __init__(self, configfile: Path, enabled: bool, extra_config: list[str], cores: int,
                 targets: list[str]):
        self.enabled = enabled
        self.directory = Path(tempfile.mkdtemp(prefix=f"bench-carbon-{'on' if enabled else 'off'}-"))
        command = [
            SNAKEMAKE, "--snakefile", str(REPO / "workflow" / "Snakefile"), "--profile", str(PROFILE),
            "--directory", str(self.directory), "--configfile", str(configfile), "--cores", str(cores),
            "--config", f"carbon={{enabled: {str(enabled).lower()}}}", *extra_config,
        ]
        if targets:
            command += ["--", *targets]
        # Snakemake's log goes to a file: a pipe nobody reads while the other run is awaited
        # fills up and stalls the run writing to it.
        self.log = self.directory / "snakemake.log"
        self.start = time.perf_counter()
        # From inside the run directory, so that no profile of the caller's directory is picked up.
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.directory)

    def wait(self, keep: bool) -> tuple[float, pd.DataFrame | None]:
        """Wall seconds of the run, and its carbon table when accounting was on."""
        self.process.wait()
        seconds = time.perf_counter() - self.start
        if self.process.returncode != 0:
            sys.exit(f"workflow failed in {self.directory}:\n{self.log.read_text()[-3000:]}")
        table = None
        if self.enabled:
            # Only the whole study aggregates its jobs' tables; a run of some targets has these.
            files = [self.directory / "results" / "carbon.csv"]
            if not files[0].exists():
                files = sorted((self.directory / "results" / "carbon").rglob("*.csv"))
            table = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
        if not keep:
            shutil.rmtree(self.directory)
        return seconds, table


def spread(values: list[float], form: str) -> str:
    """Median, then min to max over the rounds."""
    return (f"{format(statistics.median(values), form)} (min {format(min(values), form)}, "
            f"max {format(max(values), form)}, {len(values)} rounds)")


def bench(name: str, rounds: int, first_on: bool, side_by_side: bool, extra_config: list[str],
          cores: int, keep: bool, targets: list[str]) -> None:
    times: dict[bool, list[float]] = {True: [], False: []}
    runs, table = [], None
    for round_ in range(rounds):
        on_first = first_on == (round_ % 2 == 0)
        order = (on_first, not on_first)
        if side_by_side:
            started = [Run(CONFIGS[name], enabled, extra_config, max(1, cores // 2), targets)
                       for enabled in order]
            results = [run.wait(keep) for run in started]
        else:
            results = [Run(CONFIGS[name], enabled, extra_config, cores, targets).wait(keep)
                       for enabled in order]
        for enabled, (seconds, carbon_table) in zip(order, results, strict=True):
            times[enabled].append(seconds)
            runs.append(f"{'on' if enabled else 'off'} {seconds:.1f}")
            table = carbon_table if enabled else table
    overheads = [100 * (on - off) / off for on, off in zip(times[True], times[False], strict=True)]
    print(f"{name}_runs: {', '.join(runs)}")
    print(f"{name}_on_s: {spread(times[True], '.1f')}")
    print(f"{name}_off_s: {spread(times[False], '.1f')}")
    print(f"{name}_overhead_pct: {spread(overheads, '.1f')} (per round: "
          f"{', '.join(f'{value:.1f}' for value in overheads)})")
    if table is not None:
        print(f"{name}_carbon_rows: {len(table)}")
        print(f"{name}_carbon_unmeasured_rows: {int((table['measurement'] == 'unavailable').sum())}")
        # Estimates, not measurements (carbon.py): CodeCarbon's as read, and as charged when the
        # whole study aggregated them (each watt at most once among parallel jobs).
        print(f"{name}_energy_kwh_as_read: {table['energy_kwh'].sum():.2g}")
        print(f"{name}_emissions_kg_as_read: {table['emissions_kg'].sum():.2g}")
        if "attributed_energy_kwh" in table:
            print(f"{name}_energy_kwh_charged: {table['attributed_energy_kwh'].sum():.2g} "
                  f"(CPU {table['attributed_cpu_energy_kwh'].sum():.2g}, "
                  f"RAM {table['attributed_ram_energy_kwh'].sum():.2g})")
            print(f"{name}_emissions_kg_charged: {table['attributed_emissions_kg'].sum():.2g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also benchmark config/config.yaml (long)")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS),
                        help="the configs to benchmark (default: quick, and full with --full)")
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS,
                        help=f"off/on pairs per config (medians; at least {MIN_ROUNDS})")
    parser.add_argument("--small", action="store_true",
                        help="data jobs and two fast fits of the quick config on n = 9")
    parser.add_argument("--first", choices=["off", "on"], default="off",
                        help="which run of the pair goes first in round one")
    parser.add_argument("--side-by-side", action="store_true",
                        help="run on and off at the same time, half the cores each")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the run directories")
    parser.add_argument("--config", nargs="*", default=[], help="extra Snakemake config items")
    parser.add_argument("--targets", nargs="*", default=[], help="result files to build (default: all)")
    args = parser.parse_args()
    if args.rounds < MIN_ROUNDS:
        parser.error(f"--rounds must be at least {MIN_ROUNDS}: fewer pairs give no spread to trust")
    if args.small and (args.full or args.configs):
        parser.error("--small runs the quick config only")
    extra = [*SMALL, *args.config] if args.small else args.config
    targets = args.targets or (SMALL_TARGETS if args.small else [])
    names = args.configs or (["quick", "full"] if args.full else ["quick"])
    print(f"mode: {'small' if args.small else ', '.join(names)} ({args.rounds} rounds, "
          f"{'side by side, ' if args.side_by_side else ''}{args.cores} cores"
          f"{', --config ' + ' '.join(extra) if extra else ''}"
          f"{', targets ' + ' '.join(targets) if targets else ''})")
    # Runs start in their own folders: nothing of the caller's folder is read or written.
    os.chdir(tempfile.gettempdir())
    warm_up()
    for name in names:
        bench(name, args.rounds, args.first == "on", args.side_by_side, extra, args.cores, args.keep,
              targets)


if __name__ == "__main__":
    main()
