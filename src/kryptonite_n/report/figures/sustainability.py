"""The Sustainability page: its figures (energy, or time, per stage and per model) and the
numbers its text quotes (``sustainability_context``), from results/carbon.csv.

Every figure of energy on the page is an estimate unless a meter read the CPU (RAPL...), and
even then the RAM's is CodeCarbon's model: nothing here is called measured. The energy shown
is the energy *charged*: the machine's CPU and RAM power shared among the phases running at
the same time, so that no watt counts twice (kryptonite_n.compute.carbon_share.attribute).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd

from kryptonite_n.compute.carbon import STAGES
from kryptonite_n.compute.carbon_share import MEASURED_SOURCES, RAM_FLOOR_W, TDP_FROM_CONFIG, TDP_OK, timeline
from kryptonite_n.plan.models import MODELS
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
from kryptonite_n.tables import results as tables

CARBON_COLUMNS = ("stage", "model", "n", "duration_s", "energy_kwh", "emissions_kg")
#: Numeric columns read when present (a table from before the charging has none of the last ones).
NUMBERS = ("duration_s", "energy_kwh", "cpu_energy_kwh", "ram_energy_kwh", "emissions_kg", "tdp_w",
           "tdp_used_w", "machine_ram_power_w", "machine_cpus", "cpu_share", "ram_share",
           "attributed_cpu_energy_kwh", "attributed_ram_energy_kwh", "attributed_energy_kwh",
           "attributed_emissions_kg")


def carbon_quantity(carbon: pd.DataFrame) -> tuple[str, str]:
    """The energy charged when there is one, else the phases' durations (a disabled tracker still times)."""
    for column, title in (("attributed_energy_kwh", "energy charged (kWh, estimated)"),
                          ("energy_kwh", "energy as read (kWh, estimated)")):
        values = pd.to_numeric(carbon.get(column), errors="coerce")
        if values is not None and values.notna().any():
            return column, title
    return "duration_s", "duration (s), energy not estimated"


def _read(paths: list[str]) -> pd.DataFrame:
    carbon = tables.read_tables(paths, CARBON_COLUMNS)
    carbon["model"] = carbon["model"].fillna("").astype(str)
    for column in NUMBERS:
        if column in carbon:
            carbon[column] = pd.to_numeric(carbon[column], errors="coerce")
    return carbon


def _carbon_table(inputs: Inputs) -> pd.DataFrame:
    carbon = _read(inputs["carbon"])
    carbon["label"] = [tables.model_label(m) if m else "(no model)" for m in carbon["model"]]
    return carbon


def _emissions_column(carbon: pd.DataFrame) -> str:
    charged = carbon.get("attributed_emissions_kg")
    return "attributed_emissions_kg" if charged is not None and charged.notna().any() else "emissions_kg"


