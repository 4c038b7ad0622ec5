"""The report's figures: Altair charts drawn from result files, grouped in families.

Each family is drawn by one workflow rule. A figure is drawn only when every input it needs is
produced by the run (``figure_names``), so a disabled stage simply has no figure. Every figure
is written twice: a Vega-Lite JSON spec that the site embeds with its one vendored Vega bundle,
and a static SVG (vl-convert) for print.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from kryptonite_n.data import TARGETS
from kryptonite_n.io import DataError, atomic_path
from kryptonite_n.report import tables
from kryptonite_n.report.tables import MODEL_LABELS

Inputs = Mapping[str, Sequence[str | Path]]

FAMILY_COLOURS = alt.Scale(domain=["uniform", "laplace", "gaussian"],
                           range=["#8c8c8c", "#e45756", "#4c78a8"])
LABEL_COLOURS = alt.Scale(domain=[0, 1], range=["#4c78a8", "#f58518"])
WIDTH = 560
LOG_TICKS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
#: Points per n kept for scatter plots: enough to see the structure, small enough to ship.
SCATTER_POINTS = 1200
#: Points per training curve: a thousand epochs of ten repeats of seven n would not ship well.
CURVE_POINTS = 150
#: Coefficient ranks per (n, repeat) shown in the sparsity figure.
SPARSITY_RANKS = 40


def _label(model: str) -> str:
    return MODEL_LABELS.get(model, model)


def _model_order(models: Sequence[str]) -> list[str]:
    return [_label(m) for m in sorted(set(models), key=tables.model_rank)]


def _round(frame: pd.DataFrame, digits: int = 6) -> pd.DataFrame:
    """Round floats to ``digits`` significant digits: the specs ship their data."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            values = frame[column].to_numpy(dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                magnitude = np.where(values == 0, 0, np.floor(np.log10(np.abs(values))))
            scale = 10.0 ** (digits - 1 - np.nan_to_num(magnitude))
            frame[column] = np.round(values * scale) / scale
    return frame


def _n_param(values: Sequence[int]) -> alt.Parameter:
    values = sorted({int(v) for v in values})
    return alt.param(name="n_choice", value=values[0],
                     bind=alt.binding_select(options=values, name="n = "))


def _choice_param(name: str, values: Sequence[str], label: str) -> alt.Parameter:
    values = list(dict.fromkeys(values))
    return alt.param(name=name, value=values[0], bind=alt.binding_select(options=values, name=label))


def _legend_toggle(field: str) -> alt.Parameter:
    """Click a legend entry to show only that series (shift-click for several)."""
    return alt.selection_point(fields=[field], bind="legend")


def _empty(message: str) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"text": [message]})).mark_text(size=14).encode(text="text:N").properties(
        width=WIDTH, height=60)


# --------------------------------------------------------------------------- data


def draw_histograms(inputs: Inputs) -> alt.Chart:
    data = tables.read_tables(inputs["histograms"], ["feature", "family", "bin_start", "bin_end", "pmf"],
                              add_n=True)
    if data.empty:
        return _empty("No histogram rows")
    data["value"] = (data["bin_start"] + data["bin_end"]) / 2
    data = data[["n", "feature", "family", "value", "bin_start", "bin_end", "pmf"]]
    n = _n_param(data["n"])
    lines = alt.Chart().mark_line(interpolate="step", opacity=0.75, strokeWidth=1.2).encode(
        x=alt.X("value:Q", title="feature value"),
        y=alt.Y("pmf:Q", title="share of rows per bin"),
        color=alt.Color("family:N", scale=FAMILY_COLOURS, title="noise family"),
        detail="feature:N",
        tooltip=["n:Q", "feature:Q", "family:N", alt.Tooltip("bin_start:Q", format=".3f"),
                 alt.Tooltip("bin_end:Q", format=".3f"), alt.Tooltip("pmf:Q", format=".4f")],
    ).transform_filter(alt.datum.n == n).properties(width=175, height=180)
    return alt.FacetChart(data=_round(data), spec=lines, facet=alt.Facet(
        "family:N", title=None, sort=["uniform", "laplace", "gaussian"]), columns=3).add_params(
        n).resolve_scale(y="independent").properties(
        title="Each feature's values, by noise family (one line per feature)")


