"""Figures of the "Where learners break" page, drawn from results/scaling.csv."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from kryptonite_n.compute.scaling import STUDY_FIT
from kryptonite_n.report.figures._shared import WIDTH, Drawing, Inputs, empty, model_order
from kryptonite_n.tables.results import model_label
from kryptonite_n.tables.scaling import (
    cell_summary,
    factor_label,
    parity_rows_floor,
    read_scaling,
    rows_needed,
    support_bits,
)


def draw_scaling_accuracy(inputs: Inputs) -> Drawing:
    """Per model, a heat map of mean test accuracy / Bayes over (n, training rows)."""
    table = read_scaling(inputs["scaling"])
    if table.empty:
        return empty("No scaling rows")
    cells = cell_summary(table)
    cells["label"] = cells["model"].map(model_label)
    cells["rows"] = cells["rows_factor"].map(factor_label)
    cells["mark"] = np.where(cells["reached"].eq(True), "✓", np.where(cells["repeats"] == 0, "—", ""))
    cells["status"] = np.where(cells["repeats"] == 0, cells["note"].fillna("not fitted"),
                               np.where(cells["reached"].eq(True),
                                        "interval's low end reaches " + cells["goal_kind"],
                                        "not shown to reach " + cells["goal_kind"]))
    cells["fits"] = np.where(cells["source"] == STUDY_FIT, "the study's fits", "fitted here")
    cells = cells.drop(columns=["note", "reached"]).round(4)
    row_order = [factor_label(f) for f in sorted(cells["rows_factor"].unique(), reverse=True)]
    base = alt.Chart().encode(
        x=alt.X("n:O", title="n (features)"),
        y=alt.Y("rows:O", sort=row_order, title="training rows (× published split)"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("relative:Q", title="accuracy / Bayes",
                        scale=alt.Scale(scheme="viridis", domain=[0.5, 1.0], clamp=True)),
        tooltip=["label:N", "n:O", "train_rows:Q", "repeats:Q", "fits:N",
                 alt.Tooltip("mean:Q", title="mean test accuracy", format=".4f"),
                 alt.Tooltip("low:Q", title="95% low", format=".4f"),
                 alt.Tooltip("high:Q", title="95% high", format=".4f"),
                 alt.Tooltip("bayes_acc:Q", title="Bayes", format=".4f"),
                 alt.Tooltip("goal:Q", title="goal", format=".4f"), "status:N"],
    )
    text = base.mark_text(fontSize=11, color="white").encode(text="mark:N")
    chart = alt.layer(heat, text, data=cells).properties(width=200, height=150).facet(
        facet=alt.Facet("label:N", title=None, sort=model_order(table["model"])), columns=3).properties(
        title="Mean test accuracy relative to the Bayes limit (✓: the 95 % interval's low end reaches "
              "the target, or 99 % of Bayes where n has none; —: beyond the model's limits)")
    fitted = cells[cells["repeats"] > 0]
    reached = int((cells["mark"] == "✓").sum())
    description = (f"Heat maps of mean test accuracy over the Bayes limit for {cells['label'].nunique()} "
                   f"models over {cells['n'].nunique()} n and {cells['rows'].nunique()} row multiples: "
                   f"{len(fitted)} cells fitted, {reached} of them reaching their goal by the low end "
                   f"of their 95 % interval, "
                   f"{len(cells) - len(fitted)} beyond a model's limits.")
    return Drawing(chart, cells, description)


#: The two floors of a learner that sees only the thresholded bits (the page says what they assume).
FLOOR_ALL = "floor, thresholded bits, all 2ⁿ parities"
FLOOR_SUPPORT = "floor, thresholded bits, told the support size"


def _floor_table(needed: pd.DataFrame) -> pd.DataFrame:
    points = needed[["n", "label_noise"]].drop_duplicates("n").sort_values("n")
    pairs = list(zip(points["n"], points["label_noise"], strict=True))
    every = pd.DataFrame({"n": points["n"], "rows": [parity_rows_floor(int(n), float(q)) for n, q in pairs],
                          "label": FLOOR_ALL})
    told = pd.DataFrame({"n": points["n"],
                         "rows": [parity_rows_floor(int(n), float(q), support_bits(int(n)))
                                  for n, q in pairs],
                         "label": FLOOR_SUPPORT})
    return pd.concat([every, told], ignore_index=True)


def draw_scaling_rows(inputs: Inputs) -> Drawing:
    """Training rows each model needs to reach its goal against n, with the parity floor."""
    table = read_scaling(inputs["scaling"])
    needed = rows_needed(table)
    if needed.empty:
        return empty("No fitted scaling cells")
    needed["label"] = needed["model"].map(model_label)
    # Censored points sit at the grid's edge: reached at the smallest rows tried (at most that
    # many needed) or never reached (more than the largest tried).
    needed["shown"] = needed["rows_needed"].fillna(needed["largest_tried"])
    needed["kind"] = needed["status"].map({"reached": "reached",
                                           "at or below the smallest tried": "≤ (smallest tried)",
                                           "never reached": "> (never reached)"})
    needed = needed.round(4)
    floor = _floor_table(needed)
    # A log axis has no place for 0 or a missing count (Vega warns and draws from 0).
    plotted = needed[needed["shown"] > 0]
    floor = floor[floor["rows"] > 0]
    scale_y = alt.Scale(type="log")
    lines = alt.Chart(plotted).mark_line(opacity=0.5).encode(
        x=alt.X("n:Q", scale=alt.Scale(type="log"), title="n (features)"),
        y=alt.Y("shown:Q", scale=scale_y, title="training rows"),
        color=alt.Color("label:N", title="model", sort=model_order(table["model"])),
    )
    points = alt.Chart(plotted).mark_point(size=80, filled=True).encode(
        x="n:Q", y="shown:Q", color=alt.Color("label:N", sort=model_order(table["model"])),
        shape=alt.Shape("kind:N", title="rows needed",
                        scale=alt.Scale(domain=["reached", "≤ (smallest tried)", "> (never reached)"],
                                        range=["circle", "triangle-down", "triangle-up"])),
        tooltip=["label:N", "n:Q", "status:N", alt.Tooltip("rows_needed:Q", title="rows needed"),
                 "smallest_tried:Q", "largest_tried:Q", alt.Tooltip("threshold:Q", format=".4f"),
                 "threshold_kind:N"],
    )
    bound = alt.Chart(floor.round(2)).mark_line(color="black").encode(
        x="n:Q", y="rows:Q",
        strokeDash=alt.StrokeDash("label:N", title="floor (sees only thresholded bits)",
                                  scale=alt.Scale(domain=[FLOOR_ALL, FLOOR_SUPPORT], range=[[6, 3], [2, 2]])),
        tooltip=["label:N", "n:Q", alt.Tooltip("rows:Q", format=".1f")])
    chart = alt.layer(lines, points, bound).properties(
        width=WIDTH - 120, height=320,
        title="Training rows needed to reach the goal, beside the floors of a learner that sees only "
              "the thresholded bits")
    parts = [f"{row.label} at n = {row.n}: {row.status}" + (f" ({int(row.rows_needed):,} rows)"
             if row.status == "reached" else "") for row in needed.itertuples()]
    every, told = floor[floor["label"] == FLOOR_ALL], floor[floor["label"] == FLOOR_SUPPORT]
    description = ("Training rows each model needs to reach its goal (the low end of its interval "
                   "clearing it) against n, beside two floors of a learner that sees only the "
                   f"thresholded bits: n / (1 − H(q)) ({every['rows'].min():.0f} to "
                   f"{every['rows'].max():.0f} rows) and, told the support size, "
                   f"log2 C(n, 2n/3) / (1 − H(q)) ({told['rows'].min():.0f} to "
                   f"{told['rows'].max():.0f} rows): "
                   + "; ".join(parts) + ".")
    return Drawing(chart, needed, description)


def draw_scaling_cost(inputs: Inputs) -> Drawing:
    """Fit seconds and peak memory against training rows, one line per (model, n), log-log, for
    the cells this stage fitted (the study's fits were timed with their repeats together)."""
    table = read_scaling(inputs["scaling"])
    fitted = table[table["test_acc"].notna() & (table["source"] != STUDY_FIT)]
    if fitted.empty:
        return empty("No cells fitted by the scaling stage")
    panels, frames = [], []
    for measure, title in (("fit_seconds", "fit seconds"),
                           ("peak_rss_mb", "peak memory above the process (MB)")):
        data = fitted[fitted[measure] > 0]
        means = data.groupby(["model", "n", "train_rows"], sort=False)[measure].mean().reset_index()
        means["label"] = means["model"].map(model_label)
        means["series"] = means["label"] + ", n = " + means["n"].astype(str)
        frames.append(means.assign(measure=measure).rename(columns={measure: "value"}))
        shown = means.round(5)
        panels.append(alt.Chart(shown).mark_line(point=True, opacity=0.8).encode(
            x=alt.X("train_rows:Q", scale=alt.Scale(type="log"), title="training rows"),
            y=alt.Y(f"{measure}:Q", scale=alt.Scale(type="log"), title=title),
            color=alt.Color("label:N", title="model", sort=model_order(table["model"])),
            detail="series:N",
            tooltip=["label:N", "n:Q", alt.Tooltip("train_rows:Q", format=","),
                     alt.Tooltip(f"{measure}:Q", format=".3f")],
        ).properties(width=260, height=260, title=f"{title} against training rows"))
    chart = alt.hconcat(*panels)
    description = (f"Mean fit seconds and peak memory of the {len(fitted)} fits made by the scaling stage "
                   f"against training rows on log axes, one line per model and n "
                   f"({fitted['model'].nunique()} models, n = {int(fitted['n'].min())} to "
                   f"{int(fitted['n'].max())}); the page gives each model's exponent of n at fixed "
                   "training rows with its interval.")
    return Drawing(chart, pd.concat(frames, ignore_index=True), description)


def draw_scaling_basis(inputs: Inputs) -> Drawing:
    """Polynomial LR's basis size against n, fitted or not."""
    table = read_scaling(inputs["scaling"])
    basis = table[table["basis_size"].notna()].drop_duplicates(["model", "n"])
    if basis.empty:
        return empty("No polynomial basis sizes")
    fitted = table[table["test_acc"].notna()].groupby(["model", "n"]).size()
    basis = basis.assign(fitted=[("fitted" if (m, n) in fitted.index else "not fitted")
                                 for m, n in zip(basis["model"], basis["n"], strict=True)],
                         label=basis["model"].map(model_label))[["label", "n", "basis_size", "fitted"]]
    # Points, not bars: a bar starts at 0, which a log axis cannot hold (Vega warns).
    chart = alt.Chart(basis).mark_point(filled=True, size=160).encode(
        x=alt.X("n:O", title="n (features)"),
        y=alt.Y("basis_size:Q", scale=alt.Scale(type="log"), title="monomials in the basis"),
        color=alt.Color("fitted:N", title=None,
                        scale=alt.Scale(domain=["fitted", "not fitted"], range=["#4c78a8", "#bab0ac"])),
        tooltip=["label:N", "n:O", alt.Tooltip("basis_size:Q", format=","), "fitted:N"],
    ).properties(width=WIDTH - 200, height=220,
                 title="Polynomial LR: monomials its settings would expand n into")
    description = "Monomials in polynomial LR's basis by n: " + "; ".join(
        f"n = {row.n}: {int(row.basis_size):,} ({row.fitted})" for row in basis.itertuples()) + "."
    return Drawing(chart, basis, description)
