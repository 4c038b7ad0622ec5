"""Figure of the Reproducibility page: the wall-clock time of every job."""

from __future__ import annotations

import altair as alt

from kryptonite_n.report.figures._shared import (
    WIDTH,
    Drawing,
    Inputs,
    count,
    empty,
    legend_toggle,
    round_frame,
)
from kryptonite_n.tables import results as tables


def draw_runtimes(inputs: Inputs) -> Drawing:
    data = tables.benchmark_table(inputs["logs"][0])
    if data.empty:
        return empty("No benchmark files")
    data = round_frame(data)
    toggle = legend_toggle("stage")
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("job:N", sort="-x", title=None),
        x=alt.X("s:Q", title="wall-clock seconds"),
        color=alt.Color("stage:N", title="stage (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.15)),
        tooltip=["job:N", alt.Tooltip("s:Q", title="seconds", format=".2f"),
                 alt.Tooltip("cpu_time_s:Q", title="CPU seconds", format=".2f"),
                 alt.Tooltip("max_rss_mb:Q", title="peak memory (MB)", format=".0f")],
    ).add_params(toggle).properties(width=WIDTH - 260, height=alt.Step(13),
                                    title="Wall-clock time of every job (Snakemake benchmarks)")
    slowest = data.loc[data["s"].idxmax()]
    description = (f"Bars of the wall-clock time of {count(len(data), 'job')} in "
                   f"{count(data['stage'].nunique(), 'stage')}, {data['s'].sum():.0f} s in all; the "
                   f"slowest is {slowest['job']} ({slowest['s']:.1f} s).")
    return Drawing(chart, data, description)