def draw_correlation(inputs: Inputs) -> alt.Chart:
    data = tables.read_tables(inputs["correlation"], ["row", "column", "correlation"], add_n=True)
    if data.empty:
        return _empty("No correlation rows")
    order = {name: i for i, name in enumerate(
        sorted(set(data["row"]), key=lambda s: (s == "label", int(s[1:]) if s[1:].isdigit() else 0)))}
    data["row_order"] = data["row"].map(order)
    data["column_order"] = data["column"].map(order)
    n = _n_param(data["n"])
    return alt.Chart(_round(data)).mark_rect().encode(
        x=alt.X("column:N", sort=alt.EncodingSortField("column_order"), title=None),
        y=alt.Y("row:N", sort=alt.EncodingSortField("row_order"), title=None),
        color=alt.Color("correlation:Q", scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True),
                        title="Pearson r"),
        tooltip=["n:Q", "row:N", "column:N", alt.Tooltip("correlation:Q", format=".4f")],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=380, height=380, title="Correlation of the features and the label")


def draw_pca(inputs: Inputs) -> alt.Chart:
    data = tables.read_tables(inputs["pca"], ["pc1", "pc2", "label"], add_n=True)
    if data.empty:
        return _empty("No PCA rows")
    data = data.groupby("n", group_keys=False).head(SCATTER_POINTS)
    n = _n_param(data["n"])
    return alt.Chart(_round(data, 4)).mark_circle(size=14, opacity=0.6).encode(
        x=alt.X("pc1:Q", title="first principal component"),
        y=alt.Y("pc2:Q", title="second principal component"),
        color=alt.Color("label:N", scale=LABEL_COLOURS, title="label"),
        tooltip=["n:Q", "row:Q", "label:N", alt.Tooltip("pc1:Q", format=".3f"),
                 alt.Tooltip("pc2:Q", format=".3f"), alt.Tooltip("explained_pc1:Q", format=".2%"),
                 alt.Tooltip("explained_pc2:Q", format=".2%")],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=WIDTH - 120, height=360, title="The labelled rows on their first two principal components")


def xor_slice(X: np.ndarray, y: np.ndarray, informative: Sequence[int], max_points: int,
              seed: int = 0) -> pd.DataFrame:
    """Rows where the informative bits other than the first two have even parity.

    On that slice the label is the XOR of the first two informative bits (up to the label
    noise), so a scatter of those two features shows the four XOR clusters.
    """
    informative = [int(j) for j in informative]
    if len(informative) < 2:
        raise DataError(f"an XOR slice needs two informative features, got {informative}")
    a, b, rest = informative[0], informative[1], informative[2:]
    bits = (np.asarray(X)[:, rest] > 0.5).astype(np.int64)
    on_slice = np.flatnonzero(bits.sum(axis=1) % 2 == 0)
    rng = np.random.default_rng(seed)
    if len(on_slice) > max_points:
        on_slice = np.sort(rng.choice(on_slice, size=max_points, replace=False))
    return pd.DataFrame({
        "row": on_slice, "feature_a": a, "feature_b": b,
        "x_a": np.asarray(X)[on_slice, a].astype(np.float64),
        "x_b": np.asarray(X)[on_slice, b].astype(np.float64),
        "label": np.asarray(y)[on_slice].astype(np.int64),
    })


def draw_xor_slice(inputs: Inputs) -> alt.Chart:
    features = {tables.n_of(p): tables.read_table(p, ["feature", "informative"]) for p in inputs["features"]}
    frames = []
    for x_path, y_path in zip(sorted(inputs["X"], key=tables.n_of), sorted(inputs["y"], key=tables.n_of),
                              strict=True):
        n = tables.n_of(x_path)
        table = features[n]
        informative = _informative(table)
        frame = xor_slice(np.load(x_path), np.load(y_path), informative, SCATTER_POINTS, seed=n)
        frame.insert(0, "n", n)
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    n = _n_param(data["n"])
    return alt.Chart(_round(data, 4)).mark_circle(size=16, opacity=0.65).encode(
        x=alt.X("x_a:Q", title="first informative feature"),
        y=alt.Y("x_b:Q", title="second informative feature"),
        color=alt.Color("label:N", scale=LABEL_COLOURS, title="label"),
        tooltip=["n:Q", "row:Q", "feature_a:Q", "feature_b:Q", alt.Tooltip("x_a:Q", format=".3f"),
                 alt.Tooltip("x_b:Q", format=".3f"), "label:N"],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=420, height=380,
        title="A 2-D slice: rows whose other informative bits have even parity")


# --------------------------------------------------------------------------- models


