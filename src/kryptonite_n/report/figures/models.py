"""Figures of the Models page: accuracy against the targets, training curves, L1 sparsity and
the features each model's parity uses."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from kryptonite_n.compute.data import TARGETS
from kryptonite_n.compute.explore import informative_features
from kryptonite_n.io import DataError
from kryptonite_n.report.figures._shared import (
    REFERENCE_GREY,
    WIDTH,
    Drawing,
    Inputs,
    count,
    empty,
    legend_toggle,
    list_n,
    model_order,
    n_param,
    round_frame,
)
from kryptonite_n.tables import results as tables

#: Points per training curve: a thousand epochs of ten repeats of seven n would not ship well
#: (60 points over a 250-pixel panel still show every turn of the curve).
CURVE_POINTS = 60
#: Coefficient ranks per (n, repeat) shown in the sparsity figure.
SPARSITY_RANKS = 40


def _best_models(summary: pd.DataFrame) -> str:
    """The best model(s) at each n in words: those whose 95 % interval overlaps the best one's tie."""
    best = {int(n): tuple(tables.tied_with_best(group)["label"]) for n, group in summary.groupby("n")}
    by_models: dict[tuple, list[int]] = {}
    for n, labels in sorted(best.items()):
        by_models.setdefault(labels, []).append(n)

    def named(labels: tuple) -> str:
        return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]} (tied)"

    if len(by_models) == 1:
        return f"{named(next(iter(by_models)))} at every n"
    return "; ".join(f"{named(labels)} at {list_n(ns)}" for labels, ns in by_models.items())


def _bayes_words(summary: pd.DataFrame) -> str:
    """What the Bayes line is: the generator's exact accuracy, or a named lower estimate."""
    sources = sorted({str(s) for s in summary["bayes_source"].dropna() if str(s)})
    if sources == ["generator"]:
        return "the Bayes limit (the generator's exact Bayes accuracy)"
    if sources:
        named = ", ".join(s for s in sources if s != "generator")
        return f"a lower estimate of the Bayes limit, by the {named}"
    return "the Bayes limit (unknown in this run)"


def draw_accuracy(inputs: Inputs) -> Drawing:
    summary = tables.headline_table(inputs.get("summary", []), inputs["metrics"], inputs["truth"])
    summary = summary[summary["test_mean"].notna()]
    if summary.empty:
        return empty("No fitted models")
    limits = tables.bayes_limits(tables.read_truths(inputs["truth"]))
    reported = summary.dropna(subset=["bayes"]).groupby("n")["bayes"].first()
    limits["bayes"] = limits["n"].map(reported).fillna(limits["bayes"])
    summary = summary.assign(low=summary["test_mean"] - summary["test_std"].fillna(0),
                             high=summary["test_mean"] + summary["test_std"].fillna(0))
    order = model_order(summary["model"])
    toggle = legend_toggle("label")
    x = alt.X("n:Q", title="n (features)", scale=alt.Scale(zero=False),
              axis=alt.Axis(values=sorted(limits["n"])))
    colour = alt.Color("label:N", sort=order, title="model (click to isolate)")
    opacity = alt.condition(toggle, alt.value(1.0), alt.value(0.12))
    tooltip = [alt.Tooltip("label:N", title="model"), "n:Q", "repeats:Q",
               alt.Tooltip("test_mean:Q", title="mean test accuracy", format=".4f"),
               alt.Tooltip("test_std:Q", title="std", format=".4f"),
               alt.Tooltip("target:Q", format=".3f"),
               alt.Tooltip("bayes:Q", title="Bayes limit", format=".4f")]
    drawn = round_frame(summary.drop(columns=["passes", "note"]))
    base = alt.Chart(drawn).encode(x=x, color=colour, opacity=opacity)
    bars = base.mark_errorbar(ticks=True).encode(y=alt.Y("low:Q", title="test accuracy",
                                                          scale=alt.Scale(zero=False)), y2="high:Q")
    line = base.mark_line(strokeWidth=1.5).encode(y="test_mean:Q")
    points = base.mark_point(filled=True, size=60).encode(y="test_mean:Q", tooltip=tooltip).add_params(toggle)
    reference = pd.concat([
        pd.DataFrame({"n": list(TARGETS), "accuracy": list(TARGETS.values()), "line": "target"}),
        limits.assign(accuracy=limits["bayes"], line="Bayes limit")[["n", "accuracy", "line"]],
    ], ignore_index=True)
    reference = round_frame(reference[reference["n"].isin(limits["n"])])
    references = alt.Chart(reference).mark_line(color=REFERENCE_GREY, point=True, strokeWidth=1).encode(
        x=x, y="accuracy:Q",
        strokeDash=alt.StrokeDash("line:N", title="reference",
                                  scale=alt.Scale(domain=["target", "Bayes limit"], range=[[6, 3], [1, 2]])),
        tooltip=["line:N", "n:Q", alt.Tooltip("accuracy:Q", format=".4f")])
    chart = alt.layer(references, bars, line, points).properties(
        width=WIDTH - 140, height=340, title="Test accuracy (mean ± std over repeats) against the target")
    models = drawn["label"].nunique()
    description = (f"Mean test accuracy (± std over repeats) of {count(models, 'model')} for "
                   f"{list_n(drawn['n'])}, against the paper's targets and {_bayes_words(summary)}. "
                   f"Best (models whose 95 % interval of the mean overlaps the best one's are tied): "
                   f"{_best_models(summary)}.")
    data = pd.concat([drawn.assign(line="model"), reference.rename(columns={"accuracy": "test_mean"})],
                     ignore_index=True)
    return Drawing(chart, data, description)


