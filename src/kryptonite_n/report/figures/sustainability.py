"""Figures of the Sustainability page: energy (or time) per stage and per model."""

from __future__ import annotations

import altair as alt
import pandas as pd

from kryptonite_n.carbon import STAGES
from kryptonite_n.report import tables
from kryptonite_n.report.figures._shared import (
    WIDTH,
    Drawing,
    Inputs,
    count,
    empty,
    legend_toggle,
    list_n,
    round_frame,
)

CARBON_COLUMNS = ("stage", "model", "n", "duration_s", "energy_kwh", "emissions_kg")


def carbon_quantity(carbon: pd.DataFrame) -> tuple[str, str]:
    """Energy when it was measured, else the measured durations (a disabled tracker still times)."""
    measured = pd.to_numeric(carbon.get("energy_kwh"), errors="coerce")
    if measured is not None and measured.notna().any():
        return "energy_kwh", "energy (kWh)"
    return "duration_s", "duration (s), energy not measured"


def _carbon_table(inputs: Inputs) -> pd.DataFrame:
    carbon = tables.read_tables(inputs["carbon"], CARBON_COLUMNS)
    carbon["model"] = carbon["model"].fillna("").astype(str)
    carbon["label"] = [tables.model_label(m) if m else "(no model)" for m in carbon["model"]]
    for column in ("duration_s", "energy_kwh", "emissions_kg"):
        carbon[column] = pd.to_numeric(carbon[column], errors="coerce")
    return carbon


def draw_carbon_stages(inputs: Inputs) -> Drawing:
    carbon = _carbon_table(inputs)
    if carbon.empty:
        return empty("No carbon rows")
    quantity, title = carbon_quantity(carbon)
    totals = round_frame(carbon.groupby(["stage", "label"], sort=False).agg(
        value=(quantity, "sum"), emissions_kg=("emissions_kg", "sum"), duration_s=("duration_s", "sum"),
        jobs=("stage", "size")).reset_index())
    toggle = legend_toggle("label")
    chart = alt.Chart(totals).mark_bar().encode(
        y=alt.Y("stage:N", title=None, sort=list(STAGES)),
        x=alt.X("value:Q", title=title, stack=True),
        color=alt.Color("label:N", title="model (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.15)),
        tooltip=["stage:N", alt.Tooltip("label:N", title="model"),
                 alt.Tooltip("value:Q", title=title, format=".4g"),
                 alt.Tooltip("emissions_kg:Q", title="emissions (kg CO₂eq)", format=".3g"),
                 alt.Tooltip("duration_s:Q", title="duration (s)", format=".4g"), "jobs:Q"],
    ).add_params(toggle).properties(width=WIDTH - 160, height=170, title=f"Per stage: {title}")
    stages = totals.groupby("stage")["value"].sum().sort_values(ascending=False)
    total = float(stages.sum())
    description = (f"Stacked bars of {title} per stage and model, measured over "
                   f"{count(int(totals['jobs'].sum()), 'job phase')}: {total:.4g} in all")
    if total > 0:
        description += f", {stages.iloc[0] / total:.0%} of it in the {stages.index[0]} stage"
    return Drawing(chart, totals, description + ".")


def draw_carbon_models(inputs: Inputs) -> Drawing:
    carbon = _carbon_table(inputs)
    carbon = carbon[carbon["stage"].isin(["train", "inference"]) & (carbon["model"] != "")]
    if carbon.empty:
        return empty("No training or inference rows")
    quantity, title = carbon_quantity(carbon)
    totals = carbon.groupby(["label", "n", "stage"], sort=False).agg(
        value=(quantity, "sum"), emissions_kg=("emissions_kg", "sum"), duration_s=("duration_s", "sum"),
    ).reset_index()
    totals = round_frame(totals[totals["value"] > 0])
    if totals.empty:
        return empty(f"No training or inference row with a positive {title}")
    toggle = legend_toggle("label")
    chart = alt.Chart(totals).mark_line(point=True).encode(
        x=alt.X("n:Q", title="n", scale=alt.Scale(zero=False),
                axis=alt.Axis(values=sorted(set(totals["n"].astype(int))))),
        y=alt.Y("value:Q", title=title, scale=alt.Scale(type="log")),
        color=alt.Color("label:N", title="model (click to isolate)"),
        strokeDash=alt.StrokeDash("stage:N", title="stage", sort=["train", "inference"]),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.1)),
        tooltip=[alt.Tooltip("label:N", title="model"), "n:Q", "stage:N",
                 alt.Tooltip("value:Q", title=title, format=".4g"),
                 alt.Tooltip("emissions_kg:Q", title="emissions (kg CO₂eq)", format=".3g"),
                 alt.Tooltip("duration_s:Q", title="duration (s)", format=".4g")],
    ).add_params(toggle).properties(width=WIDTH - 160, height=300,
                                    title="Training against inference, per model and n (log scale)")
    by_stage = totals.groupby("stage")["value"].sum()
    description = (f"{title.capitalize()} of training and of inference per model and n (log scale), "
                   f"{count(totals['label'].nunique(), 'model')} for {list_n(totals['n'])}")
    if by_stage.get("inference", 0) > 0 and "train" in by_stage:
        description += (f"; training took {by_stage['train'] / by_stage['inference']:.3g} times the "
                        f"{quantity.split('_')[0]} of inference in all")
    return Drawing(chart, totals, description + ".")
