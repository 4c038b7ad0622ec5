"""The report's pages: the numbers the prose quotes, computed from the results, and the
Jinja2 templates (docs/templates/*.md.j2) rendered into the Markdown pages of the site.

No number in a page is typed by hand: each comes from this module's context. A stage the run
did not produce leaves its part of the context empty, and the page says so plainly.
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import yaml

from kryptonite_n.compute.bayes import is_estimate
from kryptonite_n.compute.carbon import phase
from kryptonite_n.compute.data import TARGETS
from kryptonite_n.compute.explore import THRESHOLD_METHOD, informative_features, separation_summary
from kryptonite_n.io import atomic_path, write_csv
from kryptonite_n.plan.catalogue import PAGES
from kryptonite_n.plan.config import model_dimensions, model_settings, settings_origin
from kryptonite_n.plan.models import spec, specs
from kryptonite_n.report.calibration_page import calibration_context
from kryptonite_n.report.figures import (
    ADVERSARIAL_COLUMNS,
    FIGURES,
    as_lists,
)
from kryptonite_n.report.figures.sustainability import sustainability_context
from kryptonite_n.report.scaling_page import scaling_context
from kryptonite_n.report.site import draw_rule_graph
from kryptonite_n.report.tuning_page import tuning_context
from kryptonite_n.stats import CORRECTED_T, half_width, resampling_ratio
from kryptonite_n.tables import results as tables
from kryptonite_n.tables.results import MODEL_DESCRIPTIONS, model_label
from kryptonite_n.tables.summary import choose_models

#: Models whose informative set comes from the noise shapes (the feature-selection oracle),
#: not from the labels: they show the data's structure but cannot refute a claim about
#: machine learning, so the headline counts only the others.
ORACLE_ASSISTED = tuple(s.name for s in specs() if s.oracle_assisted)
#: Parity rules of thresholded features: the learned one (GF(2)) and the oracle-assisted one.
THRESHOLD_RULES = tuple(s.name for s in specs() if s.decision == "threshold")
LEARNED_RULES = tuple(s.name for s in specs() if s.decision == "threshold" and s.learns_from_labels)
#: The mock paper's own baseline(s), whose failure the challenge cites.
CLAIM_BASELINES = tuple(s.name for s in specs() if s.claim_baseline)
#: The model(s) whose per-repeat coefficients table the sparsity figure reads.
COEFFICIENT_MODELS = tuple(s.name for s in specs() if "coefficients" in s.tables)
#: Packages whose versions the Reproducibility page lists.
PACKAGES = ("snakemake", "numpy", "pandas", "scipy", "scikit-learn", "torch",
            "adversarial-robustness-toolbox", "codecarbon", "altair", "vl-convert-python", "mkdocs",
            "mkdocs-material", "jinja2")


# --------------------------------------------------------------------------- formatting


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def fmt_acc(value: Any, digits: int = 4) -> str:
    return "—" if _missing(value) else f"{float(value):.{digits}f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    return "—" if _missing(value) else f"{100 * float(value):.{digits}f} %"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_num(value: Any, digits: int = 3) -> str:
    """A quantity to ``digits`` significant digits, plain where that reads well."""
    if _missing(value):
        return "—"
    value = float(value)
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
        return f"{value:,.{decimals}f}"
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def fmt_seconds(value: Any) -> str:
    if _missing(value):
        return "—"
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with NaN turned into None (Jinja tests read None as missing)."""
    return [{k: (None if _missing(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


# --------------------------------------------------------------------------- context


def _features(inputs: Mapping[str, list[str]]) -> dict[int, pd.DataFrame]:
    return {tables.n_of(p): tables.read_table(p, ["feature", "family", "informative"])
            for p in inputs.get("features", [])}


def data_context(inputs: Mapping[str, list[str]], config: Mapping[str, Any]) -> dict[str, Any]:
    truths = tables.read_truths(inputs.get("truth", []))
    limits = tables.bayes_limits(truths)
    features = _features(inputs)
    rows = []
    for n, truth in truths.items():
        table = features.get(n)
        counts = table["family"].value_counts().to_dict() if table is not None else {}
        limit = limits.set_index("n").loc[n]
        row = {"n": n, "flip_rate": limit["flip_rate"], "target": TARGETS.get(n),
               "bayes": limit["bayes"], "bayes_low": limit["bayes_low"], "bayes_high": limit["bayes_high"],
               "bayes_source": limit["bayes_source"], "flipped_rows": truth.get("flipped_rows"),
               "uniform": counts.get("uniform", 0), "laplace": counts.get("laplace", 0),
               "gaussian": counts.get("gaussian", 0),
               "informative": informative_features(table) if table is not None else [],
               "true_informative": truth.get("informative")}
        if table is not None and "true_family" in table.columns:
            row["families_match"] = int((table["family"] == table["true_family"]).sum())
        # What the exploration found: whether the noise shapes separate the features, and the
        # thresholds it read the bits against (explore.separation_summary).
        found = separation_summary(table) if table is not None and "threshold" in table.columns else {}
        row |= {"separates": found.get("separates"), "shape_reason": found.get("reason") or None,
                "threshold_min": found.get("threshold_min"), "threshold_max": found.get("threshold_max"),
                "bayes_rule": (truth.get("bayes") or {}).get("rule"),
                "parity_size": len(truth["informative"]) if truth.get("informative") is not None else None}
        rows.append(row)
    correlation = tables.read_tables(inputs.get("correlation", []), ["row", "column", "correlation"],
                                     add_n=True)
    label_corr = correlation[(correlation["column"] == "label") & (correlation["row"] != "label")]
    pca = tables.read_tables(inputs.get("pca", []), ["explained_pc1", "explained_pc2"], add_n=True)
    labelled = {n: None for n in truths}
    for path in inputs.get("y", []):
        labelled[tables.n_of(path)] = len(np.load(path, mmap_mode="r"))
    for row in rows:
        row["rows"] = labelled.get(row["n"])
        near = label_corr[label_corr["n"] == row["n"]]["correlation"].abs()
        row["max_label_corr"] = float(near.max()) if len(near) else None
        explained = pca[pca["n"] == row["n"]]
        row["pca_explained"] = (float(explained["explained_pc1"].iloc[0] + explained["explained_pc2"].iloc[0])
                                if len(explained) else None)
    generator = config.get("generator", {})
    rows = [{k: (None if _missing(v) else v) for k, v in row.items()} for row in rows]
    return {
        "bayes_sources": sorted({r["bayes_source"] for r in rows if r.get("bayes_source")}),
        # How far below 1 - p the noise crossings put the limit: the largest gap over n.
        "crossing_gap": max((1 - r["flip_rate"] - r["bayes"] for r in rows
                             if r["flip_rate"] is not None and r["bayes"] is not None), default=None),
        "generated": config.get("data_dir") is None,
        "data_dir": config.get("data_dir"),
        "rows_per_feature": generator.get("rows_per_feature"),
        "hidden_rows": generator.get("hidden_rows"),
        "scales": generator.get("scales", {}),
        "configured_flip_rate": generator.get("flip_rate"),
        "parity_share": generator.get("parity_share"),
        "layout": generator.get("layout", "families"),
        "threshold_method": THRESHOLD_METHOD,
        # The noise shapes separate the features at every n / at none (None: not explored).
        "all_separate": bool(rows) and all(r.get("separates") is True for r in rows),
        "none_separate": bool(rows) and all(r.get("separates") is False for r in rows),
        "estimated": any(is_estimate(r.get("bayes_source")) for r in rows),
        # n the challenge published no target for: no target is assumed, meets_target stays empty.
        "no_target_n": [r["n"] for r in rows if r["n"] not in TARGETS],
        "split": config.get("split", {}),
        "per_n": rows,
        "max_label_corr": max((r["max_label_corr"] for r in rows if r["max_label_corr"] is not None),
                              default=None),
        # Four standard errors of a zero Pearson correlation (1/sqrt(rows)) on the smallest set.
        "corr_noise": 4 / math.sqrt(min((r["rows"] for r in rows if r["rows"]), default=1)),
    }


def models_context(inputs: Mapping[str, list[str]], config: Mapping[str, Any]) -> dict[str, Any]:
    # The repeats re-split the same rows: intervals of their mean use the split's n_test / n_train.
    ratio = resampling_ratio(config["split"]) if "split" in config else tables.default_resampling_ratio()
    headline = tables.headline_table(inputs.get("summary", []), inputs.get("metrics", []),
                                     inputs.get("truth", []), ratio)
    fitted = headline[headline["test_mean"].notna()]
    skipped = headline[headline["test_mean"].isna()]
    beaten, best = [], []
    for n, group in fitted.groupby("n", sort=True):
        # Tied with the best: every model whose interval overlaps the best one's.
        top = tables.tied_with_best(group)
        first = top.iloc[0]
        bayes = None if _missing(first["bayes"]) else float(first["bayes"])
        # The limit is reached when the best mean's 95 % interval reaches it; with an estimated
        # limit, when the two intervals overlap. No interval (one repeat): no verdict.
        reaches = reaches_limit(first.to_dict())
        best.append({"n": int(n), "labels": top["label"].tolist(), "best_label": str(first["label"]),
                     "test_mean": float(first["test_mean"]), "test_low": _none(first["test_low"]),
                     "test_high": _none(first["test_high"]), "target": first["target"],
                     "bayes": bayes, "bayes_low": _none(first["bayes_low"]),
                     "bayes_high": _none(first["bayes_high"]), "reaches": reaches})
        # Oracle-assisted models take their features from the noise shapes, not the labels:
        # they cannot refute a claim about machine learning. The others learn from the labels.
        learned = group[~group["model"].isin(ORACLE_ASSISTED)]
        if learned["passes"].fillna(False).astype(bool).any():
            beaten.append(int(n))
    studied = sorted(fitted["n"].unique().tolist())
    sparsity = sparsity_context(inputs.get("coefficients", []))
    penalties = penalty_groups(sparsity, config, _truth_sets(inputs.get("truth", [])))
    mock = fitted[fitted["model"].isin(CLAIM_BASELINES)]
    models = [{"model": m, "label": model_label(m), "description": describe(m, config),
               "dimensions": sorted(fitted.loc[fitted["model"] == m, "n"].astype(int).tolist()),
               "assisted": m in ORACLE_ASSISTED}
              for m in dict.fromkeys(fitted["model"])]
    learned_passing = fitted[~fitted["model"].isin(ORACLE_ASSISTED)
                             & fitted["passes"].fillna(False).astype(bool)]
    fitted = fitted.assign(reaches=[reaches_limit(r) for r in fitted.to_dict("records")])
    repeats = pd.to_numeric(fitted["repeats"], errors="coerce")
    methods = sorted({str(m) for m in fitted["ci_method"] if str(m)})
    sources = {str(v) for v in headline["bayes_source"] if not _missing(v) and str(v)}
    return {
        "estimated": any(is_estimate(v) for v in sources),
        # What the pages call the line a model is measured against.
        "limit_name": ("the reference (a lower estimate of the Bayes limit)"
                       if any(is_estimate(v) for v in sources) else "the Bayes limit"),
        "settings_notes": settings_notes(config, studied),
        "not_applicable": _records(headline[headline["note"].astype(str).str.startswith("not applicable")]),
        "no_target_n": [int(n) for n in studied if int(n) not in TARGETS],
        "headline": _records(headline),
        "fitted": _records(fitted),
        "secret_support": secret_support(inputs.get("support", [])),
        "skipped": _records(skipped),
        "models": models,
        "studied_n": [int(n) for n in studied],
        "beaten_n": beaten,
        # The claim is about the challenge's targets: only an n that has one can bear on it.
        "targeted_n": [int(n) for n in studied if int(n) in TARGETS],
        "not_beaten_n": [int(n) for n in studied if int(n) in TARGETS and n not in beaten],
        "passing_pairs": int(fitted["passes"].fillna(False).astype(bool).sum()),
        "learned_pairs": int((~fitted["model"].isin(ORACLE_ASSISTED)).sum()),
        "learned_passing_pairs": len(learned_passing),
        "assisted_labels": [model_label(m) for m in ORACLE_ASSISTED if m in set(fitted["model"])],
        "best": best,
        "reach_n": [r["n"] for r in best if r["reaches"] is True],
        "below_n": [r["n"] for r in best if r["reaches"] is False],
        "validation_gap": validation_gap(inputs.get("summary", []), inputs.get("metrics", []), ratio),
        "test_set_bounds": test_set_bounds(inputs.get("summary", [])),
        "choice": hidden_choice(inputs.get("metrics", [])),
        "ci_methods": methods,
        "ci_corrected": CORRECTED_T in methods,
        "test_over_train": ratio,
        # How much wider the corrected interval is than the plain t, at the most repeats run.
        "ci_widening": math.sqrt(1 + repeats.max() * ratio) if repeats.notna().any() else None,
        "split": config.get("split", {}),
        "mock_max": float(mock["test_mean"].max()) if len(mock) else None,
        "repeats": config.get("repeats"),
        "sparsity": sparsity,
        "penalties": penalties,
        "support": support_context(inputs.get("support", [])),
        "threshold_rules": list(THRESHOLD_RULES),
    }


def settings_notes(config: Mapping[str, Any], studied: Sequence[int]) -> list[dict]:
    """Per model with a per-n table and studied n without a row of their own: which row it used
    (the nearest n's), and which settings it took from its training rows instead."""

    notes = []
    models = config.get("models", {})
    for model in models:
        if not models[model].get("by_n"):
            continue
        for n in model_dimensions(config, model) if "dimensions" in config else []:
            if n not in studied:
                continue
            origin = settings_origin(config, model, n)
            if origin is None or origin == n:
                continue
            own = list(spec(model).own_n_settings)
            notes.append({"model": model, "label": model_label(model), "n": int(n), "origin": int(origin),
                          "own": own})
    return notes


class _Unfilled(dict):
    def __missing__(self, key: str) -> str:
        return f"{{{key}}}"


def describe(model: str, config: Mapping[str, Any]) -> str:
    """The model's one-line description, its ``{setting}`` names filled from its configuration."""
    settings = config.get("models", {}).get(model, {})
    return MODEL_DESCRIPTIONS.get(model, "").format_map(_Unfilled(settings))


def _none(value: Any) -> Any:
    return None if _missing(value) else value


def _truth_sets(paths: Sequence[str]) -> dict[int, list[int] | None]:
    return {n: truth.get("informative") for n, truth in tables.read_truths(paths).items()}


def reaches_limit(row: Mapping[str, Any]) -> bool | None:
    """Does the 95 % interval of a mean test accuracy reach the Bayes limit (its low end, if estimated)?

    None (no verdict) without an interval or a limit, and for the model whose own rule makes an
    estimated reference (its spec's ``reference_rule``): that agreement would prove nothing.
    """
    if _missing(row.get("test_high")) or _missing(row.get("bayes")):
        return None
    if any(s.name == row.get("model") and s.reference_rule == str(row.get("bayes_source"))
           for s in specs()):
        return None
    limit = row["bayes"] if _missing(row.get("bayes_low")) else row["bayes_low"]
    return bool(float(row["test_high"]) >= float(limit))


def secret_support(paths: Sequence[str]) -> list[dict]:
    """Per n: in how many repeats the GF(2) solver's feature set equals the truth, or, when the
    truth is unknown (published data), the XOR oracle's set of the same repeat."""
    support = tables.read_tables(paths, ["model", "n", "repeat", "features", "equals_truth"])
    rows = []
    for n, at_n in support.groupby("n", sort=True):
        gf2 = at_n[at_n["model"].isin(LEARNED_RULES)]
        if gf2.empty:
            continue
        label = model_label(str(gf2["model"].iloc[0]))
        flags = gf2["equals_truth"].astype(str).str.lower()
        if flags.isin(["true", "false"]).all():
            rows.append({"label": label, "n": int(n), "rows": len(gf2),
                         "agree": int((flags == "true").sum()), "verdict": "equal to the generator's truth"})
            continue
        # A not-applicable oracle names no set: nothing to compare with.
        oracle = {int(r.repeat): tables.parse_features(r.features)
                  for r in at_n[at_n["model"].isin(set(THRESHOLD_RULES) - set(LEARNED_RULES))].itertuples()
                  if tables.parse_features(r.features)}
        compared = [r for r in gf2.itertuples() if int(r.repeat) in oracle]
        if compared:
            rows.append({"label": label, "n": int(n), "rows": len(compared),
                         "agree": sum(tables.parse_features(r.features) == oracle[int(r.repeat)]
                                      for r in compared),
                         "verdict": "equal to the XOR oracle's noise-shape set"})
    return rows


def validation_gap(summary_paths: Sequence[str], metric_paths: Sequence[str] = (),
                   test_over_train: float = 0.0) -> list[dict]:
    """Per fitted (model, n): mean validation minus mean test accuracy, and with the per-repeat
    metrics the 95 % interval of that mean difference (as the summary's, ``test_over_train``).

    It measures a difference between two finite row sets, nothing more: a gap whose interval
    holds 0 is not told apart from sampling noise, whatever chose on the validation rows.
    """
    if not summary_paths:
        return []
    summary = tables.read_tables(summary_paths, ["model", "n", "test_acc_mean", "validation_acc_mean"])
    summary = summary[pd.to_numeric(summary["test_acc_mean"], errors="coerce").notna()]
    metrics = tables.read_tables(metric_paths, ["model", "n", "repeat", "validation_acc", "test_acc"])
    differences = {(str(model), int(n)): (pd.to_numeric(group["validation_acc"], errors="coerce")
                                          - pd.to_numeric(group["test_acc"], errors="coerce")).dropna()
                   for (model, n), group in metrics.groupby(["model", "n"])}
    rows = []
    for r in summary.itertuples():
        gap = float(r.validation_acc_mean) - float(r.test_acc_mean)
        per_repeat = differences.get((str(r.model), int(r.n)), pd.Series(dtype=float))
        half = (half_width(per_repeat.to_numpy(), test_over_train=test_over_train)
                if len(per_repeat) >= 2 else None)
        # Repeats that agree to the last row give a zero-width interval: it shows nothing.
        half = half or None
        rows.append({"model": str(r.model), "label": model_label(str(r.model)), "n": int(r.n),
                     "validation": float(r.validation_acc_mean), "test": float(r.test_acc_mean), "gap": gap,
                     "low": None if half is None else gap - half,
                     "high": None if half is None else gap + half,
                     "apart": None if half is None else abs(gap) > half})
    return sorted(rows, key=lambda r: (tables.model_rank(r["model"]), r["n"]))


def test_set_bounds(summary_paths: Sequence[str]) -> list[dict]:
    """Per fitted (model, n) with test rows on record: one repeat's test rows, the mean test
    accuracy and the 95 % lower bounds a test set of that size alone guarantees (summary.csv)."""
    if not summary_paths:
        return []
    columns = ["model", "n", "test_acc_mean", "test_rows", "hoeffding_low", "chebyshev_low"]
    summary = tables.read_tables(summary_paths, columns)
    summary = summary[pd.to_numeric(summary["hoeffding_low"], errors="coerce").notna()]
    rows = [{"model": str(r.model), "label": model_label(str(r.model)), "n": int(r.n),
             "rows": int(r.test_rows), "test": float(r.test_acc_mean), "hoeffding": float(r.hoeffding_low),
             "chebyshev": float(r.chebyshev_low)} for r in summary.itertuples()]
    return sorted(rows, key=lambda r: (tables.model_rank(r["model"]), r["n"]))


def hidden_choice(metric_paths: Sequence[str]) -> list[dict]:
    """The submitted hidden labels' source per n, as ``summary.choose_models`` chose it (the same
    function on the same metrics as results/hiddenlabels/choice.csv), with the model's label."""
    metrics = tables.read_tables(metric_paths, ["model", "n", "repeat", "validation_acc", "test_acc"])
    if metrics.empty:
        return []
    metrics["n"] = metrics["n"].astype(int)
    choice = choose_models(metrics)
    return [{**row, "label": model_label(row["model"]), "assisted": row["oracle_assisted"] == "true"}
            for row in _records(choice)]


def penalty_groups(sparsity: list[dict], config: Mapping[str, Any],
                   truths: Mapping[int, list[int] | None]) -> list[dict]:
    """The polynomial model's fits grouped by penalty (from the config), with what they found.

    Per penalty: the n it was used at, the smallest and largest share of coefficient magnitude
    on the top monomial, and in how many fits the top monomial is the true parity.
    """
    by_n = {key: value for model in COEFFICIENT_MODELS
            for key, value in config.get("models", {}).get(model, {}).get("by_n", {}).items()}
    groups: dict[str, dict] = {}
    for row in sparsity:
        settings = by_n.get(row["n"], by_n.get(str(row["n"]), {}))
        penalty = str(settings.get("penalty", "unknown"))
        group = groups.setdefault(penalty, {"penalty": penalty, "n": [], "shares": [], "parity": 0,
                                            "known": 0, "fits": 0})
        if row["n"] not in group["n"]:
            group["n"].append(row["n"])
        if row["share"] is not None:
            group["shares"].append(row["share"])
        group["fits"] += 1
        truth = truths.get(row["n"])
        if truth is not None:
            group["known"] += 1
            group["parity"] += int(sorted(row["features"]) == sorted(truth))
    return [{**g, "share_min": min(g["shares"], default=None), "share_max": max(g["shares"], default=None)}
            for g in sorted(groups.values(), key=lambda g: g["penalty"])]


def sparsity_context(paths: Sequence[str]) -> list[dict]:
    """Per (n, repeat): the top monomial and the share of |coefficient| mass it holds."""
    data = tables.read_tables(paths, ["rank", "monomial", "degree", "coefficient"], add_n=True,
                              add_repeat=True)
    rows = []
    for (n, repeat), group in data.groupby(["n", "repeat"], sort=True):
        magnitude = group["coefficient"].abs()
        top = group.loc[magnitude.idxmax()]
        rest = magnitude.drop(index=magnitude.idxmax())
        rows.append({"n": int(n), "repeat": int(repeat), "monomial": tables.monomial_name(top["monomial"]),
                     "features": tables.parse_features(top["monomial"]),
                     "degree": int(top["degree"]), "coefficient": float(top["coefficient"]),
                     "share": float(magnitude.max() / magnitude.sum()) if magnitude.sum() > 0 else None,
                     "ratio": float(magnitude.max() / rest.max()) if len(rest) and rest.max() > 0 else None,
                     "nonzero": int((magnitude > 0).sum()), "terms": len(group)})
    return rows


def support_context(paths: Sequence[str]) -> list[dict]:
    support = tables.read_tables(paths, ["model", "n", "features", "equals_truth"])
    rows = []
    for (model, n), group in support.groupby(["model", "n"], sort=False):
        flags = group["equals_truth"].astype(str).str.lower()
        known = flags.isin(["true", "false"])
        rows.append({"model": model, "label": model_label(model), "n": int(n), "rows": len(group),
                     "equal": int((flags == "true").sum()), "known": int(known.sum()),
                     "features": sorted({tuple(tables.parse_features(v)) for v in group["features"]})})
    return sorted(rows, key=lambda r: (tables.model_rank(r["model"]), r["n"]))


#: The attacks whose robust accuracy bounds the worst case (noise is an average, not a bound).
WORST_CASE_BOUNDS = ("exact", "upper")


def worst_case_table(data: pd.DataFrame) -> list[dict]:
    """Per (model, n) at the largest eps: the lowest robust accuracy over the bounding attacks.

    ``data`` is ``tables.attack_summary`` output. The lowest is the best bound on the worst
    case: an ``exact`` row is the worst case itself, else the row is an upper bound (``bound``).
    An exact row equal to the lowest wins the tie: the worst case is then known, not bounded.
    """
    if "bound" in data.columns:
        data = data[data["bound"].isin(WORST_CASE_BOUNDS)]
    if data.empty:
        return []
    eps_max = float(data["eps"].max())
    at_max = data[data["eps"] == eps_max]
    worst = []
    for (model, n), group in at_max.groupby(["model", "n"], sort=False):
        entry = {"model": model, "label": model_label(model), "n": int(n),
                 "clean": float(data[(data["model"] == model) & (data["n"] == n)]["clean_acc"].mean())}
        for scope in ("all", "informative", "irrelevant"):
            part = group[group["scope"] == scope]
            if len(part):
                lowest = float(part["robust_acc"].min())
                tied = part[part["robust_acc"] <= lowest + 1e-12]
                exact = tied[tied.get("bound", pd.Series("", index=tied.index)) == "exact"]
                row = (exact if len(exact) else tied).iloc[0]
                entry[scope] = float(row["robust_acc"])
                entry[f"{scope}_attack"] = str(row["attack"])
                entry[f"{scope}_bound"] = str(row.get("bound", "upper"))
                entry[f"{scope}_preserving"] = _none(row["label_preserving_acc"])
                entry[f"{scope}_preserving_points"] = (int(row["label_preserving_points"])
                                                       if "label_preserving_points" in row else None)
        worst.append(entry)
    return sorted(worst, key=lambda r: (tables.model_rank(r["model"]), r["n"]))


def network_table(network: pd.DataFrame) -> list[dict]:
    """One row per (n, activation, layer): the measures averaged over repeats, never over layers."""
    if network.empty:
        return []
    rows = []
    for (n, activation, layer), group in network.groupby(["n", "activation", "layer"], sort=True):
        entry = {"n": int(n), "activation": activation, "layer": str(layer),
                 "repeats": int(group["repeat"].nunique())}
        for column in ("test_acc", "sigma_max", "condition", "zero_grad_share"):
            values = (pd.to_numeric(group[column], errors="coerce") if column in group
                      else pd.Series(dtype=float))
            entry[column] = float(values.mean()) if values.notna().any() else None
        rows.append(entry)
    return rows


def attacked_network_rows(network_rows: list[dict], config: Mapping[str, Any]) -> list[dict]:
    """The network-analysis rows of the attacked MLP: at each n, the activation its settings use
    (the analysis retrains it with each activation, same settings and seeds)."""

    inspected = [s.name for s in specs() if s.inspected]
    if not inspected or not config.get("models", {}).get(inspected[0]):
        return []
    activation = {n: str(model_settings(config, inspected[0], n).get("activation", ""))
                  for n in {r["n"] for r in network_rows}}
    return [r for r in network_rows if r["activation"] == activation[r["n"]]]


def robustness_context(inputs: Mapping[str, list[str]],
                       config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    if not inputs.get("adversarial"):
        return {"produced": False}
    data = tables.attack_summary(tables.read_tables(inputs["adversarial"], ADVERSARIAL_COLUMNS))
    if data.empty:
        return {"produced": True, "rows": 0}
    worst = worst_case_table(data)
    # Models that keep their clean accuracy when only the irrelevant features are attacked.
    ignoring = [r for r in worst if "irrelevant" in r and abs(r["irrelevant"] - r["clean"]) < 1e-12]
    network = tables.read_tables(inputs.get("network", []), ["n", "activation", "repeat", "layer"])
    network_rows = network_table(network)
    saturated = [r for r in network_rows if r["zero_grad_share"] is not None]
    most_saturated = max(saturated, key=lambda r: r["zero_grad_share"], default=None)
    attacked = attacked_network_rows(saturated, config or {})
    shares = [r["zero_grad_share"] for r in attacked]
    exact_models = sorted({str(m) for m in data.loc[data["attack"] == "exact", "model"]},
                          key=tables.model_rank)
    return {"produced": True, "rows": len(data), "eps": sorted(data["eps"].unique().tolist()),
            "eps_max": float(data["eps"].max()), "attacks": sorted(data["attack"].unique().tolist()),
            "scopes": sorted(data["scope"].unique().tolist()), "worst": worst,
            "ignoring_irrelevant": [f"{r['label']} (n = {r['n']})" for r in ignoring],
            "not_ignoring_irrelevant": [f"{r['label']} (n = {r['n']})" for r in worst
                                        if "irrelevant" in r and r not in ignoring],
            "exact_labels": [model_label(m) for m in exact_models],
            "min_preserving_points": tables.MIN_PRESERVING_POINTS,
            "network": network_rows, "most_saturated": most_saturated,
            "attacked_network": {"activations": sorted({(r["n"], r["activation"]) for r in attacked}),
                                 "share_min": min(shares, default=None),
                                 "share_max": max(shares, default=None)},
            "network_produced": bool(inputs.get("network")),
            "activation_produced": bool(inputs.get("activation_robustness")),
            "boundary_produced": bool(inputs.get("boundary"))}


def carbon_context(inputs: Mapping[str, list[str]]) -> dict[str, Any]:

    return sustainability_context(inputs)


def package_versions() -> list[dict[str, str]]:
    rows = [{"package": "python", "version": platform.python_version()}]
    for name in PACKAGES:
        try:
            rows.append({"package": name, "version": importlib.metadata.version(name)})
        except importlib.metadata.PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return rows


def reproducibility_context(inputs: Mapping[str, list[str]], logs_dir: Path | str) -> dict[str, Any]:
    """The run's configuration, packages and job times (``inputs['runtimes']``, the benchmarks
    ``render_pages`` recorded, or else those under ``logs_dir`` now)."""
    config_text = Path(inputs["config"][0]).read_text() if inputs.get("config") else ""
    runtimes = (tables.read_table(inputs["runtimes"][0], ["job", "stage", "s"]) if inputs.get("runtimes")
                else tables.benchmark_table(logs_dir))
    # Exact sums (fsum): the benchmarks' seconds have 4 decimals, so a sum can fall on a rounding
    # tie that the order of a float sum would decide either way.
    by_stage = runtimes.groupby("stage").agg(jobs=("job", "size"), s=("s", math.fsum)).reset_index() \
        .sort_values("s", ascending=False)
    return {
        "config_text": config_text.rstrip(),
        "versions": package_versions(),
        "platform": f"{platform.system()} {platform.machine()}, Python {sys.version.split()[0]}",
        "rulegraph": bool(inputs.get("rulegraph")),
        "jobs": len(runtimes),
        "job_seconds": math.fsum(runtimes["s"]),
        "slowest": _records(runtimes.sort_values("s", ascending=False).head(10)),
        "by_stage": _records(by_stage),
    }


def build_context(inputs: Mapping[str, object], config: Mapping[str, Any],
                  logs_dir: Path | str = "logs") -> dict[str, Any]:
    """Everything the templates quote, from the run's result files and its configuration."""
    inputs = as_lists(inputs)
    figures = {Path(p).name.removesuffix(".js") for p in inputs.get("figures", []) if str(p).endswith(".js")}
    return {
        "config": config,
        "figures": figures,
        "figure_names": [f.name for f in FIGURES],
        "pages": PAGES,
        "data": data_context(inputs, config),
        "models": models_context(inputs, config),
        "robustness": robustness_context(inputs, config),
        "carbon": carbon_context(inputs),
        "scaling": scaling_context(inputs, config),
        "tuning": tuning_context(inputs, config),
        "calibration": calibration_context(inputs),
        "repro": reproducibility_context(inputs, logs_dir),
        "attacks_config": config.get("attacks", {}),
        "network_config": config.get("network_analysis", {}),
        "carbon_config": config.get("carbon", {}),
        "inference_batch_size": config.get("inference", {}).get("batch_size"),
    }


# --------------------------------------------------------------------------- rendering


def environment(templates_dir: Path | str) -> jinja2.Environment:
    # Markdown, not HTML: nothing to escape; a missing name is an error, not an empty string.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters.update(acc=fmt_acc, pct=fmt_pct, num=fmt_num, seconds=fmt_seconds,
                       label=model_label)
    return env


def render_pages(templates_dir: Path | str, inputs: Mapping[str, object], outputs: Mapping[str, str | Path],
                 config: Mapping[str, Any], *, logs_dir: Path | str = "logs",
                 snakemake_command: Sequence[str] | None = None) -> None:
    """Render ``{page}.md.j2`` into ``outputs[page]`` for every page.

    First ``outputs['config']`` records the configuration and, given the command that runs
    this workflow's Snakemake, ``outputs['rulegraph_dot']`` / ``outputs['rulegraph']`` its rule graph.
    ``outputs['runtimes']`` (optional) records the benchmarks of the jobs finished by then, the
    ones the Reproducibility page counts: jobs outside the pages' inputs may finish meanwhile.
    """

    with phase("report"):
        with atomic_path(outputs["config"]) as tmp:
            tmp.write_text(yaml.safe_dump(dict(config), sort_keys=False))
        inputs = {**as_lists(inputs), "config": [str(outputs["config"])]}
        if snakemake_command is not None:
            draw_rule_graph(snakemake_command, outputs["config"], outputs["rulegraph_dot"],
                            outputs["rulegraph"])
            inputs["rulegraph"] = [str(outputs["rulegraph"])]
        if "runtimes" in outputs:
            write_csv(outputs["runtimes"], tables.benchmark_table(logs_dir))
            inputs["runtimes"] = [str(outputs["runtimes"])]
        context = build_context(inputs, config, logs_dir)
        env = environment(templates_dir)
        for page in PAGES:
            text = env.get_template(f"{page}.md.j2").render(**context, page=page, title=PAGES[page])
            with atomic_path(outputs[page]) as tmp:
                tmp.write_text(text)
