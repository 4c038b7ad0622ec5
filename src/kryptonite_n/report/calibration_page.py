"""The Calibration and ensembles page: the numbers its prose and tables quote.

Reads ``results/calibration.csv`` and ``reliability.csv`` (``tables.calibration``),
``results/ensembles.csv`` (``tables.ensembles``), the fitted models' summary (which models
output a label only) and the truth files (the Bayes limit the ensembles are held against).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from kryptonite_n.plan.models import spec
from kryptonite_n.tables import results as tables
from kryptonite_n.tables.calibration import BINS, CALIBRATION_COLUMNS
from kryptonite_n.tables.ensembles import ENSEMBLE_COLUMNS
from kryptonite_n.tables.results import model_label

#: An ensemble "helps" where its full-size gain over its members is at least this (half a point),
#: and its members are "at the limit" where they are this close to the Bayes accuracy.
GAIN_SHOWN = 0.005


def _float(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def calibration_context(inputs: Mapping[str, list[str]]) -> dict[str, Any]:
    calibration = tables.read_tables(inputs.get("calibration", []), CALIBRATION_COLUMNS)
    ensembles = tables.read_tables(inputs.get("ensembles", []), ENSEMBLE_COLUMNS)
    summary = tables.read_tables(inputs.get("summary", []), ["model", "n", "repeats"])
    fitted = summary[pd.to_numeric(summary["repeats"], errors="coerce") > 0]
    label_only = [model_label(m) for m in dict.fromkeys(fitted["model"])
                  if m in tables.MODEL_LABELS and not spec(m).probabilities]
    context: dict[str, Any] = {"produced": not calibration.empty, "bins": BINS, "label_only": label_only,
                               "ensembles_produced": not ensembles.empty}
    if not calibration.empty:
        dimensions = sorted(int(n) for n in calibration["n"].unique())
        rows = []
        for model, group in calibration.groupby("model", sort=False):
            cells = {int(r.n): {"uniform": float(r.ece_uniform), "equal_mass": float(r.ece_equal_mass)}
                     for r in group.itertuples()}
            rows.append({"model": model, "label": model_label(model), "cells": cells})
        context |= {"dimensions": dimensions, "ece": rows,
                    "scores": [{**r, "label": model_label(r["model"]), "n": int(r["n"])}
                               for r in calibration.to_dict("records")]}
    if not ensembles.empty:
        limits = tables.bayes_limits(tables.read_truths(inputs.get("truth", []))).set_index("n")["bayes"]
        full = ensembles.loc[ensembles.groupby(["model", "n"], sort=False)["members"].idxmax()]
        rows = []
        for r in full.to_dict("records"):
            bayes = _float(limits.get(int(r["n"])))
            rows.append({**{k: _float(v) if k not in ("model", "n", "members", "rows", "windows") else v
                            for k, v in r.items()},
                         "label": model_label(r["model"]), "n": int(r["n"]), "members": int(r["members"]),
                         "bayes": bayes,
                         "at_limit": bayes is not None and bayes - float(r["member_acc"]) < GAIN_SHOWN})
        context |= {
            "ensemble_rows": rows, "hidden_rows": sorted({int(r["rows"]) for r in rows}),
            "members": max(r["members"] for r in rows),
            "helps": [r for r in rows if r["gain"] >= GAIN_SHOWN],
            "at_limit": [r for r in rows if r["at_limit"]],
            "gain_shown": GAIN_SHOWN,
        }
        at_limit = context["at_limit"]
        groups: dict[str, list[int]] = {}
        for r in at_limit:
            groups.setdefault(r["label"], []).append(r["n"])
        context |= {"at_limit_groups": [{"label": k, "dimensions": v} for k, v in groups.items()],
                    "at_limit_gain": (min((r["gain"] for r in at_limit), default=None),
                                      max((r["gain"] for r in at_limit), default=None))}
    return context
