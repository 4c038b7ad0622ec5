"""The Tuning page: what the Optuna search found, its figures and the numbers its prose quotes.

Reads ``results/tuning/{model}/n{n}/trials.csv`` and ``importances.csv`` (the tuning stage),
the fitted models' metrics tables (the tuned model against the paper-settings one) and the
truth files (the Bayes limit). Intervals are 95 % corrected resampled t intervals of the mean
over repeats, as the summary's (``stats``; the repeats re-split the same rows): they describe the
spread over splits and initialisations, not a population.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n import stats
from kryptonite_n.compute.trials import best_settings, pruning_saving
from kryptonite_n.plan.config import model_settings
from kryptonite_n.plan.tuning import tuned_name
from kryptonite_n.tables import results as tables
from kryptonite_n.tables.results import model_label

TRIAL_COLUMNS = ("trial", "state", "validation_acc", "epochs", "max_epochs")
IMPORTANCE_COLUMNS = ("param", "importance")
#: The settings compared in the page's table, in order.
SETTINGS_SHOWN = ("layers", "hidden_units", "activation", "optimizer", "lr", "batch_size", "dropout",
                  "weight_decay", "max_epochs", "patience")


def model_of(path: str | Path) -> str:
    """The searched model of ``results/tuning/{model}/n{n}/...``."""
    return Path(path).parent.parent.name


def read_trials(paths: Sequence[str | Path]) -> pd.DataFrame:
    frames = []
    for path in paths:
        frame = tables.read_table(path, TRIAL_COLUMNS)
        frame.insert(0, "n", tables.n_of(path))
        frame.insert(0, "model", model_of(path))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["model", "n", *TRIAL_COLUMNS])
    data = pd.concat(frames, ignore_index=True).sort_values(["model", "n", "trial"], ignore_index=True)
    if "origin" not in data:
        data["origin"] = "sampler"
    data["validation_acc"] = pd.to_numeric(data["validation_acc"], errors="coerce")
    data["best_so_far"] = data.groupby(["model", "n"])["validation_acc"].cummax()
    return data


def show(value: Any) -> str:
    """A setting as the table prints it: floats to three significant digits."""
    if value is None:
        return "—"
    if isinstance(value, float | np.floating):
        return "0" if value == 0 else f"{float(value):.3g}"
    return str(value)


def _metrics(paths: Sequence[str | Path]) -> pd.DataFrame:
    return tables.read_tables(paths, ["model", "n", "repeat", "test_acc", "majority_acc"])


def tuning_context(inputs: Mapping[str, list[str]], config: Mapping[str, Any]) -> dict[str, Any]:
    """Per searched (model, n): the search's outcome, the paper's and the tuned settings, the
    test accuracies with 95 % intervals, the Bayes limit and the gap to it."""
    trials = read_trials(inputs.get("trials", []))
    if trials.empty:
        return {"produced": False}
    tuning = config["tuning"]
    metrics = _metrics(inputs.get("metrics", []))
    limits = tables.bayes_limits(tables.read_truths(inputs.get("truth", []))).set_index("n")
    ratio = stats.resampling_ratio(config["split"])

    def interval(values: Sequence[float]) -> stats.MeanInterval:
        # Unbounded: the page also gives intervals of differences.
        return stats.mean_interval(values, test_over_train=ratio, bounds=None)

    rows = []
    for (model, n), group in trials.groupby(["model", "n"], sort=True):
        n = int(n)
        tuned = tuned_name(model)
        complete = group[group["state"] == "COMPLETE"]
        saving = pruning_saving(group)
        paper = {key: value for key, value in model_settings(config, model, n).items()
                 if key in SETTINGS_SHOWN}
        paper.setdefault("layers", 1)
        paper.setdefault("weight_decay", 0.0)
        best = best_settings(group, tuning) if len(complete) else None
        paper_trial = complete[complete["origin"] == "paper"]
        paper_acc = interval(metrics.loc[(metrics["model"] == model) & (metrics["n"] == n), "test_acc"])
        tuned_rows = metrics[(metrics["model"] == tuned) & (metrics["n"] == n)]
        tuned_acc = interval(tuned_rows["test_acc"])
        bayes = float(limits.loc[n, "bayes"]) if n in limits.index and not pd.isna(limits.loc[n, "bayes"]) \
            else None
        difference = None
        paired = metrics[metrics["n"] == n].pivot_table(index="repeat", columns="model", values="test_acc")
        if {model, tuned} <= set(paired.columns):
            difference = interval((paired[tuned] - paired[model]).dropna())
        # Chance: the majority-class rule on the same test rows, per repeat.
        over_chance = interval(tuned_rows["test_acc"] - tuned_rows["majority_acc"])
        rows.append({
            "model": model, "model_label": model_label(model), "tuned": tuned,
            "label": model_label(tuned), "n": n,
            "trials": len(group), "complete": len(complete), "pruned": saving["pruned"],
            "best_validation": float(complete["validation_acc"].max()) if len(complete) else None,
            "best_trial": best["trial"] if best else None,
            "best_is_paper": bool(best) and best["trial"] in set(paper_trial["trial"]),
            "paper_validation": float(paper_trial["validation_acc"].iloc[0]) if len(paper_trial) else None,
            "paper": {key: show(paper.get(key)) for key in SETTINGS_SHOWN},
            "tuned_settings": ({key: show(best["settings"].get(key)) for key in SETTINGS_SHOWN}
                               if best else None),
            "paper_acc": paper_acc, "tuned_acc": tuned_acc, "difference": difference, "bayes": bayes,
            "gap": bayes - tuned_acc.mean if bayes is not None and tuned_acc.mean is not None else None,
            "within_point": (bayes - tuned_acc.mean <= 0.01)
            if bayes is not None and tuned_acc.mean is not None else None,
            "chance_acc": interval(tuned_rows["majority_acc"]),
            "over_chance": over_chance,
            "beats_chance": (over_chance.low > 0) if over_chance.low is not None else None,
            "saving": saving,
            # Completed trials stopped by their epoch limit, not by early stopping: still
            # improving, so a longer budget is what they would need.
            "capped": [{"trial": int(t.trial), "validation": float(t.validation_acc), "epochs": int(t.epochs)}
                       for t in complete.itertuples() if int(t.epochs) >= int(t.max_epochs)],
        })
    epochs_run = sum(r["saving"]["epochs_run"] for r in rows)
    bound = sum(r["saving"]["epochs_unpruned_at_most"] for r in rows)
    return {
        "produced": True, "per_n": rows, "settings_shown": SETTINGS_SHOWN,
        "trials": int(tuning["trials"]), "workers": int(tuning["workers"]),
        "batch": int(tuning["batch"]), "splits": int(tuning["splits"]),
        "warm_start": bool(tuning["warm_start"]), "min_epochs": int(tuning["pruner"]["warmup_epochs"]),
        "max_epochs": int(tuning["max_epochs"]), "patience": int(tuning["patience"]),
        "pruner": tuning["pruner"]["kind"], "split_repeat": int(tuning["split_repeat"]),
        "epochs_run": epochs_run, "epochs_bound": bound,
        "saved_share": 1 - epochs_run / bound if bound else None,
        "repeats": config.get("repeats"),
        "bayes_sources": sorted({str(s) for s in limits["bayes_source"] if s}),
    }
