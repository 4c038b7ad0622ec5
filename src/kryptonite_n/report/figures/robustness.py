"""Figures of the Robustness page: accuracy under attack, the MLP's weight matrices, and the
decision boundaries on a 2-D slice (drawn as one small image per model, not one mark per cell)."""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from kryptonite_n.io import DataError
from kryptonite_n.report.figures._shared import (
    Drawing,
    Inputs,
    choice_param,
    count,
    empty,
    legend_toggle,
    list_n,
    n_param,
    round_frame,
)
from kryptonite_n.tables import results as tables

ADVERSARIAL_COLUMNS = ("model", "n", "repeat", "scope", "attack", "bound", "eps", "clean_acc",
                       "robust_acc", "label_preserving_acc", "points", "label_preserving_points")
#: Bounds that bound the worst case (searched or exact); noise is an average, never ranked with them.
WORST_CASE_BOUNDS = ("exact", "upper")
NETWORK_MEASURES = ("frobenius", "sigma_max", "sigma_min", "condition", "zero_grad_share", "dead_share",
                    "test_acc")
#: Panel titles in words.
MEASURE_LABELS = {
    "frobenius": "Frobenius norm", "sigma_max": "largest singular value",
    "sigma_min": "smallest singular value", "condition": "condition number",
    "zero_grad_share": "share of zero weight gradients",
    "dead_share": "share of parameters no test point moves",
    "test_acc": "test accuracy",
}
PROBABILITY_COLUMNS = ("probability", "prob", "p", "p1", "proba", "p_one")
#: Grid points per axis drawn of a decision boundary: a 160-pixel panel shows no more, and the
#: data behind the figure (its CSV) stays small.
BOUNDARY_CELLS = 41
#: Pixels per side of a decision-boundary panel.
BOUNDARY_PANEL = 160
#: P(y = 1) = 0, ½ and 1: blue, light grey, orange (a diverging scale colour-blind readers see).
BOUNDARY_STOPS = ((0.0, (0x00, 0x72, 0xB2)), (0.5, (0xF2, 0xF2, 0xF2)), (1.0, (0xE6, 0x9F, 0x00)))


def _panel(attack: str, bound: str) -> str:
    return f"{attack} ({tables.BOUND_WORDS.get(bound, bound)})"


def attack_long(data: pd.DataFrame) -> pd.DataFrame:
    """``tables.attack_summary`` rows as one row per (series, n, scope, attack, eps, variant):
    the accuracy, what kind of number it is (``bound``, and in words in ``panel``), and the
    points it is pooled from (label-preserving: empty below ``tables.MIN_PRESERVING_POINTS``)."""
    keep = ["series", "n", "scope", "attack", "bound", "eps", "repeats"]
    long = data.melt(id_vars=[*keep, "points", "label_preserving_points"],
                     value_vars=["robust_acc", "label_preserving_acc"], var_name="variant",
                     value_name="accuracy")
    preserving = long["variant"] == "label_preserving_acc"
    long["points"] = long["points"].where(~preserving, long["label_preserving_points"]).astype(int)
    long["variant"] = long["variant"].map({"robust_acc": "all perturbations",
                                           "label_preserving_acc": "label-preserving only"})
    long["panel"] = [_panel(a, b) for a, b in zip(long["attack"], long["bound"], strict=True)]
    return round_frame(long[[*keep[:5], "panel", "eps", "variant", "accuracy", "points", "repeats"]])


def _attack_curves(data: pd.DataFrame, series_title: str,
                   title: str) -> tuple[alt.TopLevelMixin, pd.DataFrame]:
    """Accuracy against ε, one panel per attack named with its kind of bound, selectors for n
    and the attacked features."""
    long = attack_long(data)
    n = n_param(long["n"])
    scopes = [s for s in ("all", "informative", "irrelevant") if s in set(long["scope"])] + sorted(
        set(long["scope"]) - {"all", "informative", "irrelevant"})
    scope = choice_param("scope_choice", scopes, "features attacked: ")
    toggle = legend_toggle("series")
    lines = alt.Chart().mark_line(point=True, strokeWidth=1.5).encode(
        x=alt.X("eps:Q", title="ε (L∞, raw units)"),
        y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("series:N", sort=list(dict.fromkeys(data["series"])),
                        title=f"{series_title} (click to isolate)"),
        strokeDash=alt.StrokeDash("variant:N", title="counted"),
        opacity=alt.condition(toggle, alt.value(1.0), alt.value(0.08)),
        tooltip=[alt.Tooltip("series:N", title=series_title), "n:Q", "scope:N", "attack:N",
                 alt.Tooltip("panel:N", title="what the number is"), "eps:Q", "variant:N",
                 alt.Tooltip("accuracy:Q", format=".4f"),
                 alt.Tooltip("points:Q", title="points (pooled over repeats)"), "repeats:Q"],
    ).transform_filter((alt.datum.n == n) & (alt.datum.scope == scope)).properties(width=190, height=170)
    # Panels by kind of number: the exact worst case, the upper bounds, then the noise averages.
    order = {"exact": 0, "upper": 1, "average": 2}
    panels = [p for _, _, p in sorted({(order.get(b, 3), a, p) for a, b, p
                                       in zip(long["attack"], long["bound"], long["panel"], strict=True)})]
    chart = alt.FacetChart(data=long, spec=lines, facet=alt.Facet("panel:N", title=None, sort=panels),
                           columns=3).add_params(n, scope, toggle).properties(title=title)
    return chart, long


