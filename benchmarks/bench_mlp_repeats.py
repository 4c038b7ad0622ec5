"""Training the MLP's repeats together versus one after another, on the same number of threads.

Headline (like with like): the repeats stacked into one network and trained together on one
thread, against the same repeats trained one at a time on one thread: the same work (the
same epochs, batches and weights: ``max_weight_difference`` checks it), the same CPU.

Apart: what the workflow's fits do with two threads, two stacks in two forked processes side
by side (``together_2process_s``), and its gain over one process. That figure adds a core,
so it is not part of the together-versus-one-by-one comparison.

Each figure is the median over ``--rounds`` rounds, with the spread (min to max); the machine's
load average is printed because other processes slow every figure. The working directory is
a fresh temporary folder (the benchmark writes nothing; no file of the caller's folder is read).

Modes: ``--full`` (the default): ten repeats of n = 12, full-size generated data, the paper's
n = 12 settings, 100 epochs with patience above that so no repeat stops early. ``--small``:
four repeats of n = 9 on 500 rows per feature for 20 epochs, to check the benchmark works.
Prints ``name: value`` lines.

    .venv/bin/python benchmarks/bench_mlp_repeats.py [--small] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from kryptonite_n.compute.data import SPLIT_CODES, GeneratorSettings, generate, make_split
from kryptonite_n.compute.models import mlp
from kryptonite_n.contract import FitTask, Split

SEED = 2024
MODES = {
    "full": {"n": 12, "repeats": 10, "epochs": 100, "rows_per_feature": 2000},
    "small": {"n": 9, "repeats": 4, "epochs": 20, "rows_per_feature": 500},
}
SETTINGS = {"optimizer": "sgd", "activation": "elu", "lr": 0.1, "dropout": 0.01, "batch_size": 256}


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the stacks' worker processes)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(work: Callable[[], object]) -> tuple[object, float, float]:
    """The result of ``work``, its wall seconds and its CPU seconds (children included)."""
    started, cpu = time.perf_counter(), cpu_seconds()
    result = work()
    return result, time.perf_counter() - started, cpu_seconds() - cpu


def spread(values: list[float]) -> str:
    """Median, then min to max: the figure and how much it moved between rounds."""
    return f"{statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="n = 12, ten repeats, 100 epochs (default)")
    size.add_argument("--small", action="store_true", help="n = 9, four repeats, 20 epochs on small data")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement (medians)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    mode = "small" if args.small else "full"
    n, repeats, epochs, rows = (MODES[mode][key] for key in ("n", "repeats", "epochs", "rows_per_feature"))
    os.chdir(tempfile.mkdtemp(prefix="bench-mlp-repeats-"))

    dataset = generate(n, SEED, GeneratorSettings(rows_per_feature=rows, hidden_rows=10))
    splits = []
    for repeat in range(repeats):
        roles = make_split(len(dataset.y), {"train": 0.6, "validation": 0.2, "test": 0.2}, SEED, n, repeat)
        splits.append(Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
    settings = {**SETTINGS, "max_epochs": epochs, "patience": epochs + 1}
    task = FitTask(n=n, X=dataset.X, y=dataset.y, splits=splits, repeats=list(range(repeats)),
                   settings=settings, seed=SEED, threads=1)

    def one_by_one() -> list:
        return [mlp.fit(dataclasses.replace(task, splits=[split], repeats=[repeat]))[0]
                for repeat, split in enumerate(splits)]

    # Untimed warm-up: the first fit imports the training code and warms torch; no round pays for it.
    mlp.fit(dataclasses.replace(task, splits=splits[:1], repeats=[0],
                                settings={**settings, "max_epochs": 1, "patience": 2}))

    figures: dict[str, list[float]] = {name: [] for name in (
        "together_1thread_s", "one_by_one_1thread_s", "together_2process_s",
        "together_1thread_cpu_s", "one_by_one_1thread_cpu_s", "together_2process_cpu_s")}
    load_before = os.getloadavg()[0]
    for round_ in range(args.rounds):
        # Alternate the order, so that a machine that drifts favours neither side.
        order = ["together", "one_by_one"] if round_ % 2 == 0 else ["one_by_one", "together"]
        for which in order:
            if which == "together":
                together, wall, cpu = timed(lambda: mlp.fit(task))
                figures["together_1thread_s"].append(wall)
                figures["together_1thread_cpu_s"].append(cpu)
            else:
                sequential, wall, cpu = timed(one_by_one)
                figures["one_by_one_1thread_s"].append(wall)
                figures["one_by_one_1thread_cpu_s"].append(cpu)
        _, wall, cpu = timed(lambda: mlp.fit(dataclasses.replace(task, threads=2)))
        figures["together_2process_s"].append(wall)
        figures["together_2process_cpu_s"].append(cpu)

    difference = max(float(np.abs(a.W1 - b.W1).max()) for a, b in zip(together, sequential, strict=True))
    accuracy = np.mean([np.mean(p.predict(dataset.X[s.test]) == dataset.y[s.test])
                        for p, s in zip(together, splits, strict=True)])
    speedups = [b / a for a, b in zip(figures["together_1thread_s"], figures["one_by_one_1thread_s"],
                                      strict=True)]
    gains = [a / b for a, b in zip(figures["together_1thread_s"], figures["together_2process_s"],
                                   strict=True)]
    lines = {
        "mode": f"{mode} (n={n}, repeats={repeats}, epochs={epochs}, rows={len(dataset.y)}, "
                f"rounds={args.rounds})",
        "headline_same_threads": "together vs one by one, both on 1 thread in 1 process",
        **{name: spread(values) for name, values in figures.items()
           if name.startswith(("together_1", "one_"))},
        "speedup_together_vs_one_by_one_1thread": spread(speedups),
        "together_epoch_ms_1thread":
            f"{1000 * statistics.median(figures['together_1thread_s']) / epochs:.1f}",
        "apart_two_processes": "together on 2 threads: two stacks in two forked processes (one more core)",
        "together_2process_s": spread(figures["together_2process_s"]),
        "together_2process_cpu_s": spread(figures["together_2process_cpu_s"]),
        "gain_2process_vs_1thread": spread(gains),
        "max_weight_difference": f"{difference:.3g}",
        "mean_test_acc": f"{accuracy:.4f}",
        # other processes on the machine slow every figure above; this says how busy it was
        "load_average_before": f"{load_before:.2f}",
        "load_average_after": f"{os.getloadavg()[0]:.2f}",
    }
    for name, value in lines.items():
        print(f"{name}: {value}", file=sys.stdout)


if __name__ == "__main__":
    main()
