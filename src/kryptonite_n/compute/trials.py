"""A search's trials table (``trials.csv``): the best trial as the refit's settings, and what
the pruner saved. Read by the refit and by the report; it needs neither Optuna nor torch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kryptonite_n.io import DataError
from kryptonite_n.plan.tuning import CHOSEN, EPOCH_LIMITS, RANGED, SETTINGS


def best_settings(table: pd.DataFrame, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The completed trial with the highest validation accuracy (the earliest on a tie: the
    paper's trial 0 wins ties), as the refit's settings: those the trial trained with (its
    ``settings`` column, epoch limits included), else its parameters and the fixed ones of the
    space with the search's epoch limits."""
    complete = table[table["state"] == "COMPLETE"]
    if complete.empty:
        raise DataError("no trial of the search completed (all pruned or failed): nothing to refit")
    best = complete.sort_values(["validation_acc", "trial"], ascending=[False, True]).iloc[0]
    if "settings" in best and isinstance(best["settings"], str):
        chosen = {key: int(settings[key]) for key in EPOCH_LIMITS}
        chosen |= {key: value for key, value in json.loads(best["settings"]).items()
                   if key in (*SETTINGS, *EPOCH_LIMITS)}
        return {"settings": chosen, "trial": int(best["trial"]),
                "validation_acc": float(best["validation_acc"])}
    space = settings["space"]
    chosen: dict[str, Any] = {}
    for key in RANGED:
        column = f"param_{key}"
        chosen[key] = best[column] if column in best and not pd.isna(best[column]) else space[key]["low"]
    for key in CHOSEN:
        column = f"param_{key}"
        chosen[key] = best[column] if column in best and not pd.isna(best[column]) else space[key][0]
    chosen |= {"momentum": float(space["momentum"]), "max_epochs": int(settings["max_epochs"]),
               "patience": int(settings["patience"])}
    for key in ("hidden_units", "layers", "batch_size", "max_epochs", "patience"):
        chosen[key] = int(chosen[key])
    for key in ("lr", "weight_decay", "dropout", "momentum"):
        chosen[key] = float(chosen[key])
    chosen["activation"], chosen["optimizer"] = str(chosen["activation"]), str(chosen["optimizer"])
    return {"settings": chosen, "trial": int(best["trial"]), "validation_acc": float(best["validation_acc"])}


def read_best(trials_csv: Path | str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The refit settings from a search's trials.csv (``settings``: the config's tuning section)."""
    path = Path(trials_csv)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        return best_settings(pd.read_csv(path), settings)["settings"]
    except DataError as error:
        raise DataError(f"{path}: {error}") from None


def pruning_saving(table: pd.DataFrame) -> dict[str, float]:
    """Epochs the trials ran, against at most what they would have run unpruned (max_epochs each
    for the pruned ones: an upper bound, as early stopping might have ended them sooner)."""
    pruned = table["state"] == "PRUNED"
    run = float(table["epochs"].sum())
    bound = float(table.loc[~pruned, "epochs"].sum() + table.loc[pruned, "max_epochs"].sum())
    return {"trials": len(table), "pruned": int(pruned.sum()), "epochs_run": run,
            "epochs_unpruned_at_most": bound, "share_saved_at_most": 1 - run / bound if bound else math.nan}