def _names(frame: pd.DataFrame) -> str:
    return ", ".join(f"{a} ({tables.BOUND_WORDS.get(b, b)})"
                     for a, b in frame[["attack", "bound"]].drop_duplicates().sort_values("attack")
                     .itertuples(index=False))


def _extremes(rows: pd.DataFrame, what: str) -> str:
    low, high = rows.loc[rows["robust_acc"].idxmin()], rows.loc[rows["robust_acc"].idxmax()]
    return (f"{what} ranges from {low['robust_acc']:.3f} ({low['series']}, {low['attack']}, "
            f"n = {int(low['n'])}) to {high['robust_acc']:.3f} ({high['series']}, {high['attack']}, "
            f"n = {int(high['n'])})")


def _attack_description(data: pd.DataFrame, who: str) -> str:
    """The attack curves in words: what was attacked, what kind of number each attack gives, and
    the extremes at the largest budget, the worst-case bounds apart from the noise averages."""
    eps_max = float(data["eps"].max())
    bounding = data[data["bound"].isin(WORST_CASE_BOUNDS)]
    noise = data[~data["bound"].isin(WORST_CASE_BOUNDS)]
    kinds = []
    if len(bounding):
        kinds.append(f"{count(bounding['attack'].nunique(), 'attack')} ({_names(bounding)})")
    if len(noise):
        kinds.append(f"{count(noise['attack'].nunique(), 'kind')} of random noise ({_names(noise)})")
    text = (f"Accuracy under {' and '.join(kinds)} of {count(data['series'].nunique(), who)} for "
            f"{list_n(data['n'])}, against the L∞ budget ε from {float(data['eps'].min()):g} to "
            f"{eps_max:g}, pooled over repeats.")
    last = data[(data["eps"] == eps_max) & (data["scope"] == "all")].dropna(subset=["robust_acc"])
    parts = []
    worst = last[last["bound"].isin(WORST_CASE_BOUNDS)]
    if len(worst):
        # Per series and n, the lowest bound on its worst case (an exact row wins a tie).
        worst = worst.assign(_exact=worst["bound"] != "exact").sort_values(["robust_acc", "_exact"])
        worst = worst.groupby(["series", "n"], sort=False).head(1)
        parts.append(_extremes(worst, "the best bound on the worst-case accuracy"))
    averaged = last[~last["bound"].isin(WORST_CASE_BOUNDS)]
    if len(averaged):
        parts.append(_extremes(averaged, "the average accuracy under random noise (not a bound)"))
    if parts:
        text += f" At ε = {eps_max:g} on every feature, {'; '.join(parts)}."
    return text


def draw_attacks(inputs: Inputs) -> Drawing:
    data = tables.attack_summary(tables.read_tables(inputs["adversarial"], ADVERSARIAL_COLUMNS))
    if data.empty:
        return empty("No attack rows")
    data = data.iloc[data["model"].map(tables.model_rank).argsort(kind="stable")]
    data["series"] = data["model"].map(tables.model_label)
    chart, long = _attack_curves(data, "model", "Accuracy under attack as the budget ε grows")
    return Drawing(chart, long, _attack_description(data, "model"))


def draw_activation_attacks(inputs: Inputs) -> Drawing:
    columns = ["activation", *[c for c in ADVERSARIAL_COLUMNS if c != "model"]]
    data = tables.attack_summary(tables.read_tables(inputs["activation_robustness"], columns),
                                 by="activation")
    if data.empty:
        return empty("No activation robustness rows")
    data["series"] = data["activation"]
    chart, long = _attack_curves(data, "activation", "MLPs with each activation under attack")
    return Drawing(chart, long, _attack_description(data, "MLP activation"))


