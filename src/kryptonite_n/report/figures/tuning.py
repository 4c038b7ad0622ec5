"""Figures of the Tuning page: the search's progress (trial 0: the paper's settings), what
mattered, every trial."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from kryptonite_n.report.figures._shared import WIDTH, Drawing, Inputs, empty, n_param
from kryptonite_n.report.tuning_page import IMPORTANCE_COLUMNS, TRIAL_COLUMNS, read_trials
from kryptonite_n.tables import results as tables
from kryptonite_n.tables.results import model_label


def draw_history(inputs: Inputs) -> Drawing:
    """Best-so-far validation accuracy against trial number, one line per n."""
    data = read_trials(inputs["trials"])
    data["label"] = data["model"].map(model_label)
    base = alt.Chart(data).encode(
        x=alt.X("trial:Q", title="trial (in the order they started)", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("n:N", title="n"))
    line = base.mark_line(interpolate="step-after").encode(
        y=alt.Y("best_so_far:Q", title="validation accuracy", scale=alt.Scale(zero=False)),
        tooltip=["n:Q", "trial:Q", alt.Tooltip("best_so_far:Q", format=".4f", title="best so far")])
    points = base.mark_point(filled=True, size=40).encode(
        y="validation_acc:Q", shape=alt.Shape("state:N", title="trial"),
        tooltip=["n:Q", "trial:Q", "origin:N", "state:N", alt.Tooltip("validation_acc:Q", format=".4f"),
                 "epochs:Q"])
    chart = (line + points).properties(
        width=WIDTH, height=300, title="Best validation accuracy so far, by trial (points: completed trials)")
    best = data.groupby("n")["best_so_far"].max()
    description = "Best validation accuracy of the search: " + ", ".join(
        f"n = {n}: {value:.4f}" for n, value in best.items() if not pd.isna(value)) + "."
    return Drawing(chart, data, description)


def draw_importances(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["importances"], IMPORTANCE_COLUMNS, add_n=True)
    if data.empty:
        return empty("Too few completed trials for importances")
    n = n_param(data["n"], name="tuning_n")
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("importance:Q", title="share of the validation accuracy's variance (fANOVA)",
                scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("param:N", title=None, sort="-x"),
        tooltip=["n:Q", "param:N", alt.Tooltip("importance:Q", format=".3f")],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=WIDTH - 120, height=220, title="Which settings mattered (Optuna's fANOVA importance)")
    top = data.sort_values("importance", ascending=False).groupby("n").head(1)
    description = "Most important setting per n: " + ", ".join(
        f"n = {row.n}: {row.param} ({row.importance:.2f})" for row in top.itertuples()) + "."
    return Drawing(chart, data, description)


def draw_trials(inputs: Inputs) -> Drawing:
    """Each trial's learning rate and accuracy (completed: final, pruned: when stopped)."""
    data = tables.read_tables(inputs["trials"], TRIAL_COLUMNS, add_n=True)
    if "last_validation_acc" not in data:
        data["last_validation_acc"] = np.nan
    data["accuracy"] = data["validation_acc"].fillna(data["last_validation_acc"])
    if "origin" not in data:
        data["origin"] = "sampler"
    keep = ["n", "trial", "origin", "state", "accuracy", "epochs",
            *[c for c in data.columns if c.startswith("param_")]]
    data = data[keep]
    n = n_param(data["n"], name="tuning_n")
    tooltip = ["n:Q", "trial:Q", "origin:N", "state:N", alt.Tooltip("accuracy:Q", format=".4f"), "epochs:Q",
               *[f"{c}:N" for c in keep if c.startswith("param_")]]
    encode = {"y": alt.Y("accuracy:Q", title="validation accuracy (pruned: when stopped)",
                         scale=alt.Scale(zero=False)),
              "shape": alt.Shape("state:N", title="trial"), "tooltip": tooltip}
    if "param_optimizer" in data:
        encode["color"] = alt.Color("param_optimizer:N", title="optimiser")
    x = (alt.X("param_lr:Q", title="learning rate", scale=alt.Scale(type="log")) if "param_lr" in data
         else alt.X("trial:Q", title="trial"))
    chart = alt.Chart(data).mark_point(filled=True, size=60, opacity=0.8).encode(x=x, **encode).add_params(
        n).transform_filter(alt.datum.n == n).properties(
        width=WIDTH - 80, height=300, title="Every trial: learning rate, optimiser and accuracy")
    counts = data.groupby("n")["state"].value_counts().unstack(fill_value=0)
    description = "Trials per n: " + ", ".join(
        f"n = {n}: {int(row.get('COMPLETE', 0))} completed, {int(row.get('PRUNED', 0))} pruned"
        for n, row in counts.iterrows()) + "."
    return Drawing(chart, data, description)

