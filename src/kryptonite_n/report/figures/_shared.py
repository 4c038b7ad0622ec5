"""Helpers every page's figures share: colours, selectors, rounding, and the ``Drawing`` a figure
function returns (the chart, the table it draws, and a sentence describing it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from kryptonite_n.tables import results as tables
from kryptonite_n.tables.results import model_label

Inputs = Mapping[str, Sequence[str | Path]]

# Okabe & Ito's palette: told apart with every common colour-vision deficiency.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
FAMILY_COLOURS = alt.Scale(domain=["uniform", "laplace", "gaussian"], range=["#999999", "#D55E00", "#0072B2"])
LABEL_COLOURS = alt.Scale(domain=[0, 1], range=["#0072B2", "#E69F00"])
#: Reference lines (targets, Bayes limit): a grey readable on the light and the dark page.
REFERENCE_GREY = "#8a8a8a"
WIDTH = 560
LOG_TICKS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class Drawing:
    """A drawn figure: the chart, the rows it draws (shipped as CSV) and its text description."""

    chart: alt.TopLevelMixin
    data: pd.DataFrame
    #: What the chart shows, computed from ``data``: the accessible description of the chart.
    description: str


def model_order(models: Sequence[str]) -> list[str]:
    return [model_label(m) for m in sorted(set(models), key=tables.model_rank)]


def list_n(values: Iterable) -> str:
    """``n = 9``, ``n = 9 and 12``, ``n = 9, 12 and 15``: the n values of a figure, in words."""
    values = sorted({int(v) for v in values})
    if not values:
        return "no n"
    if len(values) == 1:
        return f"n = {values[0]}"
    return f"n = {', '.join(map(str, values[:-1]))} and {values[-1]}"


def count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def round_frame(frame: pd.DataFrame, digits: int = 6) -> pd.DataFrame:
    """Round floats to ``digits`` significant digits: the specs ship their data."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            values = frame[column].to_numpy(dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                magnitude = np.where(values == 0, 0, np.floor(np.log10(np.abs(values))))
            scale = 10.0 ** (digits - 1 - np.nan_to_num(magnitude, posinf=0, neginf=0))
            frame[column] = np.round(values * scale) / scale
    return frame


def n_param(values: Sequence[int], name: str = "n_choice") -> alt.Parameter:
    values = sorted({int(v) for v in values})
    return alt.param(name=name, value=values[0],
                     bind=alt.binding_select(options=values, name="n = "))


def choice_param(name: str, values: Sequence[str], label_text: str) -> alt.Parameter:
    values = list(dict.fromkeys(values))
    return alt.param(name=name, value=values[0], bind=alt.binding_select(options=values, name=label_text))


def legend_toggle(field: str) -> alt.Parameter:
    """Click a legend entry to show only that series (shift-click for several)."""
    return alt.selection_point(fields=[field], bind="legend")


def empty(message: str) -> Drawing:
    """A chart that says why there is nothing to draw (its table is empty)."""
    chart = alt.Chart(pd.DataFrame({"text": [message]})).mark_text(size=14).encode(
        text="text:N").properties(width=WIDTH, height=60)
    return Drawing(chart, pd.DataFrame(), message)


def informative(table: pd.DataFrame) -> list[int]:
    """The features a features.csv marks informative (its booleans may be read back as text)."""
    return table.loc[table["informative"].astype(str).str.lower() == "true", "feature"].astype(int).tolist()