def draw_network(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["network"], ["n", "activation", "repeat", "layer"])
    measures = [m for m in NETWORK_MEASURES if m in data.columns]
    if data.empty or not measures:
        return empty("No network analysis rows")
    long = data.melt(id_vars=["n", "activation", "repeat", "layer"], value_vars=measures, var_name="measure")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    long = long.groupby(["n", "activation", "layer", "measure"], sort=False).agg(
        mean=("value", "mean"), std=("value", "std"), repeats=("repeat", "nunique")).reset_index()
    long["std"] = long["std"].fillna(0.0)
    long = round_frame(long.assign(low=long["mean"] - long["std"], high=long["mean"] + long["std"],
                                   layer=long["layer"].astype(str),
                                   measure=long["measure"].map(lambda m: MEASURE_LABELS.get(m, m))))
    n = n_param(long["n"])
    toggle = legend_toggle("activation")
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
    chart = alt.FacetChart(data=long, spec=layered,
                           facet=alt.Facet("measure:N", title=None,
                                           sort=[MEASURE_LABELS.get(m, m) for m in measures]), columns=4)
    chart = chart.add_params(n, toggle).resolve_scale(y="independent").properties(
        title="The MLP's weight matrices and gradients per layer, by activation (mean ± std over repeats)")
    activations = list(dict.fromkeys(long["activation"]))
    description = (f"{count(len(measures), 'measure')} of the MLP's weight matrices and gradients "
                   f"({', '.join(measures)}) per layer, for {count(len(activations), 'activation')} "
                   f"({', '.join(activations)}) and {list_n(long['n'])}: mean ± std over "
                   f"{int(long['repeats'].min())} to {int(long['repeats'].max())} repeats.")
    return Drawing(chart, long, description)


def _panel_names(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """A readable panel name from the columns that tell grids apart (model, activation, ...)."""
    if not columns:
        return pd.Series("", index=frame.index)
    parts = frame[list(columns)].astype("string").fillna("")
    if "model" in parts:
        parts["model"] = parts["model"].map(lambda m: tables.model_label(m) if m else m)

    def name(values: tuple) -> str:
        # "none" marks a column that does not apply to the row (a rule has no activation)
        return " ".join(v for v in values if v and v.lower() not in ("nan", "none"))

    # Named once per distinct combination: a grid has thousands of rows but a few panels.
    keys = list(parts.itertuples(index=False, name=None))
    names = {key: name(key) for key in set(keys)}
    return pd.Series([names[key] for key in keys], index=frame.index, dtype=object)


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


def coarsen_grid(data: pd.DataFrame, cells: int) -> pd.DataFrame:
    """Keep every k-th grid value per axis and (n, panel), k the smallest with at most ``cells`` left.

    A grid of 2m + 1 points keeps m + 1 of them, its ends included (81 -> 41).
    """
    parts = []
    for _, group in data.groupby(["n", "panel"], sort=False):
        keep = {}
        for axis in ("x", "y"):
            values = np.sort(group[axis].unique())
            stride = max(1, math.ceil((len(values) - 1) / max(cells - 1, 1)))
            keep[axis] = values[::stride]
        parts.append(group[group["x"].isin(keep["x"]) & group["y"].isin(keep["y"])])
    return pd.concat(parts, ignore_index=True) if parts else data


def probability_colours(probability: np.ndarray) -> np.ndarray:
    """RGBA pixels for P(y = 1) on ``BOUNDARY_STOPS`` (linear in RGB); a missing value is transparent."""
    p = np.clip(np.nan_to_num(probability, nan=0.5), 0.0, 1.0)
    stops = np.array([s for s, _ in BOUNDARY_STOPS])
    colours = np.array([c for _, c in BOUNDARY_STOPS], dtype=np.float64)
    rgb = np.stack([np.interp(p, stops, colours[:, k]) for k in range(3)], axis=-1)
    alpha = np.where(np.isnan(probability), 0, 255)[..., None]
    return np.concatenate([np.round(rgb), alpha], axis=-1).astype(np.uint8)


def png_data_url(rgba: np.ndarray) -> str:
    """An RGBA image (rows top to bottom) as a PNG data URL: no imaging library needed."""
    height, width, _ = rgba.shape

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + rgba[row].tobytes() for row in range(height))  # filter 0 per row
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def boundary_images(data: pd.DataFrame) -> pd.DataFrame:
    """One row per (n, panel): its grid as a PNG data URL, and the extent the image covers."""
    rows = []
    for (n, panel), group in data.groupby(["n", "panel"], sort=False):
        grid = group.pivot_table(index="y", columns="x", values="probability", aggfunc="mean", dropna=False)
        grid = grid.sort_index(ascending=False)  # the image's first row is the largest y
        xs, ys = grid.columns.to_numpy(dtype=float), grid.index.to_numpy(dtype=float)
        half_x = np.diff(xs).min() / 2 if len(xs) > 1 else 0.5
        half_y = np.abs(np.diff(ys)).min() / 2 if len(ys) > 1 else 0.5
        rows.append({
            "n": int(n), "panel": panel, "url": png_data_url(probability_colours(grid.to_numpy(float))),
            "x_low": xs.min() - half_x, "x_high": xs.max() + half_x,
            "y_low": ys.min() - half_y, "y_high": ys.max() + half_y,
            "x_mid": (xs.min() + xs.max()) / 2, "y_mid": (ys.min() + ys.max()) / 2,
            "feature_x": group["feature_x"].iloc[0], "feature_y": group["feature_y"].iloc[0],
            "cells": f"{len(xs)}×{len(ys)}",
            "share_one": float((group["probability"] > 0.5).mean()),
        })
    return pd.DataFrame(rows)


