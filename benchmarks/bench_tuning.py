"""Benchmark the tuning stage: trials per minute, the share pruned, and what pruning saves.

Two processes run side by side, so both see the same machine:

* the search: ``kryptonite_n.tuning.search`` with the configured pruner, as the workflow runs it;
* the replay: every trial of that search again, same settings and seed, without pruning. It
  reads each trial's settings from the search's journal as soon as the search has drawn them.

Prints trials per minute of the search, the share of its trials pruned, and the ratio of the
search's time to the replay's (wall and CPU), on generated data of one n (default 12, the
published size).

    python benchmarks/bench_tuning.py [--n 12] [--trials 8] [--rows-per-feature 2000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from kryptonite_n import tuning
from kryptonite_n.config import prepare_config
from kryptonite_n.data import GeneratorSettings, generate, write_dataset, write_splits
from kryptonite_n.paths import dataset_files

SEED = 2024
FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}


def run_search(folder: Path, n: int, settings: dict, queue: multiprocessing.Queue) -> None:
    import torch

    torch.set_num_threads(1)
    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
    tuning.search("mlp", n, data_files=dataset_files(folder, n, ("X", "y")), split_file=folder / "split0.npy",
                  journal=folder / "study.journal", settings=settings, seed=SEED)
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
    queue.put(("search", time.perf_counter() - started, cpu))


def replay(folder: Path, n: int, settings: dict, queue: multiprocessing.Queue) -> None:
    """Train every trial of the search without pruning, in order, as soon as it is drawn."""
    import torch

    from kryptonite_n.nets.tuned import train_stack

    torch.set_num_threads(1)
    rows = tuning.labelled_rows(dataset_files(folder, n, ("X", "y")), n, folder / "split0.npy")
    search = tuning.search_key(settings)
    name = tuning.study_name("mlp", n, search, SEED, rows)
    part = (rows["X_train"], rows["y_train"], rows["X_validation"], rows["y_validation"])
    started, cpu, epochs = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime, 0
    for index in range(int(settings["trials"])):
        while True:
            trial = None
            if (folder / "study.journal").exists():
                study = tuning.open_study(folder / "study.journal", name, search)
                trial = next((t for t in study.get_trials(deepcopy=False)
                              if t.user_attrs.get("index") == index and t.state.name != "FAIL"), None)
            if trial is not None:
                break
            time.sleep(0.2)
        chosen = tuning.best_settings(_as_row(trial, index), settings)["settings"]
        predictor = train_stack([part], chosen, [[SEED, n, index, 17]], label=f"replay {index}")[0]
        epochs += predictor.summary["epochs_trained"]
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - cpu
    queue.put(("replay", time.perf_counter() - started, cpu, epochs))


def _as_row(trial, index: int):
    import pandas as pd

    return pd.DataFrame([{"trial": index, "state": "COMPLETE", "validation_acc": 1.0,
                          **{f"param_{k}": v for k, v in trial.params.items()}}])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=12)
    parser.add_argument("--trials", type=int, default=None, help="default: the schema's tuning.trials")
    parser.add_argument("--rows-per-feature", type=int, default=2000)
    args = parser.parse_args()
    overrides = {"trials": args.trials} if args.trials else {}
    settings = prepare_config({"tuning": overrides})["tuning"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generator = GeneratorSettings(rows_per_feature=args.rows_per_feature, hidden_rows=10)
        files = dataset_files(folder, args.n, ("X", "y", "hidden_X", "hidden_y", "truth"))
        write_dataset(generate(args.n, SEED, generator), files)
        write_splits(files["y"], args.n, FRACTIONS, SEED, [0], [folder / "split0.npy"])
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        workers = [context.Process(target=target, args=(folder, args.n, settings, queue))
                   for target in (run_search, replay)]
        for worker in workers:
            worker.start()
        results = {item[0]: item[1:] for item in (queue.get() for _ in workers)}
        for worker in workers:
            worker.join()
        name = tuning.study_name("mlp", args.n, tuning.search_key(settings), SEED,
                                 tuning.labelled_rows(dataset_files(folder, args.n, ("X", "y")), args.n,
                                                      folder / "split0.npy"))
        study = tuning.open_study(folder / "study.journal", name, tuning.search_key(settings))
        table = tuning.trials_table(study)
    search_wall, search_cpu = results["search"]
    replay_wall, replay_cpu, replay_epochs = results["replay"]
    pruned = int((table["state"] == "PRUNED").sum())
    figures = {
        "n": args.n, "rows_per_feature": args.rows_per_feature, "trials": len(table),
        "max_epochs": settings["max_epochs"], "pruner": settings["pruner"]["kind"],
        "trials_per_minute": round(len(table) / search_wall * 60, 2),
        "share_pruned": round(pruned / len(table), 3),
        "epochs_pruned_search": int(table["epochs"].sum()), "epochs_unpruned": int(replay_epochs),
        "search_wall_s": round(search_wall, 1), "unpruned_wall_s": round(replay_wall, 1),
        "wall_ratio_pruned_over_unpruned": round(search_wall / replay_wall, 3),
        "cpu_ratio_pruned_over_unpruned": round(search_cpu / replay_cpu, 3),
        "best_validation_acc": float(np.nanmax(table["validation_acc"])),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
