"""Training the MLP's repeats together versus one after another (the same code, one repeat at a time).

Ten repeats of n = 12 (full-size generated data, the paper's n = 12 settings) for 100 epochs,
patience above that so no repeat stops early, on 2 threads (together: two stacks of five in two processes
side by side; one after another: one repeat at a time, which a second thread cannot speed
up). Also times the ten together on one thread. Prints ``name: value`` lines.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time

import numpy as np

from kryptonite_n.data import SPLIT_CODES, Split, generate, make_split
from kryptonite_n.models import FitTask, mlp

N, SEED, REPEATS, EPOCHS, THREADS = 12, 2024, 10, 100, 2
SETTINGS = {"optimizer": "sgd", "activation": "elu", "lr": 0.1, "dropout": 0.01, "batch_size": 256,
            "max_epochs": EPOCHS, "patience": EPOCHS + 1}


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the stacks' worker processes)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    dataset = generate(N, SEED)
    splits = []
    for repeat in range(REPEATS):
        roles = make_split(len(dataset.y), {"train": 0.6, "validation": 0.2, "test": 0.2}, SEED, N, repeat)
        splits.append(Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
    task = FitTask(n=N, X=dataset.X, y=dataset.y, splits=splits, repeats=list(range(REPEATS)),
                   settings=SETTINGS, seed=SEED, threads=THREADS)

    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), cpu_seconds()
    together = mlp.fit(task)
    together_s, together_cpu_s = time.perf_counter() - started, cpu_seconds() - cpu

    started = time.perf_counter()
    mlp.fit(dataclasses.replace(task, threads=1))
    together_1thread_s = time.perf_counter() - started

    started, cpu = time.perf_counter(), cpu_seconds()
    sequential = [mlp.fit(dataclasses.replace(task, splits=[split], repeats=[repeat]))[0]
                  for repeat, split in enumerate(splits)]
    sequential_s, sequential_cpu_s = time.perf_counter() - started, cpu_seconds() - cpu

    difference = max(float(np.abs(a.W1 - b.W1).max()) for a, b in zip(together, sequential, strict=True))
    accuracy = np.mean([np.mean(p.predict(dataset.X[s.test]) == dataset.y[s.test])
                        for p, s in zip(together, splits, strict=True)])
    print(f"repeats: {REPEATS}", f"epochs: {EPOCHS}", f"threads: {THREADS}",
          f"together_s: {together_s:.2f}", f"sequential_s: {sequential_s:.2f}",
          f"speedup: {sequential_s / together_s:.2f}", f"together_1thread_s: {together_1thread_s:.2f}",
          f"speedup_1thread: {sequential_s / together_1thread_s:.2f}",
          f"together_epoch_ms: {1000 * together_s / EPOCHS:.1f}",
          f"together_cpu_s: {together_cpu_s:.2f}", f"sequential_cpu_s: {sequential_cpu_s:.2f}",
          f"max_weight_difference: {difference:.3g}", f"mean_test_acc: {accuracy:.4f}",
          # other processes on the machine slow every figure above; this says how busy it was
          f"load_average_before: {load_before:.2f}", f"load_average_after: {os.getloadavg()[0]:.2f}",
          sep="\n", file=sys.stdout)


if __name__ == "__main__":
    main()