def draw_carbon_stages(inputs: Inputs) -> Drawing:
    carbon = _carbon_table(inputs)
    if carbon.empty:
        return empty("No carbon rows")
    quantity, title = carbon_quantity(carbon)
    totals = round_frame(carbon.groupby(["stage", "label"], sort=False).agg(
        value=(quantity, "sum"), emissions_kg=(_emissions_column(carbon), "sum"),
        duration_s=("duration_s", "sum"), jobs=("stage", "size")).reset_index())
    toggle = legend_toggle("label")
    chart = alt.Chart(totals).mark_bar().encode(
        y=alt.Y("stage:N", title=None, sort=list(STAGES)),
        x=alt.X("value:Q", title=title, stack=True),
        color=alt.Color("label:N", title="model (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.15)),
        tooltip=["stage:N", alt.Tooltip("label:N", title="model"),
                 alt.Tooltip("value:Q", title=title, format=".2g"),
                 alt.Tooltip("emissions_kg:Q", title="emissions (kg CO₂eq, estimated)", format=".2g"),
                 alt.Tooltip("duration_s:Q", title="duration (s)", format=".4g"), "jobs:Q"],
    ).add_params(toggle).properties(width=WIDTH - 160, height=190, title=f"Per stage: {title}")
    stages = totals.groupby("stage")["value"].sum().sort_values(ascending=False)
    total = float(stages.sum())
    description = (f"Stacked bars of {title} per stage and model, over "
                   f"{count(int(totals['jobs'].sum()), 'job phase')}: {total:.2g} in all")
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
        value=(quantity, "sum"), emissions_kg=(_emissions_column(carbon), "sum"),
        duration_s=("duration_s", "sum"),
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
                 alt.Tooltip("value:Q", title=title, format=".2g"),
                 alt.Tooltip("emissions_kg:Q", title="emissions (kg CO₂eq, estimated)", format=".2g"),
                 alt.Tooltip("duration_s:Q", title="duration (s)", format=".4g")],
    ).add_params(toggle).properties(width=WIDTH - 160, height=300,
                                    title="Training against inference, per model and n (log scale)")
    by_stage = totals.groupby("stage")["value"].sum()
    description = (f"{title.capitalize()} of training and of inference per model and n (log scale), "
                   f"{count(totals['label'].nunique(), 'model')} for {list_n(totals['n'])}")
    if by_stage.get("inference", 0) > 0 and "train" in by_stage:
        description += (f"; training took {by_stage['train'] / by_stage['inference']:.2g} times the "
                        f"{'time' if quantity == 'duration_s' else 'energy'} of inference in all")
    return Drawing(chart, totals, description + ".")


# --------------------------------------------------------------------------- the page's numbers


def _sum(values: pd.Series | None) -> float | None:
    return float(values.sum()) if values is not None and values.notna().any() else None


def _counts(values: pd.Series) -> dict[str, int]:
    return values.dropna().astype(str).value_counts().sort_index().to_dict()


def _cpu_power(carbon: pd.DataFrame, sources: pd.Series) -> list[dict[str, Any]]:
    """How the CPU's power was obtained, one entry per (source, CPU, CodeCarbon's TDP, TDP used)."""
    keys = ["cpu_power_source", "cpu_model", "tdp_w", "tdp_check", "tdp_source", "tdp_used_w"]
    frame = carbon.reindex(columns=keys).assign(cpu_power_source=sources)
    frame = frame[frame["cpu_power_source"] != ""]
    entries = []
    for values, part in frame.groupby(keys, dropna=False, sort=True):
        entry = dict(zip(keys, values, strict=True))
        entry = {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in entry.items()}
        entry.update(rows=len(part), measured=entry["cpu_power_source"] in MEASURED_SOURCES,
                     estimate=str(entry["cpu_power_source"]).startswith("tdp_"),
                     implausible=entry["tdp_check"] not in (None, "", TDP_OK),
                     from_config=entry["tdp_source"] == TDP_FROM_CONFIG)
        entries.append(entry)
    return entries


