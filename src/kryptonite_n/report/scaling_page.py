"""The numbers the "Where learners break" page quotes, all computed from results/scaling.csv."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from kryptonite_n.models import specs
from kryptonite_n.report.tables import model_label
from kryptonite_n.scaling import (
    binary_entropy,
    cell_summary,
    cost_slopes,
    factor_label,
    parity_rows_floor,
    read_scaling,
    reference_factor,
    rows_needed,
)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if (v is None or (isinstance(v, float) and math.isnan(v))) else v)
             for k, v in row.items()} for row in frame.to_dict("records")]


def break_points(cells: pd.DataFrame, factor: float) -> list[dict]:
    """Per model, at one rows multiple: the smallest fitted n whose mean falls below its goal,
    the largest n below it that reaches it, and the first n not fitted at all."""
    out = []
    for model, group in cells[cells["rows_factor"] == factor].groupby("model", sort=False):
        group = group.sort_values("n")
        fitted = group[group["repeats"] > 0]
        below = fitted[fitted["reached"].eq(False)]
        first_below = below.iloc[0] if len(below) else None
        reached = fitted[fitted["reached"].eq(True)]
        if first_below is not None:
            reached = reached[reached["n"] < first_below["n"]]
        unfitted = group[group["repeats"] == 0]
        out.append({
            "model": model, "label": model_label(model),
            "last_reached": _records(reached.tail(1))[0] if len(reached) else None,
            "first_below": _records(first_below.to_frame().T)[0] if first_below is not None else None,
            "first_unfitted": int(unfitted["n"].iloc[0]) if len(unfitted) else None,
            "largest_fitted": int(fitted["n"].max()) if len(fitted) else None,
        })
    return out


def scaling_context(inputs: Mapping[str, Sequence[str]], config: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the page says; ``produced`` is False when the stage was not part of the run."""
    paths = inputs.get("scaling", [])
    if not paths:
        return {"produced": False}
    table = read_scaling(paths)
    cells = cell_summary(table)
    fitted = table[table["test_acc"].notna()]
    factor = reference_factor(cells)
    needed = rows_needed(table)
    floors = []
    for n, p in sorted({(int(n), float(1 - b)) for n, b in zip(table["n"], table["bayes_acc"], strict=True)}):
        floors.append({"n": n, "flip_rate": p, "capacity": 1 - binary_entropy(p),
                       "floor": parity_rows_floor(n, p)})
    # The learned parity rule (GF(2)): the learner the information-theoretic floor is drawn for.
    learned_rules = [s.name for s in specs() if s.decision == "threshold" and s.learns_from_labels]
    gf2 = needed[needed["model"].isin(learned_rules)].merge(pd.DataFrame(floors), on="n", how="left")
    gf2_notes = table[table["model"].isin(learned_rules) & table["note"].notna()]
    slopes = pd.concat([cost_slopes(table, "fit_seconds", factor), cost_slopes(table, "peak_rss_mb", factor)],
                       ignore_index=True)
    slopes["label"] = slopes["model"].map(model_label) if len(slopes) else []
    basis = table[table["basis_size"].notna()].drop_duplicates(["model", "n"]).sort_values("n")
    basis_fitted = set(zip(fitted["model"], fitted["n"], strict=True))
    basis_rows = [{"model": r.model, "label": model_label(r.model), "n": int(r.n),
                   "basis_size": int(r.basis_size), "fitted": (r.model, r.n) in basis_fitted,
                   "note": None if pd.isna(r.note) else str(r.note)}
                  for r in basis.itertuples()]
    largest_basis = max((r for r in basis_rows if r["fitted"]), key=lambda r: r["n"], default=None)
    first_unfitted_basis = min((r for r in basis_rows if not r["fitted"]), key=lambda r: r["n"], default=None)
    models = list(dict.fromkeys(table["model"]))
    per_model_cells = {m: int((fitted["model"] == m).sum()) for m in models}
    return {
        "produced": True,
        "dimensions": sorted({int(n) for n in table["n"]}),
        "factors": [factor_label(f) for f in sorted({float(f) for f in table["rows_factor"]})],
        "repeats": int(table["repeat"].max()) + 1 if len(table) else 0,
        "test_rows": int(table["test_rows"].max()),
        "models": [{"model": m, "label": model_label(m), "fitted_cells": per_model_cells[m],
                    "noted_cells": int(((table["model"] == m) & table["test_acc"].isna()).sum())}
                   for m in models],
        "fitted_cells": len(fitted),
        "noted_cells": int(table["test_acc"].isna().sum()),
        "failed_cells": int((table["test_acc"].isna()
                             & table["note"].fillna("").str.startswith("fit failed")).sum()),
        "factor": factor,
        "factor_label": factor_label(factor),
        "breaks": break_points(cells, factor),
        "needed": _records(needed.assign(label=needed["model"].map(model_label)))
        if len(needed) else [],
        "floors": floors,
        "gf2": _records(gf2),
        "gf2_notes": _records(gf2_notes[["n", "train_rows", "repeat", "note"]]),
        "slopes": _records(slopes),
        "basis": basis_rows,
        "largest_basis": largest_basis,
        "first_unfitted_basis": first_unfitted_basis,
        "max_monomials": next((config.get("models", {}).get(s.name, {}).get("max_monomials")
                               for s in specs() if s.basis_size), None),
        "total_fit_seconds": float(fitted["fit_seconds"].sum()),
        # Settings this stage changes from the study's, so the page says which models differ.
        "overrides": [{"label": model_label(m),
                       "settings": ", ".join(f"{k} = {v}" for k, v in sorted(section["settings"].items()))}
                      for m, section in config.get("scaling", {}).get("models", {}).items()
                      if m in models and section.get("settings")],
    }