def boundary_csv(data: pd.DataFrame) -> pd.DataFrame:
    """The drawn grids, one row per (n, panel, y) and one column per x: compact, spreadsheet-ready."""
    wide = data.pivot_table(index=["n", "panel", "feature_x", "feature_y", "y"], columns="x",
                            values="probability", aggfunc="mean", dropna=False)
    wide.columns = [f"p at x={x:.4g}" for x in wide.columns]
    return round_frame(wide.reset_index(), 4)


def draw_boundary(inputs: Inputs) -> Drawing:
    data = boundary_table(inputs["boundary"])
    if data.empty:
        return empty("No decision-boundary rows")
    data = coarsen_grid(data, BOUNDARY_CELLS)
    images = boundary_images(data)
    n = n_param(images["n"])
    x_domain = [float(images["x_low"].min()), float(images["x_high"].max())]
    y_domain = [float(images["y_low"].min()), float(images["y_high"].max())]
    stops = [s for s, _ in BOUNDARY_STOPS]
    colours = ["#{:02x}{:02x}{:02x}".format(*c) for _, c in BOUNDARY_STOPS]
    image = alt.Chart().mark_image(width=BOUNDARY_PANEL, height=BOUNDARY_PANEL, aspect=False,
                                   align="center", baseline="middle").encode(
        x=alt.X("x_mid:Q", title="first informative feature",
                scale=alt.Scale(domain=x_domain, nice=False, zero=False)),
        y=alt.Y("y_mid:Q", title="second informative feature",
                scale=alt.Scale(domain=y_domain, nice=False, zero=False)),
        url="url:N",
        tooltip=["n:Q", alt.Tooltip("panel:N", title="model"),
                 alt.Tooltip("feature_x:Q", title="feature (x)"),
                 alt.Tooltip("feature_y:Q", title="feature (y)"), alt.Tooltip("cells:N", title="grid"),
                 alt.Tooltip("share_one:Q", title="share of the slice labelled 1", format=".1%")])
    # An invisible mark carries the colour scale, so the images get their legend.
    legend = alt.Chart().mark_point(opacity=0).encode(
        x="x_mid:Q", y="y_mid:Q",
        color=alt.Color("share_one:Q", title="P(y = 1)",
                        scale=alt.Scale(domain=stops, range=colours, interpolate="rgb")))
    layered = alt.layer(image, legend).transform_filter(alt.datum.n == n).properties(
        width=BOUNDARY_PANEL, height=BOUNDARY_PANEL)
    chart = alt.FacetChart(data=round_frame(images, 5), spec=layered, facet=alt.Facet("panel:N", title=None),
                           columns=3).add_params(n).properties(
        title="Decision boundaries on a 2-D slice through two informative features")
    share = images.groupby("panel")["share_one"].mean()
    description = (f"P(y = 1) of {count(len(share), 'model')} ({', '.join(share.index)}) on a 2-D slice "
                   f"through two informative features for {list_n(images['n'])}, on a "
                   f"{images['cells'].iloc[0]} grid, blue for 0 and orange for 1. The share of the "
                   f"slice labelled 1 ranges from {images['share_one'].min():.0%} to "
                   f"{images['share_one'].max():.0%}.")
    return Drawing(chart, boundary_csv(data), description)