def draw_accuracy(inputs: Inputs) -> alt.Chart:
    summary = tables.headline_table(inputs.get("summary", []), inputs["metrics"], inputs["truth"])
    summary = summary[summary["test_mean"].notna()]
    if summary.empty:
        return _empty("No fitted models")
    limits = tables.bayes_limits(tables.read_truths(inputs["truth"]))
    reported = summary.dropna(subset=["bayes"]).groupby("n")["bayes"].first()
    limits["bayes"] = limits["n"].map(reported).fillna(limits["bayes"])
    summary = summary.assign(low=summary["test_mean"] - summary["test_std"].fillna(0),
                             high=summary["test_mean"] + summary["test_std"].fillna(0))
    order = _model_order(summary["model"])
    toggle = _legend_toggle("label")
    x = alt.X("n:Q", title="n (features)", scale=alt.Scale(zero=False),
              axis=alt.Axis(values=sorted(limits["n"])))
    colour = alt.Color("label:N", sort=order, title="model (click to isolate)")
    opacity = alt.condition(toggle, alt.value(1.0), alt.value(0.12))
    tooltip = [alt.Tooltip("label:N", title="model"), "n:Q", "repeats:Q",
               alt.Tooltip("test_mean:Q", title="mean test accuracy", format=".4f"),
               alt.Tooltip("test_std:Q", title="std", format=".4f"),
               alt.Tooltip("target:Q", format=".3f"),
               alt.Tooltip("bayes:Q", title="Bayes limit", format=".4f")]
    base = alt.Chart(_round(summary.drop(columns=["passes", "note"]))).encode(
        x=x, color=colour, opacity=opacity)
    bars = base.mark_errorbar(ticks=True).encode(y=alt.Y("low:Q", title="test accuracy",
                                                          scale=alt.Scale(zero=False)), y2="high:Q")
    line = base.mark_line(strokeWidth=1.5).encode(y="test_mean:Q")
    points = base.mark_point(filled=True, size=60).encode(y="test_mean:Q", tooltip=tooltip).add_params(toggle)
    reference = pd.concat([
        pd.DataFrame({"n": list(TARGETS), "accuracy": list(TARGETS.values()), "line": "target"}),
        limits.assign(accuracy=limits["bayes"], line="Bayes limit")[["n", "accuracy", "line"]],
    ], ignore_index=True)
    reference = reference[reference["n"].isin(limits["n"])]
    references = alt.Chart(_round(reference)).mark_line(color="black", point=True, strokeWidth=1).encode(
        x=x, y="accuracy:Q",
        strokeDash=alt.StrokeDash("line:N", title="reference",
                                  scale=alt.Scale(domain=["target", "Bayes limit"], range=[[6, 3], [1, 2]])),
        tooltip=["line:N", "n:Q", alt.Tooltip("accuracy:Q", format=".4f")])
    return alt.layer(references, bars, line, points).properties(
        width=WIDTH - 140, height=340, title="Test accuracy (mean ± std over repeats) against the target")


def thin_curves(data: pd.DataFrame, keys: list[str], points: int) -> pd.DataFrame:
    """At most about ``points`` evenly spaced rows per curve, always keeping its first and last row."""
    def thin(curve: pd.DataFrame) -> pd.DataFrame:
        if len(curve) <= points:
            return curve
        keep = np.unique(np.linspace(0, len(curve) - 1, points).round().astype(int))
        return curve.iloc[keep]

    return pd.concat([thin(curve) for _, curve in data.groupby(keys, sort=False)], ignore_index=True)