def thin_curves(data: pd.DataFrame, keys: list[str], points: int) -> pd.DataFrame:
    """At most about ``points`` evenly spaced rows per curve, always keeping its first and last row."""
    def thin(curve: pd.DataFrame) -> pd.DataFrame:
        if len(curve) <= points:
            return curve
        keep = np.unique(np.linspace(0, len(curve) - 1, points).round().astype(int))
        return curve.iloc[keep]

    return pd.concat([thin(curve) for _, curve in data.groupby(keys, sort=False)], ignore_index=True)


def draw_training(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["history"], add_n=True, add_repeat=True)
    if data.empty:
        return empty("No training history rows")
    if "epoch" not in data.columns:
        data["epoch"] = data.groupby(["n", "repeat"]).cumcount() + 1
    epochs = data.groupby(["n", "repeat"])["epoch"].max()
    data = thin_curves(data, ["n", "repeat"], CURVE_POINTS)
    measures = [c for c in data.columns if c not in ("n", "repeat", "epoch")
                and pd.api.types.is_numeric_dtype(data[c])]
    if not measures:
        raise DataError(f"{inputs['history'][0]}: no numeric column to plot besides the epoch")
    long = round_frame(data.melt(id_vars=["n", "repeat", "epoch"], value_vars=measures, var_name="measure"))
    n = n_param(long["n"])
    toggle = legend_toggle("repeat")
    lines = alt.Chart().mark_line(strokeWidth=1.3).encode(
        x=alt.X("epoch:Q", title="epoch"),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color("repeat:N", title="repeat (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.1)),
        tooltip=["n:Q", "repeat:N", "epoch:Q", "measure:N", alt.Tooltip("value:Q", format=".4f")],
    ).transform_filter(alt.datum.n == n).properties(width=250, height=170)
    chart = alt.FacetChart(data=long, spec=lines,
                           facet=alt.Facet("measure:N", title=None, sort=measures), columns=2)
    chart = chart.add_params(n, toggle).resolve_scale(y="independent").properties(
        title="MLP training curves, one line per repeat")
    description = (f"MLP training curves ({', '.join(measures)}) of {count(len(epochs), 'run')} for "
                   f"{list_n(long['n'])}, one line per repeat; the runs stopped after "
                   f"{int(epochs.min())} to {int(epochs.max())} epochs.")
    return Drawing(chart, long, description)


def draw_sparsity(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["coefficients"], ["rank", "monomial", "degree", "coefficient"],
                              add_n=True, add_repeat=True)
    if data.empty:
        return empty("No coefficient rows")
    data = data[data["rank"] <= SPARSITY_RANKS].copy()
    data["magnitude"] = data["coefficient"].abs()
    data["monomial"] = data["monomial"].map(tables.monomial_name)
    data = round_frame(data)
    n = n_param(data["n"])
    toggle = legend_toggle("repeat")
    chart = alt.Chart(data).mark_point(filled=True, size=45).encode(
        x=alt.X("rank:Q", title="coefficient rank (largest |coefficient| first)"),
        y=alt.Y("magnitude:Q", title="|coefficient|"),
        color=alt.Color("degree:O", title="degree", scale=alt.Scale(scheme="viridis")),
        shape=alt.Shape("repeat:N", title="repeat (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(0.9), alt.value(0.08)),
        tooltip=["n:Q", "repeat:N", "rank:Q", "monomial:N", "degree:Q",
                 alt.Tooltip("coefficient:Q", format=".5f")],
    ).add_params(n, toggle).transform_filter(alt.datum.n == n).properties(
        width=WIDTH - 120, height=320,
        title=f"L1 polynomial logistic regression: the {SPARSITY_RANKS} largest coefficients")
    first = data.sort_values(["n", "repeat", "rank"]).groupby(["n", "repeat"]).head(2)
    ratios = []
    for _, pair in first.groupby(["n", "repeat"]):
        if len(pair) == 2 and pair["magnitude"].iloc[1] > 0:
            ratios.append(pair["magnitude"].iloc[0] / pair["magnitude"].iloc[1])
    description = (f"The {SPARSITY_RANKS} largest coefficient magnitudes of L1 polynomial logistic "
                   f"regression per repeat for {list_n(data['n'])}, coloured by monomial degree.")
    if ratios:
        description += (f" The largest coefficient is {min(ratios):.1f} to {max(ratios):.1f} times the "
                        f"second largest.")
    return Drawing(chart, data, description)


def support_grid(support: pd.DataFrame, features: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """One row per (n, who, feature): is the feature in the support, and how often across rows."""
    rows = []
    for n, table in sorted(features.items()):
        inferred = set(informative_features(table))
        references = {"noise shape (inferred)": inferred}
        if "true_family" in table.columns:
            references = {"truth (generator)": set(table.loc[table["true_family"] != "uniform", "feature"]
                                                   .astype(int)), **references}
        for who, chosen in references.items():
            rows += [{"n": n, "who": who, "feature": j, "share": float(j in chosen), "kind": "reference"}
                     for j in range(len(table))]
    for (model, n), group in support.groupby(["model", "n"], sort=False):
        sets = [set(tables.parse_features(value)) for value in group["features"]]
        size = len(features[int(n)]) if int(n) in features else 1 + max(
            (max(s) for s in sets if s), default=0)
        rows += [{"n": int(n), "who": tables.model_label(model), "feature": j, "kind": "model",
                  "share": sum(j in s for s in sets) / len(sets)} for j in range(size)]
    return pd.DataFrame(rows, columns=["n", "who", "feature", "share", "kind"])


def draw_support(inputs: Inputs) -> Drawing:
    support = tables.read_tables(inputs["support"], ["model", "n", "features"])
    features = {tables.n_of(p): tables.read_table(p, ["feature", "informative"]) for p in inputs["features"]}
    grid = support_grid(support, features)
    if grid.empty:
        return empty("No support rows")
    order = list(dict.fromkeys(grid["who"]))
    n = n_param(grid["n"])
    chart = alt.Chart(grid).mark_square(size=260).encode(
        x=alt.X("feature:O", title="feature index"),
        y=alt.Y("who:N", sort=order, title=None),
        color=alt.Color("share:Q", title="in the support",
                        scale=alt.Scale(domain=[0, 1], range=["#e8e8e8", "#1b7837"])),
        tooltip=["n:Q", alt.Tooltip("who:N", title="support of"), "feature:Q",
                 alt.Tooltip("share:Q", title="share of rows choosing it", format=".2f")],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=WIDTH - 160, title="Features in the parity found by each model, against the truth")
    models = grid.loc[grid["kind"] == "model", "who"].unique()
    description = (f"For {list_n(grid['n'])}, which features the parity found by "
                   f"{count(len(models), 'model')} ({', '.join(models) or 'none'}) uses, one row per "
                   f"model, beside the informative features inferred from the noise shape"
                   f"{' and the true ones' if 'truth (generator)' in set(grid['who']) else ''}.")
    return Drawing(chart, grid, description)
