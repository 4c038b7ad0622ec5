"""Benchmark the tuning stage: trials per minute, before and after, and what the pruner saves.

Three measurements on generated data of one n (default 15), one thread, CPU time of this
process as well as wall time (the machine is shared: CPU time is the steadier figure):

* ``--compare``: like for like, the same ``--trials`` trials (the search's own first draws,
  the paper's settings first), each on the search's ``splits`` splits for exactly ``--epochs``
  epochs (no early stop, no pruning), trained by the autograd trainer this stage used before
  (``nets/tuned.py`` of git revision ``--before``, one trial at a time) and by the one MLP
  trainer (``nets/training.py``, a batch of trials per stack as the search runs them);
* ``--search``: the configured search (``tuning`` of the schema's defaults or ``--config``),
  with its pruner, then the same search with ``pruner.kind: none``: trials per minute, the
  share pruned, epochs run and the CPU time the pruner saved;
* both print one JSON object.

    python benchmarks/bench_tuning.py --compare [--n 15] [--trials 8] [--epochs 30]
    python benchmarks/bench_tuning.py --search [--n 15] [--config config/config.yaml] [--trials 8]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from kryptonite_n.compute import tuning
from kryptonite_n.compute.data import GeneratorSettings, generate, write_dataset, write_splits
from kryptonite_n.plan.config import model_settings, prepare_config
from kryptonite_n.plan.paths import dataset_files
from kryptonite_n.plan.tuning import split_repeats

REPO = Path(__file__).resolve().parents[1]
SEED = 2024
FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_data(folder: Path, n: int, rows_per_feature: int, repeats: list[int]) -> list[Path]:
    files = dataset_files(folder, n, ("X", "y", "hidden_X", "hidden_y", "truth"))
    generator = GeneratorSettings(rows_per_feature=rows_per_feature, hidden_rows=10)
    write_dataset(generate(n, SEED, generator), files)
    splits = [folder / f"split{repeat}.npy" for repeat in repeats]
    write_splits(files["y"], n, FRACTIONS, SEED, repeats, splits)
    return splits


def old_trainer(revision: str, folder: Path):
    """The autograd trainer of ``revision`` (removed since), imported from git's copy."""
    source = subprocess.run(["git", "show", f"{revision}:src/kryptonite_n/compute/nets/tuned.py"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    path = folder / "old_tuned.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_tuned", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_tuned"] = module
    spec.loader.exec_module(module)
    return module


def asked_trials(settings: dict, n: int, paper: dict, count: int) -> list[dict]:
    """The search's first ``count`` trial settings (the paper's first), from an in-memory study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    search = tuning.search_key(settings)
    asked = tuning.ask_trials(study, search, SEED, n, 0, count, paper, alone=True)
    return [item[2] for item in asked]


def compare(args: argparse.Namespace, settings: dict, paper: dict) -> dict:
    import torch

    from kryptonite_n.compute.nets.training import PER_ROW, fit
    from kryptonite_n.contract import FitTask

    torch.set_num_threads(1)
    repeats = split_repeats(settings)
    fixed = {"max_epochs": args.epochs, "patience": args.epochs}
    trials = [s | fixed for s in asked_trials(settings, args.n, paper, args.trials)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        split_files = make_data(folder, args.n, args.rows_per_feature, repeats)
        rows = tuning.labelled_rows(dataset_files(folder, args.n, ("X", "y")), args.n, split_files)
        old = old_trainer(args.before, folder)
        parts = [(rows["X"][s.train], rows["y"][s.train], rows["X"][s.validation], rows["y"][s.validation])
                 for s in rows["splits"]]
        started, cpu = time.perf_counter(), cpu_seconds()
        for index, trial in enumerate(trials):  # before: one trial at a time, its splits stacked
            old.train_stack(parts, {k: v for k, v in trial.items() if k in old.DEFAULTS},
                            [[SEED, args.n, index, r] for r in repeats], label=f"before {index}")
        before = (time.perf_counter() - started, cpu_seconds() - cpu)
        groups: dict[tuple, list[dict]] = {}
        for trial in trials:
            groups.setdefault(tuning.shape_of(trial), []).append(trial)
        started, cpu = time.perf_counter(), cpu_seconds()
        for members in groups.values():  # after: the trials of one shape in one stack
            shared = {k: v for k, v in members[0].items() if k not in PER_ROW}
            task = FitTask(n=args.n, X=rows["X"], y=rows["y"], splits=list(rows["splits"]) * len(members),
                           repeats=repeats * len(members), settings=shared, seed=SEED)
            fit(task, [{k: t[k] for k in PER_ROW} for t in members for _ in repeats])
        after = (time.perf_counter() - started, cpu_seconds() - cpu)
    return {
        "mode": "compare", "n": args.n, "trials": len(trials), "epochs": args.epochs,
        "splits_per_trial": len(repeats), "stacks_after": len(groups),
        "before_wall_s": round(before[0], 1), "before_cpu_s": round(before[1], 1),
        "after_wall_s": round(after[0], 1), "after_cpu_s": round(after[1], 1),
        "trials_per_minute_before": round(len(trials) / before[0] * 60, 2),
        "trials_per_minute_after": round(len(trials) / after[0] * 60, 2),
        "trials_per_cpu_minute_before": round(len(trials) / before[1] * 60, 2),
        "trials_per_cpu_minute_after": round(len(trials) / after[1] * 60, 2),
        "cpu_speed_up": round(before[1] / after[1], 2),
        "cpu_s_per_trial_epoch_after": round(after[1] / len(trials) / args.epochs, 4),
    }


def run_search(settings: dict, n: int, paper: dict, folder: Path, split_files: list[Path]) -> dict:
    journal = folder / f"study-{settings['pruner']['kind']}.journal"
    started, cpu = time.perf_counter(), cpu_seconds()
    tuning.search("mlp", n, data_files=dataset_files(folder, n, ("X", "y")), split_files=split_files,
                  journal=journal, settings=settings, seed=SEED, paper=paper)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    rows = tuning.labelled_rows(dataset_files(folder, n, ("X", "y")), n, split_files)
    name = tuning.study_name("mlp", n, tuning.search_key(settings), SEED, rows, paper)
    table = tuning.trials_table(tuning.open_study(journal, name, tuning.search_key(settings)))
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "trials": len(table),
            "pruned": int((table["state"] == "PRUNED").sum()), "epochs_run": int(table["epochs"].sum()),
            "trials_per_minute": round(len(table) / wall * 60, 2),
            "best_validation_acc": float(np.nanmax(table["validation_acc"])),
            "paper_validation_acc": float(table.loc[table["origin"] == "paper", "validation_acc"].iloc[0]),
            "best_trial": int(table.loc[table["validation_acc"].idxmax(), "trial"]),
            "trial_epochs": table["epochs"].tolist(), "states": table["state"].tolist()}


def search(args: argparse.Namespace, settings: dict, paper: dict) -> dict:
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        split_files = make_data(folder, args.n, args.rows_per_feature, split_repeats(settings))
        pruned = run_search(settings, args.n, paper, folder, split_files)
        unpruned = (run_search(settings | {"pruner": {**settings["pruner"], "kind": "none"}}, args.n, paper,
                               folder, split_files) if not args.no_unpruned else None)
    figures = {"mode": "search", "n": args.n, "settings": {k: settings[k] for k in
               ("trials", "batch", "splits", "max_epochs", "patience", "pruner")}, "search": pruned}
    if unpruned:
        figures["unpruned"] = unpruned
        figures["pruner_cpu_saving"] = round(1 - pruned["cpu_s"] / unpruned["cpu_s"], 3)
        figures["pruner_epoch_saving"] = round(1 - pruned["epochs_run"] / unpruned["epochs_run"], 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--compare", action="store_true")
    mode.add_argument("--search", action="store_true")
    parser.add_argument("--n", type=int, default=15)
    parser.add_argument("--config", type=Path, default=None, help="a config file whose tuning section to use")
    parser.add_argument("--trials", type=int, default=None, help="default: the config's tuning.trials")
    parser.add_argument("--epochs", type=int, default=30, help="--compare: epochs of every trial")
    parser.add_argument("--max-epochs", type=int, default=None, help="--search: override tuning.max_epochs")
    # e8d0ce1: the last revision with the autograd trainer (nets/tuned.py) the stage used before.
    parser.add_argument("--before", default="e8d0ce1", help="--compare: the git revision of the old trainer")
    parser.add_argument("--rows-per-feature", type=int, default=2000)
    parser.add_argument("--no-unpruned", action="store_true", help="--search: skip the unpruned search")
    args = parser.parse_args()
    overrides = yaml.safe_load(args.config.read_text()) if args.config else {}
    tuning_overrides = dict(overrides.get("tuning", {}))
    if args.trials:
        tuning_overrides["trials"] = args.trials
    if args.max_epochs:
        tuning_overrides["max_epochs"] = args.max_epochs
    config = prepare_config({**overrides, "tuning": tuning_overrides})
    settings = config["tuning"]
    paper = model_settings(config, "mlp", args.n)
    if args.max_epochs:
        paper = paper | {"max_epochs": args.max_epochs, "patience": min(paper["patience"], args.max_epochs)}
    figures = compare(args, settings, paper) if args.compare else search(args, settings, paper)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