def draw_training(inputs: Inputs) -> alt.Chart:
    data = tables.read_tables(inputs["history"], add_n=True, add_repeat=True)
    if data.empty:
        return _empty("No training history rows")
    if "epoch" not in data.columns:
        data["epoch"] = data.groupby(["n", "repeat"]).cumcount() + 1
    data = thin_curves(data, ["n", "repeat"], CURVE_POINTS)
    measures = [c for c in data.columns if c not in ("n", "repeat", "epoch")
                and pd.api.types.is_numeric_dtype(data[c])]
    if not measures:
        raise DataError(f"{inputs['history'][0]}: no numeric column to plot besides the epoch")
    long = data.melt(id_vars=["n", "repeat", "epoch"], value_vars=measures, var_name="measure")
    n = _n_param(long["n"])
    toggle = _legend_toggle("repeat")
    lines = alt.Chart().mark_line(strokeWidth=1.3).encode(
        x=alt.X("epoch:Q", title="epoch"),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color("repeat:N", title="repeat (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.1)),
        tooltip=["n:Q", "repeat:N", "epoch:Q", "measure:N", alt.Tooltip("value:Q", format=".4f")],
    ).transform_filter(alt.datum.n == n).properties(width=250, height=170)
    chart = alt.FacetChart(data=_round(long), spec=lines,
                           facet=alt.Facet("measure:N", title=None, sort=measures), columns=2)
    return chart.add_params(n, toggle).resolve_scale(y="independent").properties(
        title="MLP training curves, one line per repeat")


def draw_sparsity(inputs: Inputs) -> alt.Chart:
    data = tables.read_tables(inputs["coefficients"], ["rank", "monomial", "degree", "coefficient"],
                              add_n=True, add_repeat=True)
    if data.empty:
        return _empty("No coefficient rows")
    data = data[data["rank"] <= SPARSITY_RANKS].copy()
    data["magnitude"] = data["coefficient"].abs()
    data["monomial"] = data["monomial"].map(tables.monomial_name)
    n = _n_param(data["n"])
    toggle = _legend_toggle("repeat")
    return alt.Chart(_round(data)).mark_point(filled=True, size=45).encode(
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


def _informative(table: pd.DataFrame) -> list[int]:
    """The features a features.csv marks informative (its booleans may be read back as text)."""
    return table.loc[table["informative"].astype(str).str.lower() == "true", "feature"].astype(int).tolist()


def support_grid(support: pd.DataFrame, features: Mapping[int, pd.DataFrame]) -> pd.DataFrame:
    """One row per (n, who, feature): is the feature in the support, and how often across rows."""
    rows = []
    for n, table in sorted(features.items()):
        inferred = set(_informative(table))
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
        rows += [{"n": int(n), "who": _label(model), "feature": j, "kind": "model",
                  "share": sum(j in s for s in sets) / len(sets)} for j in range(size)]
    return pd.DataFrame(rows, columns=["n", "who", "feature", "share", "kind"])


def draw_support(inputs: Inputs) -> alt.Chart:
    support = tables.read_tables(inputs["support"], ["model", "n", "features"])
    features = {tables.n_of(p): tables.read_table(p, ["feature", "informative"]) for p in inputs["features"]}
    grid = support_grid(support, features)
    if grid.empty:
        return _empty("No support rows")
    order = list(dict.fromkeys(grid["who"]))
    n = _n_param(grid["n"])
    return alt.Chart(grid).mark_square(size=260).encode(
        x=alt.X("feature:O", title="feature index"),
        y=alt.Y("who:N", sort=order, title=None),
        color=alt.Color("share:Q", title="in the support",
                        scale=alt.Scale(domain=[0, 1], range=["#eeeeee", "#1b7837"])),
        tooltip=["n:Q", alt.Tooltip("who:N", title="support of"), "feature:Q",
                 alt.Tooltip("share:Q", title="share of rows choosing it", format=".2f")],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=WIDTH - 160, title="Features in the parity found by each model, against the truth")


# --------------------------------------------------------------------------- the secret


def draw_families(inputs: Inputs) -> alt.Chart:
    data = tables.read_tables(inputs["features"], ["feature", "residual_std", "kurtosis", "family"],
                              add_n=True)
    if data.empty:
        return _empty("No feature rows")
    has_truth = "true_family" in data.columns
    toggle = _legend_toggle("family")
    tooltip = ["n:Q", "feature:Q", "family:N", alt.Tooltip("residual_std:Q", format=".4f"),
               alt.Tooltip("kurtosis:Q", format=".3f")]
    encoding = {}
    if has_truth:
        tooltip.append("true_family:N")
        encoding["shape"] = alt.Shape("true_family:N", title="true family")
    keep = ["n", "feature", "residual_std", "kurtosis", "family", *(["true_family"] if has_truth else [])]
    spread = [float(data["residual_std"].min()) / 1.4, float(data["residual_std"].max()) * 1.4]
    return alt.Chart(_round(data[keep])).mark_point(filled=True, size=70).encode(
        x=alt.X("residual_std:Q", title="std of value minus nearest bit (log scale)",
                scale=alt.Scale(type="log", domain=spread, nice=False),
                axis=alt.Axis(values=[v for v in LOG_TICKS if spread[0] <= v <= spread[1]])),
        y=alt.Y("kurtosis:Q", title="kurtosis of value minus nearest bit"),
        color=alt.Color("family:N", scale=FAMILY_COLOURS, title="inferred family (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(0.85), alt.value(0.1)),
        tooltip=tooltip, **encoding,
    ).add_params(toggle).properties(width=WIDTH - 160, height=320,
                                    title="Every feature of every n: its noise gives its role away")


# --------------------------------------------------------------------------- robustness

ADVERSARIAL_COLUMNS = ("model", "n", "repeat", "scope", "attack", "eps", "clean_acc", "robust_acc",
                       "label_preserving_acc")


def _attack_curves(data: pd.DataFrame, series: str, series_title: str, title: str) -> alt.TopLevelMixin:
    """Accuracy against ε, one panel per attack, selectors for n and the attacked features."""
    long = data.melt(id_vars=["series", "n", "scope", "attack", "eps", "repeats"],
                     value_vars=["robust_acc", "label_preserving_acc"], var_name="variant",
                     value_name="accuracy")
    long["variant"] = long["variant"].map({"robust_acc": "all perturbations",
                                           "label_preserving_acc": "label-preserving only"})
    n = _n_param(long["n"])
    scopes = [s for s in ("all", "informative", "irrelevant") if s in set(long["scope"])] + sorted(
        set(long["scope"]) - {"all", "informative", "irrelevant"})
    scope = _choice_param("scope_choice", scopes, "features attacked: ")
    toggle = _legend_toggle("series")
    lines = alt.Chart().mark_line(point=True, strokeWidth=1.5).encode(
        x=alt.X("eps:Q", title="ε (L∞, raw units)"),
        y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("series:N", sort=list(dict.fromkeys(data["series"])),
                        title=f"{series_title} (click to isolate)"),
        strokeDash=alt.StrokeDash("variant:N", title="counted"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.08)),
        tooltip=[alt.Tooltip("series:N", title=series_title), "n:Q", "scope:N", "attack:N", "eps:Q",
                 "variant:N", alt.Tooltip("accuracy:Q", format=".4f"), "repeats:Q"],
    ).transform_filter((alt.datum.n == n) & (alt.datum.scope == scope)).properties(width=190, height=170)
    return alt.FacetChart(data=_round(long), spec=lines, facet=alt.Facet("attack:N", title=None),
                          columns=3).add_params(n, scope, toggle).properties(title=title)


def draw_attacks(inputs: Inputs) -> alt.TopLevelMixin:
    data = tables.attack_summary(tables.read_tables(inputs["adversarial"], ADVERSARIAL_COLUMNS))
    if data.empty:
        return _empty("No attack rows")
    data = data.iloc[data["model"].map(tables.model_rank).argsort(kind="stable")]
    data["series"] = data["model"].map(_label)
    return _attack_curves(data, "series", "model", "Accuracy under attack as the budget ε grows")


def draw_activation_attacks(inputs: Inputs) -> alt.TopLevelMixin:
    columns = ["activation", *[c for c in ADVERSARIAL_COLUMNS if c != "model"]]
    data = tables.attack_summary(tables.read_tables(inputs["activation_robustness"], columns),
                                 by="activation")
    if data.empty:
        return _empty("No activation robustness rows")
    data["series"] = data["activation"]
    return _attack_curves(data, "series", "activation", "MLPs with each activation under attack")


NETWORK_MEASURES = ("frobenius", "sigma_max", "sigma_min", "condition", "zero_grad_share", "dead_share",
                    "test_acc")


def draw_network(inputs: Inputs) -> alt.TopLevelMixin:
    data = tables.read_tables(inputs["network"], ["n", "activation", "repeat", "layer"])
    measures = [m for m in NETWORK_MEASURES if m in data.columns]
    if data.empty or not measures:
        return _empty("No network analysis rows")
    long = data.melt(id_vars=["n", "activation", "repeat", "layer"], value_vars=measures, var_name="measure")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    long = long.groupby(["n", "activation", "layer", "measure"], sort=False).agg(
        mean=("value", "mean"), std=("value", "std"), repeats=("repeat", "nunique")).reset_index()
    long["std"] = long["std"].fillna(0.0)
    long = long.assign(low=long["mean"] - long["std"], high=long["mean"] + long["std"],
                       layer=long["layer"].astype(str))
    n = _n_param(long["n"])
    toggle = _legend_toggle("activation")
    base = alt.Chart().encode(
        x=alt.X("layer:N", title=None, sort=list(dict.fromkeys(long["layer"])), axis=alt.Axis(labelAngle=0)),
        xOffset="activation:N",
        color=alt.Color("activation:N", title="activation (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.1)),
    )
    points = base.mark_point(filled=True, size=50).encode(
        y=alt.Y("mean:Q", title=None, scale=alt.Scale(zero=False)),
        tooltip=["n:Q", "activation:N", "layer:N", "measure:N", alt.Tooltip("mean:Q", format=".4g"),
                 alt.Tooltip("std:Q", title="std over repeats", format=".3g"), "repeats:Q"])
    bars = base.mark_rule().encode(y="low:Q", y2="high:Q")
    layered = alt.layer(bars, points).transform_filter(alt.datum.n == n).properties(width=150, height=140)
    chart = alt.FacetChart(data=_round(long), spec=layered,
                           facet=alt.Facet("measure:N", title=None, sort=measures), columns=4)
    return chart.add_params(n, toggle).resolve_scale(y="independent").properties(
        title="The MLP's weight matrices and gradients per layer, by activation (mean ± std over repeats)")


PROBABILITY_COLUMNS = ("probability", "prob", "p", "p1", "proba", "p_one")


def _panel_names(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """A readable panel name from the columns that tell grids apart (model, activation, ...)."""
    if not columns:
        return pd.Series("", index=frame.index)
    parts = frame[list(columns)].astype("string").fillna("")
    if "model" in parts:
        parts["model"] = parts["model"].map(lambda m: _label(m) if m else m)
    # "none" marks a column that does not apply to the row (a rule has no activation)
    return parts.agg(lambda row: " ".join(v for v in row if v and v.lower() not in ("nan", "none")), axis=1)


def boundary_table(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Decision-boundary grids of every n as (n, panel, x, y, probability, feature_x, feature_y).

    The grids come from the attack stage; the non-numeric columns besides the coordinates and
    the probability (model, activation, ...) name the panel each grid is drawn in.
    """
    frames = []
    for path in paths:
        frame = tables.read_table(path, ["x", "y"])
        column = next((c for c in PROBABILITY_COLUMNS if c in frame.columns), None)
        if column is None:
            raise DataError(f"{path}: no probability column "
                            f"(expected one of {', '.join(PROBABILITY_COLUMNS)})")
        labels = [c for c in frame.columns if c not in ("x", "y", column, "n", "repeat")
                  and not c.startswith("feature") and not pd.api.types.is_numeric_dtype(frame[c])]
        frames.append(pd.DataFrame({
            "n": frame["n"].astype(int) if "n" in frame else tables.n_of(path),
            "panel": _panel_names(frame, labels), "x": frame["x"], "y": frame["y"],
            "probability": pd.to_numeric(frame[column], errors="coerce"),
            "feature_x": frame.get("feature_x", np.nan),
            "feature_y": frame.get("feature_y", np.nan),
        }))
    if not frames:
        return pd.DataFrame(columns=["n", "panel", "x", "y", "probability", "feature_x", "feature_y"])
    data = pd.concat(frames, ignore_index=True)
    return data.groupby(["n", "panel", "x", "y"], sort=False, dropna=False).agg(
        probability=("probability", "mean"), feature_x=("feature_x", "first"),
        feature_y=("feature_y", "first")).reset_index()


def draw_boundary(inputs: Inputs) -> alt.Chart:
    data = boundary_table(inputs["boundary"])
    if data.empty:
        return _empty("No decision-boundary rows")
    parts = []
    for _, group in data.groupby(["n", "panel"]):
        for axis in ("x", "y"):
            values = np.sort(group[axis].unique())
            half = np.diff(values).min() / 2 if len(values) > 1 else 0.5
            group = group.assign(**{f"{axis}_low": group[axis] - half, f"{axis}_high": group[axis] + half})
        parts.append(group)
    data = pd.concat(parts, ignore_index=True)
    n = _n_param(data["n"])
    rect = alt.Chart().mark_rect().encode(
        x=alt.X("x_low:Q", title="first informative feature", scale=alt.Scale(nice=False)), x2="x_high:Q",
        y=alt.Y("y_low:Q", title="second informative feature", scale=alt.Scale(nice=False)), y2="y_high:Q",
        color=alt.Color("probability:Q", title="P(y = 1)",
                        scale=alt.Scale(scheme="blueorange", domain=[0, 1])),
        tooltip=["n:Q", alt.Tooltip("panel:N", title="model"),
                 alt.Tooltip("feature_x:Q", title="feature (x)"), alt.Tooltip("x:Q", format=".3f"),
                 alt.Tooltip("feature_y:Q", title="feature (y)"), alt.Tooltip("y:Q", format=".3f"),
                 alt.Tooltip("probability:Q", title="P(y = 1)", format=".4f")],
    ).transform_filter(alt.datum.n == n).properties(width=160, height=160)
    return alt.FacetChart(data=_round(data, 5), spec=rect, facet=alt.Facet("panel:N", title=None),
                          columns=3).add_params(n).properties(
        title="Decision boundaries on a 2-D slice through two informative features")


# --------------------------------------------------------------------------- carbon

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
    carbon["label"] = [_label(m) if m else "(no model)" for m in carbon["model"]]
    for column in ("duration_s", "energy_kwh", "emissions_kg"):
        carbon[column] = pd.to_numeric(carbon[column], errors="coerce")
    return carbon


def draw_carbon_stages(inputs: Inputs) -> alt.Chart:
    carbon = _carbon_table(inputs)
    if carbon.empty:
        return _empty("No carbon rows")
    quantity, title = carbon_quantity(carbon)
    totals = carbon.groupby(["stage", "label"], sort=False).agg(
        value=(quantity, "sum"), emissions_kg=("emissions_kg", "sum"), duration_s=("duration_s", "sum"),
        jobs=("stage", "size")).reset_index()
    toggle = _legend_toggle("label")
    return alt.Chart(_round(totals)).mark_bar().encode(
        y=alt.Y("stage:N", title=None, sort=["data", "train", "inference", "attack", "report"]),
        x=alt.X("value:Q", title=title, stack=True),
        color=alt.Color("label:N", title="model (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.15)),
        tooltip=["stage:N", alt.Tooltip("label:N", title="model"),
                 alt.Tooltip("value:Q", title=title, format=".4g"),
                 alt.Tooltip("emissions_kg:Q", title="emissions (kg CO₂eq)", format=".3g"),
                 alt.Tooltip("duration_s:Q", title="duration (s)", format=".4g"), "jobs:Q"],
    ).add_params(toggle).properties(width=WIDTH - 160, height=170, title=f"Per stage: {title}")


def draw_carbon_models(inputs: Inputs) -> alt.Chart:
    carbon = _carbon_table(inputs)
    carbon = carbon[carbon["stage"].isin(["train", "inference"]) & (carbon["model"] != "")]
    if carbon.empty:
        return _empty("No training or inference rows")
    quantity, title = carbon_quantity(carbon)
    totals = carbon.groupby(["label", "n", "stage"], sort=False).agg(
        value=(quantity, "sum"), emissions_kg=("emissions_kg", "sum"), duration_s=("duration_s", "sum"),
    ).reset_index()
    totals = totals[totals["value"] > 0]
    toggle = _legend_toggle("label")
    return alt.Chart(_round(totals)).mark_line(point=True).encode(
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


# --------------------------------------------------------------------------- runtimes


def draw_runtimes(inputs: Inputs) -> alt.Chart:
    data = tables.benchmark_table(inputs["logs"][0])
    if data.empty:
        return _empty("No benchmark files")
    toggle = _legend_toggle("stage")
    return alt.Chart(_round(data)).mark_bar().encode(
        y=alt.Y("job:N", sort="-x", title=None),
        x=alt.X("s:Q", title="wall-clock seconds"),
        color=alt.Color("stage:N", title="stage (click to isolate)"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.15)),
        tooltip=["job:N", alt.Tooltip("s:Q", title="seconds", format=".2f"),
                 alt.Tooltip("cpu_time_s:Q", title="CPU seconds", format=".2f"),
                 alt.Tooltip("max_rss_mb:Q", title="peak memory (MB)", format=".0f")],
    ).add_params(toggle).properties(width=WIDTH - 260, height=alt.Step(13),
                                    title="Wall-clock time of every job (Snakemake benchmarks)")


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Figure:
    name: str
    family: str
    #: Input keys that must each hold at least one file for the figure to be drawn.
    needs: tuple[str, ...]
    draw: Callable[[Inputs], alt.TopLevelMixin]
    #: Input keys read when present.
    uses: tuple[str, ...] = ()


FIGURES = (
    Figure("data_histograms", "data", ("histograms",), draw_histograms),
    Figure("data_correlation", "data", ("correlation",), draw_correlation),
    Figure("data_pca", "data", ("pca",), draw_pca),
    Figure("data_xor_slice", "data", ("X", "y", "features"), draw_xor_slice),
    Figure("models_accuracy", "models", ("metrics", "truth"), draw_accuracy, uses=("summary",)),
    Figure("models_training", "models", ("history",), draw_training),
    Figure("models_sparsity", "models", ("coefficients",), draw_sparsity),
    Figure("models_support", "models", ("support", "features"), draw_support),
    Figure("secret_families", "secret", ("features",), draw_families),
    Figure("robustness_attacks", "robustness", ("adversarial",), draw_attacks),
    Figure("robustness_network", "robustness", ("network",), draw_network),
    Figure("robustness_activations", "robustness", ("activation_robustness",), draw_activation_attacks),
    Figure("robustness_boundary", "robustness", ("boundary",), draw_boundary),
    Figure("carbon_stages", "carbon", ("carbon",), draw_carbon_stages),
    Figure("carbon_models", "carbon", ("carbon",), draw_carbon_models),
    # The benchmarks exist only once their jobs finished, so they are found, not declared.
    Figure("runtime_jobs", "runtime", (), draw_runtimes),
)
FAMILIES = tuple(dict.fromkeys(f.family for f in FIGURES))
BY_NAME = {f.name: f for f in FIGURES}


def figure_names(family: str, inputs: Mapping[str, Sequence]) -> list[str]:
    """The figures of ``family`` that the run's inputs allow."""
    if family not in FAMILIES:
        raise ValueError(f"unknown figure family {family!r}; expected one of {FAMILIES}")
    return [f.name for f in FIGURES if f.family == family and all(inputs.get(key) for key in f.needs)]


def family_inputs(family: str, sources: Mapping[str, Sequence]) -> dict[str, list]:
    """The source files the drawable figures of ``family`` read (non-empty keys only)."""
    keys = [key for f in FIGURES if f.name in figure_names(family, sources) for key in (*f.needs, *f.uses)]
    return {key: list(sources[key]) for key in dict.fromkeys(keys) if sources.get(key)}


def chart_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec with its data inlined (the site fetches one file per chart)."""
    with alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict()


def spec_script(name: str, spec_json: str) -> str:
    """The spec as a script that registers it under ``name`` for the site's embed.js.

    A page loads it with a script tag, which browsers also allow for pages opened from disk
    (file://), where fetching the JSON file is refused.
    """
    return f"(window.kryptoniteSpecs = window.kryptoniteSpecs || {{}})[{json.dumps(name)}] = {spec_json};\n"


def write_figure(chart: alt.TopLevelMixin, spec_path: Path | str, svg_path: Path | str,
                 script_path: Path | str) -> None:
    """Write the interactive spec (compact JSON, and as a script) and its static SVG rendering."""
    import vl_convert

    spec = chart_spec(chart)
    spec_json = json.dumps(spec, separators=(",", ":"), sort_keys=True, allow_nan=False)
    with atomic_path(spec_path) as tmp:
        tmp.write_text(spec_json)
    with atomic_path(script_path) as tmp:
        tmp.write_text(spec_script(Path(spec_path).stem, spec_json))
    svg = vl_convert.vegalite_to_svg(spec, vl_version=alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0])
    with atomic_path(svg_path) as tmp:
        tmp.write_text(svg)


def as_lists(files: Mapping[str, object]) -> dict[str, list[str]]:
    """Snakemake gives a named input of one file as a string: make every value a list."""
    return {key: [value] if isinstance(value, str | Path) else [str(v) for v in value]
            for key, value in files.items()}


def draw_family(family: str, inputs: Mapping[str, object], outputs: Mapping[str, str | Path], *,
                logs_dir: Path | str = "logs") -> list[str]:
    """Draw every figure of ``family``.

    ``outputs`` holds ``{name}`` (the spec), ``{name}_svg`` and ``{name}_script``.
    """
    from tqdm import tqdm

    from kryptonite_n.carbon import phase

    inputs = {**as_lists(inputs), "logs": [str(logs_dir)]}
    names = figure_names(family, inputs)
    missing = [name for name in names
               if not all(key in outputs for key in (name, f"{name}_svg", f"{name}_script"))]
    if missing:
        raise ValueError(f"no output paths for figure(s) {', '.join(missing)}")
    with phase("report"):
        for name in tqdm(names, desc=f"{family} figures"):
            write_figure(BY_NAME[name].draw(inputs), outputs[name], outputs[f"{name}_svg"],
                         outputs[f"{name}_script"])
    return names
