"""The numbers the "Where learners break" page quotes, all computed from results/scaling.csv."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from kryptonite_n.compute.scaling import STUDY_FIT
from kryptonite_n.plan.config import model_settings
from kryptonite_n.plan.models import specs
from kryptonite_n.tables.results import model_label
from kryptonite_n.tables.scaling import (
    binary_entropy,
    cost_slopes,
    factor_label,
    label_noise,
    parity_rows_floor,
    read_breaks,
    read_scaling,
    reference_factor,
    rows_needed,
    support_bits,
)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if (v is None or (isinstance(v, float) and math.isnan(v))) else v)
             for k, v in row.items()} for row in frame.to_dict("records")]


#: The n columns of results/scaling/breaks.csv (read back as floats when some are empty).
BREAK_N = ("largest_n_reaching", "first_n_below", "largest_n_fitted", "first_n_not_fitted")


def break_records(breaks: pd.DataFrame) -> list[dict]:
    """The rows of results/scaling/breaks.csv as the page shows them: n as integers."""
    return [{**row, **{k: None if row[k] is None else int(row[k]) for k in BREAK_N},
             "label": model_label(row["model"]), "factor_label": factor_label(float(row["rows_factor"]))}
            for row in _records(breaks)]


def break_rows(breaks: pd.DataFrame, factor: float) -> list[dict]:
    """The rows of results/scaling/breaks.csv at one rows multiple."""
    return break_records(breaks[breaks["rows_factor"] == factor] if len(breaks) else breaks)


#: A cell of the map: one model, n and rows multiple (one row per repeat in results/scaling.csv).
CELL = ["model", "n", "rows_factor"]


def cell_counts(rows: pd.DataFrame) -> dict[str, int]:
    """Cells (not repeats) per model among ``rows`` of results/scaling.csv."""
    return {str(m): int(k) for m, k in rows.drop_duplicates(CELL)["model"].value_counts().items()}


def unfitted_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The cells none of whose repeats was fitted, each with whether its fit failed (a note
    "fit failed ...") rather than lying beyond the model's limits."""
    cells = table.assign(_fitted=table["test_acc"].notna(),
                         _failed=table["note"].fillna("").astype(str).str.startswith("fit failed"))
    cells = cells.groupby(CELL, sort=False).agg(fitted=("_fitted", "any"), failed=("_failed", "any"))
    return cells[~cells["fitted"]].reset_index()


def setting_differences(table: pd.DataFrame, config: Mapping[str, Any]) -> list[dict]:
    """Per model: which cells are the study's fits, and how the cells fitted here differ from
    the study's settings (and why, from ``scaling.models.<model>.reason``)."""
    out = []
    sections = config.get("scaling", {}).get("models", {})
    for model in dict.fromkeys(table["model"]):
        rows = table[(table["model"] == model) & table["test_acc"].notna()]
        study = rows[rows["source"] == STUDY_FIT]
        own = rows[rows["source"] != STUDY_FIT]
        section = sections.get(model, {})
        settings = section.get("settings") or {}
        study_settings = {}
        if settings and model in config.get("models", {}):
            # The first n of the map the stage fits: the study's value the override replaces.
            n = int(own["n"].min()) if len(own) else int(rows["n"].min()) if len(rows) else 9
            study_settings = model_settings(config, model, n)
        out.append({
            "model": model, "label": model_label(model),
            "study_n": sorted({int(n) for n in study["n"]}),
            "study_factor": factor_label(float(study["rows_factor"].iloc[0])) if len(study) else None,
            "study_repeats": int(study.groupby("n").size().max()) if len(study) else 0,
            "own_cells": int(own.groupby(["n", "rows_factor"]).ngroups) if len(own) else 0,
            "overrides": ", ".join(
                f"{k} = {v}" + (f" (the study's {study_settings[k]})" if k in study_settings else "")
                for k, v in sorted(settings.items()) if study_settings.get(k) != v),
            "reason": section.get("reason"),
        })
    return out


def scaling_context(inputs: Mapping[str, Sequence[str]], config: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the page says; ``produced`` is False when the stage was not part of the run."""
    paths = inputs.get("scaling", [])
    if not paths:
        return {"produced": False}
    table = read_scaling(paths)
    breaks = read_breaks(inputs.get("scaling_breaks", []))
    fitted = table[table["test_acc"].notna()]
    own = fitted[fitted["source"] != STUDY_FIT]
    factor = reference_factor(table)
    needed = rows_needed(table)
    floors = []
    noise = {(int(n), label_noise(b)) for n, b in zip(table["n"], table["bayes_acc"], strict=True)}
    for n, q in sorted(noise):
        capacity = 1 - binary_entropy(q)
        floors.append({"n": n, "label_noise": q, "capacity": capacity, "floor": parity_rows_floor(n, q),
                       "support_bits": support_bits(n),
                       "support_floor": parity_rows_floor(n, q, support_bits(n))})
    # The learned parity rule (GF(2)): the learner the information-theoretic floor is drawn for.
    learned_rules = [s.name for s in specs() if s.decision == "threshold" and s.learns_from_labels]
    gf2 = needed[needed["model"].isin(learned_rules)].merge(pd.DataFrame(floors), on="n", how="left") \
        if len(needed) else needed
    gf2_notes = table[table["model"].isin(learned_rules) & table["note"].notna()]
    slopes = pd.concat([cost_slopes(table, "fit_seconds"), cost_slopes(table, "peak_rss_mb")],
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
    # The table counts cells, each of them once whatever its repeats; the prose counts fits.
    own_cells = cell_counts(own)
    study_cells = cell_counts(fitted[fitted["source"] == STUDY_FIT])
    unfitted = unfitted_cells(table)
    noted_cells = cell_counts(unfitted)
    scaled = table[table["source"] != STUDY_FIT]
    return {
        "produced": True,
        "dimensions": sorted({int(n) for n in table["n"]}),
        "factors": [factor_label(f) for f in sorted({float(f) for f in table["rows_factor"]})],
        "repeats": int(scaled["repeat"].max()) + 1 if len(scaled) else 0,
        "test_rows": int(scaled["test_rows"].max()) if len(scaled) else 0,
        "models": [{"model": m, "label": model_label(m), "fitted_cells": own_cells.get(m, 0),
                    "study_cells": study_cells.get(m, 0), "noted_cells": noted_cells.get(m, 0)}
                   for m in models],
        "fits": len(own),
        "study_fits": len(fitted) - len(own),
        "noted_cells": len(unfitted),
        "failed_cells": int(unfitted["failed"].sum()) if len(unfitted) else 0,
        "factor": factor,
        "factor_label": factor_label(factor),
        "breaks": break_rows(breaks, factor),
        "all_breaks": break_records(breaks),
        "differences": setting_differences(table, config),
        "published_data": config.get("data_dir") is not None,
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
        "total_fit_seconds": float(own["fit_seconds"].sum()),
    }