def sustainability_context(inputs: Mapping[str, list[str]]) -> dict[str, Any]:
    """What the Sustainability page and the Overview's energy sentence quote."""
    if not inputs.get("carbon"):
        return {"produced": False}
    carbon = _read(inputs["carbon"])
    if carbon.empty:
        return {"produced": True, "rows": 0}
    quantity, title = carbon_quantity(carbon)
    charged = quantity == "attributed_energy_kwh"
    energy = quantity != "duration_s"
    emissions = _emissions_column(carbon)
    stages = []
    for stage in [s for s in STAGES if s in set(carbon["stage"])]:
        part = carbon[carbon["stage"] == stage]
        stages.append({"stage": stage, "jobs": len(part), "duration_s": float(part["duration_s"].sum()),
                       "energy_kwh": _sum(part.get(quantity)) if energy else None,
                       "cpu_kwh": _sum(part.get("attributed_cpu_energy_kwh")) if charged else None,
                       "ram_kwh": _sum(part.get("attributed_ram_energy_kwh")) if charged else None,
                       "emissions_kg": _sum(part.get(emissions)),
                       "read_kwh": _sum(part.get("energy_kwh"))})
    sources = carbon["cpu_power_source"].fillna("").astype(str) if "cpu_power_source" in carbon \
        else pd.Series("", index=carbon.index)
    known = sources[sources != ""]

    # The fit jobs' own phases only: the inference phase of a fit predicts the test and hidden
    # sets; the activation variants' training, the search and the boundary grids are other work.
    fits = carbon[carbon["model"].isin(MODELS)]
    train = fits.loc[fits["stage"] == "train", quantity].sum()
    inference = fits.loc[fits["stage"] == "inference", quantity].sum()
    ram_drawn = _ram_drawn_kwh(carbon) if charged else None
    nothing = pd.Series(dtype=float)
    ram_w = carbon["machine_ram_power_w"].dropna() if "machine_ram_power_w" in carbon else nothing
    cpus = carbon["machine_cpus"].dropna() if "machine_cpus" in carbon else nothing
    return {
        "produced": True, "rows": len(carbon), "stages": stages, "quantity": quantity,
        "quantity_title": title, "energy_estimated": energy, "charged": charged,
        "energy_kwh": _sum(carbon[quantity]) if energy else None,
        "cpu_kwh": _sum(carbon.get("attributed_cpu_energy_kwh")) if charged else None,
        "ram_kwh": _sum(carbon.get("attributed_ram_energy_kwh")) if charged else None,
        "emissions_kg": _sum(carbon[emissions]) if energy else None,
        "read_kwh": _sum(carbon["energy_kwh"]),
        "read_cpu_kwh": _sum(carbon.get("cpu_energy_kwh")),
        "read_ram_kwh": _sum(carbon.get("ram_energy_kwh")),
        "duration_s": float(carbon["duration_s"].sum()),
        "train_over_inference": float(train / inference) if inference > 0 else None,
        "measurements": _counts(carbon["measurement"].fillna("")) if "measurement" in carbon else {},
        "countries": sorted(carbon["country"].dropna().astype(str).unique().tolist()) if "country" in carbon
        else [],
        "versions": sorted(carbon["codecarbon_version"].dropna().astype(str).unique().tolist())
        if "codecarbon_version" in carbon else [],
        "power_sources": _counts(known),
        # "Measured" only where a meter read every row's CPU; RAM is always CodeCarbon's model.
        "cpu_measured": bool(len(known)) and bool(known.isin(MEASURED_SOURCES).all()),
        "cpu_power": _cpu_power(carbon, sources),
        "machine_ram_w": sorted(ram_w.unique().tolist()),
        "machine_cpus": sorted(int(c) for c in cpus.unique()),
        "hosts": int(carbon["host"].nunique()) if "host" in carbon else 0,
        "ram_floor_w": RAM_FLOOR_W,
        # The machine's RAM power over the time any metered phase ran, and the part of it that
        # the constant per-phase shares leave to no phase.
        "ram_drawn_kwh": ram_drawn,
        "ram_unattributed_kwh": None if ram_drawn is None
        else max(0.0, ram_drawn - (_sum(carbon.get("attributed_ram_energy_kwh")) or 0.0)),
    }


def _ram_drawn_kwh(carbon: pd.DataFrame) -> float | None:
    """The machine's RAM power x the time any metered phase of that host ran, summed over hosts."""

    measured = carbon[carbon["energy_kwh"].notna()] if "energy_kwh" in carbon else carbon.iloc[:0]
    if measured.empty or not {"started_at", "ended_at", "host", "machine_ram_power_w"} <= set(measured):
        return None
    _, lengths, running, hosts = timeline(measured)
    total = 0.0
    for host in pd.unique(hosts):
        mine = hosts == host
        busy = float(lengths[running[:, mine].any(axis=1)].sum())
        total += busy * float(measured.loc[mine, "machine_ram_power_w"].max()) / 3.6e6
    return total
