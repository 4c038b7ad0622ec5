"""Figures of the Data page: feature histograms, correlations, PCA and the XOR slice."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from kryptonite_n import streams
from kryptonite_n.compute.explore import feature_thresholds, informative_features, separation
from kryptonite_n.compute.gf2 import search_parity
from kryptonite_n.io import DataError
from kryptonite_n.report.figures._shared import (
    FAMILY_COLOURS,
    LABEL_COLOURS,
    WIDTH,
    Drawing,
    Inputs,
    count,
    empty,
    list_n,
    n_param,
    round_frame,
)
from kryptonite_n.tables import results as tables

#: Points per n kept for scatter plots: enough to see the structure, small enough to ship.
SCATTER_POINTS = 1200


def draw_histograms(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["histograms"], ["feature", "family", "bin_start", "bin_end", "pmf"],
                              add_n=True)
    if data.empty:
        return empty("No histogram rows")
    data["value"] = (data["bin_start"] + data["bin_end"]) / 2
    data = round_frame(data[["n", "feature", "family", "value", "bin_start", "bin_end", "pmf"]])
    n = n_param(data["n"])
    lines = alt.Chart().mark_line(interpolate="step", opacity=0.75, strokeWidth=1.2).encode(
        x=alt.X("value:Q", title="feature value"),
        y=alt.Y("pmf:Q", title="share of rows per bin"),
        color=alt.Color("family:N", scale=FAMILY_COLOURS, title="noise family"),
        detail="feature:N",
        tooltip=["n:Q", "feature:Q", "family:N", alt.Tooltip("bin_start:Q", format=".3f"),
                 alt.Tooltip("bin_end:Q", format=".3f"), alt.Tooltip("pmf:Q", format=".4f")],
    ).transform_filter(alt.datum.n == n).properties(width=175, height=180)
    chart = alt.FacetChart(data=data, spec=lines, facet=alt.Facet(
        "family:N", title=None, sort=["uniform", "laplace", "gaussian"]), columns=3).add_params(
        n).resolve_scale(y="independent").properties(
        title="Each feature's values, by noise family (one line per feature)")
    features = data.drop_duplicates(["n", "feature"])
    per_family = features.groupby("family").size()
    families = ", ".join(f"{per_family.get(f, 0)} {f}" for f in ("uniform", "laplace", "gaussian"))
    description = (f"Histograms of the values of {count(len(features), 'feature')} for {list_n(data['n'])}, "
                   f"one line per feature, in one panel per noise family ({families}).")
    return Drawing(chart, data, description)


def draw_correlation(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["correlation"], ["row", "column", "correlation"], add_n=True)
    if data.empty:
        return empty("No correlation rows")
    order = {name: i for i, name in enumerate(
        sorted(set(data["row"]), key=lambda s: (s == "label", int(s[1:]) if s[1:].isdigit() else 0)))}
    data["row_order"] = data["row"].map(order)
    data["column_order"] = data["column"].map(order)
    data = round_frame(data)
    n = n_param(data["n"])
    chart = alt.Chart(data).mark_rect().encode(
        x=alt.X("column:N", sort=alt.EncodingSortField("column_order"), title=None),
        y=alt.Y("row:N", sort=alt.EncodingSortField("row_order"), title=None),
        color=alt.Color("correlation:Q", scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True),
                        title="Pearson r"),
        tooltip=["n:Q", "row:N", "column:N", alt.Tooltip("correlation:Q", format=".4f")],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=380, height=380, title="Correlation of the features and the label")
    with_label = data[(data["column"] == "label") & (data["row"] != "label")]
    description = f"Pearson correlation of every pair of features and the label, for {list_n(data['n'])}."
    if len(with_label):
        strongest = with_label.loc[with_label["correlation"].abs().idxmax()]
        description += (f" The strongest feature–label correlation is r = {strongest['correlation']:.3f} "
                        f"({strongest['row']}, n = {int(strongest['n'])}): one feature alone says "
                        f"almost nothing about a parity label.")
    return Drawing(chart, data, description)


def draw_pca(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["pca"], ["pc1", "pc2", "label"], add_n=True)
    if data.empty:
        return empty("No PCA rows")
    data = round_frame(data.groupby("n", group_keys=False).head(SCATTER_POINTS), 4)
    description = (f"Scatter of {count(len(data), 'labelled row')} on their first two principal "
                   f"components, coloured by label, for {list_n(data['n'])}.")
    if {"explained_pc1", "explained_pc2"} <= set(data.columns):
        explained = (data["explained_pc1"] + data["explained_pc2"]).groupby(data["n"]).first()
        description += (f" The two components explain {explained.min():.1%} to {explained.max():.1%} "
                        f"of the variance.")
    # The shares explained are one number per n, said in the description, not repeated per row.
    data = data[[c for c in ("n", "row", "pc1", "pc2", "label") if c in data.columns]]
    n = n_param(data["n"])
    chart = alt.Chart(data).mark_circle(size=14, opacity=0.6).encode(
        x=alt.X("pc1:Q", title="first principal component"),
        y=alt.Y("pc2:Q", title="second principal component"),
        color=alt.Color("label:N", scale=LABEL_COLOURS, title="label"),
        tooltip=["n:Q", *(["row:Q"] if "row" in data.columns else []), "label:N",
                 alt.Tooltip("pc1:Q", format=".3f"), alt.Tooltip("pc2:Q", format=".3f")],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=WIDTH - 120, height=360, title="The labelled rows on their first two principal components")
    return Drawing(chart, data, description)


def xor_slice(X: np.ndarray, y: np.ndarray, informative: Sequence[int], max_points: int,
              n: int = 0) -> pd.DataFrame:
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
    rng = streams.rng("xor_slice_sample", n=n)
    if len(on_slice) > max_points:
        on_slice = np.sort(rng.choice(on_slice, size=max_points, replace=False))
    return pd.DataFrame({
        "row": on_slice, "feature_a": a, "feature_b": b,
        "x_a": np.asarray(X)[on_slice, a].astype(np.float64),
        "x_b": np.asarray(X)[on_slice, b].astype(np.float64),
        "label": np.asarray(y)[on_slice].astype(np.int64),
    })


def slice_features(table: pd.DataFrame, X: np.ndarray, y: np.ndarray, n: int) -> tuple[list[int], str]:
    """The informative set the slice is drawn on, and where it comes from: the noise shapes when
    they separate the features, else the parity the GF(2) search finds on the labelled rows."""

    if "family" not in table.columns or separation(table) is None:
        return informative_features(table), "noise shapes"
    rng = streams.rng("xor_slice_search", n=n)
    w, _ = search_parity(np.asarray(X) > feature_thresholds(X), np.asarray(y), extra_rows=4, rng=rng,
                         max_subsets=2000, miss_probability=1e-6)
    return np.flatnonzero(w[:n]).tolist(), "GF(2) search"


def draw_xor_slice(inputs: Inputs) -> Drawing:
    features = {tables.n_of(p): tables.read_table(p, ["feature", "informative"]) for p in inputs["features"]}
    frames, sources = [], set()
    for x_path, y_path in zip(sorted(inputs["X"], key=tables.n_of), sorted(inputs["y"], key=tables.n_of),
                              strict=True):
        n = tables.n_of(x_path)
        X, y = np.load(x_path), np.load(y_path)
        chosen, source = slice_features(features[n], X, y, n)
        if len(chosen) < 2:
            continue  # no parity of two or more features found: nothing to slice
        sources.add(source)
        frame = xor_slice(X, y, chosen, SCATTER_POINTS, n=n)
        frame.insert(0, "n", n)
        frames.append(frame)
    if not frames:
        return empty("No informative set of two or more features was found at any n.")
    data = round_frame(pd.concat(frames, ignore_index=True), 4)
    n = n_param(data["n"])
    chart = alt.Chart(data).mark_circle(size=16, opacity=0.65).encode(
        x=alt.X("x_a:Q", title="first informative feature"),
        y=alt.Y("x_b:Q", title="second informative feature"),
        color=alt.Color("label:N", scale=LABEL_COLOURS, title="label"),
        tooltip=["n:Q", "row:Q", "feature_a:Q", "feature_b:Q", alt.Tooltip("x_a:Q", format=".3f"),
                 alt.Tooltip("x_b:Q", format=".3f"), "label:N"],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=420, height=380,
        title="A 2-D slice: rows whose other informative bits have even parity")
    agrees = ((data["x_a"] > 0.5) ^ (data["x_b"] > 0.5)) == (data["label"] == 1)
    description = (f"Scatter of {count(len(data), 'row')} of {list_n(data['n'])} on two informative "
                   f"features (the set found by {' and '.join(sorted(sources))}), "
                   f"restricted to rows whose other informative bits have even parity, "
                   f"coloured by label: four clusters, where the label equals the XOR of the two "
                   f"features' bits in {agrees.mean():.1%} of the rows shown.")
    return Drawing(chart, data, description)
