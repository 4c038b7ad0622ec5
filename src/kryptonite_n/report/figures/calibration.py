"""The Calibration page's figures: reliability diagrams, calibration errors by n, and how an
ensemble of repeats grows (``results/reliability.csv``, ``calibration.csv``, ``ensembles.csv``)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from kryptonite_n.report.figures._shared import (
    REFERENCE_GREY,
    WIDTH,
    Drawing,
    Inputs,
    choice_param,
    count,
    empty,
    list_n,
    model_order,
    n_param,
    round_frame,
)
from kryptonite_n.tables import results as tables
from kryptonite_n.tables.calibration import CALIBRATION_COLUMNS, RELIABILITY_COLUMNS
from kryptonite_n.tables.ensembles import ENSEMBLE_COLUMNS
from kryptonite_n.tables.results import model_label

BINNING_LABELS = {"uniform": "uniform bins", "equal_mass": "equal-mass bins"}


def draw_reliability(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["reliability"], RELIABILITY_COLUMNS)
    if data.empty:
        return empty("No model with probabilities was fitted")
    data["label"] = data["model"].map(model_label)
    data["binning"] = data["binning"].map(BINNING_LABELS).fillna(data["binning"])
    data = round_frame(data)
    n = n_param(data["n"], name="reliability_n")
    binning = choice_param("reliability_binning", list(BINNING_LABELS.values()), "bins: ")
    base = alt.Chart().transform_filter((alt.datum.n == n) & (alt.datum.binning == binning))
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(
        color=REFERENCE_GREY, strokeDash=[4, 4]).encode(x="x:Q", y="y:Q")
    curve = base.mark_line(point=True).encode(
        x=alt.X("mean_probability:Q", title="mean predicted probability of label 1 in the bin",
                scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("observed_rate:Q", title="share of label 1 in the bin", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("label:N", title="model", sort=model_order(data["model"])),
        tooltip=["label:N", "n:Q", "binning:N", "bin:Q", "rows:Q",
                 alt.Tooltip("mean_probability:Q", format=".3f"),
                 alt.Tooltip("observed_rate:Q", format=".3f")],
    )
    chart = alt.layer(diagonal, curve, data=data).add_params(n, binning).properties(
        width=WIDTH - 160, height=360,
        title="Reliability: a calibrated model lies on the diagonal")
    models = count(data["model"].nunique(), "model")
    description = (f"Reliability diagrams of {models} with probabilities for "
                   f"{list_n(data['n'])}: per bin of the test rows' predicted probability, the share of "
                   f"label 1 against the mean probability, with uniform or equal-mass bins; the dashed "
                   f"diagonal is perfect calibration.")
    return Drawing(chart, data, description)


def draw_calibration_errors(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["calibration"], CALIBRATION_COLUMNS)
    if data.empty:
        return empty("No model with probabilities was fitted")
    long = data.melt(id_vars=["model", "n"], value_vars=["ece_uniform", "ece_equal_mass"],
                     var_name="binning", value_name="ece")
    long["binning"] = long["binning"].str.removeprefix("ece_").map(BINNING_LABELS)
    long["label"] = long["model"].map(model_label)
    long = round_frame(long)
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("n:O", title="n (features)"),
        y=alt.Y("ece:Q", title="expected calibration error (mean over repeats)"),
        color=alt.Color("label:N", title="model", sort=model_order(long["model"])),
        strokeDash=alt.StrokeDash("binning:N", title="bins"),
        tooltip=["label:N", "n:Q", "binning:N", alt.Tooltip("ece:Q", format=".4f")],
    ).properties(width=WIDTH - 160, height=300, title="Expected calibration error by n (15 bins)")
    worst = data.loc[data["ece_uniform"].idxmax()]
    description = (f"Expected calibration error of the test rows' probabilities, uniform and equal-mass "
                   f"bins, for {count(data['model'].nunique(), 'model')} at {list_n(data['n'])}; the largest "
                   f"(uniform bins) is {model_label(worst['model'])} at n = {int(worst['n'])}, "
                   f"{worst['ece_uniform']:.3f}.")
    return Drawing(chart, long, description)


def draw_ensemble_growth(inputs: Inputs) -> Drawing:
    data = tables.read_tables(inputs["ensembles"], ENSEMBLE_COLUMNS)
    if data.empty:
        return empty("No ensemble was scored (it needs the true hidden labels of generated data)")
    long = data.melt(id_vars=["model", "n", "members"],
                     value_vars=["member_acc", "vote_acc", "probability_acc"],
                     var_name="combination", value_name="accuracy").dropna(subset=["accuracy"])
    long["combination"] = long["combination"].map({"member_acc": "members alone (mean)",
                                                   "vote_acc": "majority vote",
                                                   "probability_acc": "mean probability"})
    long["label"] = long["model"].map(model_label)
    long = round_frame(long)
    n = n_param(long["n"], name="ensemble_n")
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("members:Q", title="members (repeats) in the ensemble", scale=alt.Scale(type="log"),
                axis=alt.Axis(values=sorted(long["members"].unique().tolist()))),
        y=alt.Y("accuracy:Q", title="accuracy on the hidden rows", scale=alt.Scale(zero=False)),
        color=alt.Color("label:N", title="model", sort=model_order(long["model"])),
        strokeDash=alt.StrokeDash("combination:N", title="combined by"),
        tooltip=["label:N", "n:Q", "members:Q", "combination:N", alt.Tooltip("accuracy:Q", format=".4f")],
    ).add_params(n).transform_filter(alt.datum.n == n).properties(
        width=WIDTH - 160, height=340, title="Accuracy of an ensemble of repeats, by its size")
    full = data.loc[data.groupby(["model", "n"])["members"].idxmax()]
    best = full.loc[full["gain"].idxmax()]
    description = (f"Hidden-row accuracy of ensembles of 1 to {int(data['members'].max())} repeats for "
                   f"{count(data['model'].nunique(), 'model')} at {list_n(data['n'])}, by majority vote and "
                   f"by mean probability, against the members' own mean accuracy; the largest gain of the "
                   f"full ensemble is {model_label(best['model'])} at n = {int(best['n'])}, "
                   f"{best['gain']:+.4f}.")
    return Drawing(chart, long, description)
