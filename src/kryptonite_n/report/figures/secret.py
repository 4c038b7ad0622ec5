"""Figure of "The dataset's secret" page: every feature's noise gives its role away."""

from __future__ import annotations

import altair as alt

from kryptonite_n.report.figures._shared import (
    FAMILY_COLOURS,
    LOG_TICKS,
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


def draw_families(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["features"], ["feature", "residual_std", "kurtosis", "family"],
                              add_n=True)
    if data.empty:
        return empty("No feature rows")
    has_truth = "true_family" in data.columns
    toggle = legend_toggle("family")
    tooltip = ["n:Q", "feature:Q", "family:N", alt.Tooltip("residual_std:Q", format=".4f"),
               alt.Tooltip("kurtosis:Q", format=".3f")]
    encoding = {}
    if has_truth:
        tooltip.append("true_family:N")
        encoding["shape"] = alt.Shape("true_family:N", title="true family")
    keep = ["n", "feature", "residual_std", "kurtosis", "family", *(["true_family"] if has_truth else [])]
    data = round_frame(data[keep])
    spread = [float(data["residual_std"].min()) / 1.4, float(data["residual_std"].max()) * 1.4]
    chart = alt.Chart(data).mark_point(filled=True, size=70).encode(
        x=alt.X("residual_std:Q", title="std of value minus nearest bit (log scale)",
                scale=alt.Scale(type="log", domain=spread, nice=False),
                axis=alt.Axis(values=[v for v in LOG_TICKS if spread[0] <= v <= spread[1]])),
        y=alt.Y("kurtosis:Q", title="kurtosis of value minus nearest bit"),
        color=alt.Color("family:N", scale=FAMILY_COLOURS, title="inferred family (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(0.85), alt.value(0.1)),
        tooltip=tooltip, **encoding,
    ).add_params(toggle).properties(width=WIDTH - 160, height=320,
                                    title="Every feature of every n: its noise gives its role away")
    groups = data.groupby("family").agg(spread=("residual_std", "median"), tails=("kurtosis", "median"),
                                        features=("feature", "size"))
    parts = [f"{row.Index} ({row.features} features, median std {row.spread:.3f}, kurtosis {row.tails:.1f})"
             for row in groups.itertuples()]
    description = (f"Noise std against kurtosis of {count(len(data), 'feature')} of {list_n(data['n'])}, "
                   f"coloured by inferred family: {'; '.join(parts)}.")
    if has_truth:
        agree = (data["family"] == data["true_family"]).mean()
        description += f" The inferred family equals the generator's for {agree:.1%} of the features."
    return Drawing(chart, data, description)
