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

from kryptonite_n.carbon import STAGES
from kryptonite_n.data import TARGETS
from kryptonite_n.io import atomic_path
from kryptonite_n.report import tables
from kryptonite_n.report.catalogue import PAGES
from kryptonite_n.report.figures import (
    ADVERSARIAL_COLUMNS,
    CARBON_COLUMNS,
    FIGURES,
    as_lists,
    carbon_quantity,
)
from kryptonite_n.report.tables import MODEL_DESCRIPTIONS, MODEL_LABELS
from kryptonite_n.report.tuning_page import tuning_context

#: Models whose decision is not learned from the labels.
HAND_MADE = ("xor_oracle",)
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


def _informative(table: pd.DataFrame) -> list[int]:
    return table.loc[table["informative"].astype(str).str.lower() == "true", "feature"].astype(int).tolist()


def data_context(inputs: Mapping[str, list[str]], config: Mapping[str, Any]) -> dict[str, Any]:
    truths = tables.read_truths(inputs.get("truth", []))
    limits = tables.bayes_limits(truths)
    features = _features(inputs)
    rows = []
    for n, truth in truths.items():
        table = features.get(n)
        counts = table["family"].value_counts().to_dict() if table is not None else {}
        row = {"n": n, "flip_rate": limits.set_index("n").loc[n, "flip_rate"], "target": TARGETS.get(n),
               "bayes": limits.set_index("n").loc[n, "bayes"], "flipped_rows": truth.get("flipped_rows"),
               "uniform": counts.get("uniform", 0), "laplace": counts.get("laplace", 0),
               "gaussian": counts.get("gaussian", 0),
               "informative": _informative(table) if table is not None else [],
               "true_informative": truth.get("informative")}
        if table is not None and "true_family" in table.columns:
            row["families_match"] = int((table["family"] == table["true_family"]).sum())
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
    return {
        "generated": config.get("data_dir") is None,
        "data_dir": config.get("data_dir"),
        "rows_per_feature": generator.get("rows_per_feature"),
        "hidden_rows": generator.get("hidden_rows"),
        "scales": generator.get("scales", {}),
        "configured_flip_rate": generator.get("flip_rate"),
        "irrelevant_share": generator.get("irrelevant_share"),
        "split": config.get("split", {}),
        "per_n": rows,
        "max_label_corr": max((r["max_label_corr"] for r in rows if r["max_label_corr"] is not None),
                              default=None),
    }


def models_context(inputs: Mapping[str, list[str]], config: Mapping[str, Any]) -> dict[str, Any]:
    headline = tables.headline_table(inputs.get("summary", []), inputs.get("metrics", []),
                                     inputs.get("truth", []))
    fitted = headline[headline["test_mean"].notna()]
    skipped = headline[headline["test_mean"].isna()]
    beaten, best = [], []
    for n, group in fitted.groupby("n", sort=True):
        top = group[np.isclose(group["test_mean"], group["test_mean"].max(), rtol=0, atol=1e-12)]
        best.append({"n": int(n), "labels": top["label"].tolist(),
                     "test_mean": float(top["test_mean"].iloc[0]), "target": top["target"].iloc[0],
                     "bayes": top["bayes"].iloc[0]})
        # The XOR oracle is a hand-made rule that never sees a label: it cannot refute a claim
        # about machine learning. Every other model learns from the labelled rows.
        learned = group[~group["model"].isin(HAND_MADE)]
        if learned["passes"].fillna(False).astype(bool).any():
            beaten.append(int(n))
    studied = sorted(fitted["n"].unique().tolist())
    mock = fitted[fitted["model"] == "mock_baseline"]
    descriptions = dict(MODEL_DESCRIPTIONS)
    units = config.get("models", {}).get("mlp", {}).get("hidden_units")
    if units is not None:
        descriptions["mlp"] = descriptions["mlp"].replace("hidden layer", f"hidden layer of {units} units", 1)
    models = [{"model": m, "label": MODEL_LABELS.get(m, m), "description": descriptions.get(m, ""),
               "dimensions": sorted(fitted.loc[fitted["model"] == m, "n"].astype(int).tolist())}
              for m in dict.fromkeys(fitted["model"])]
    return {
        "headline": _records(headline),
        "fitted": _records(fitted),
        "skipped": _records(skipped),
        "models": models,
        "studied_n": [int(n) for n in studied],
        "beaten_n": beaten,
        "not_beaten_n": [int(n) for n in studied if n not in beaten],
        "passing_pairs": int(fitted["passes"].fillna(False).astype(bool).sum()),
        "best": best,
        "mock_max": float(mock["test_mean"].max()) if len(mock) else None,
        "repeats": config.get("repeats"),
        "sparsity": sparsity_context(inputs.get("coefficients", [])),
        "support": support_context(inputs.get("support", [])),
        "mlp_settings": config.get("models", {}).get("mlp", {}),
    }


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
        rows.append({"model": model, "label": MODEL_LABELS.get(model, model), "n": int(n), "rows": len(group),
                     "equal": int((flags == "true").sum()), "known": int(known.sum()),
                     "features": sorted({tuple(tables.parse_features(v)) for v in group["features"]})})
    return sorted(rows, key=lambda r: (tables.model_rank(r["model"]), r["n"]))


def robustness_context(inputs: Mapping[str, list[str]]) -> dict[str, Any]:
    if not inputs.get("adversarial"):
        return {"produced": False}
    data = tables.attack_summary(tables.read_tables(inputs["adversarial"], ADVERSARIAL_COLUMNS))
    if data.empty:
        return {"produced": True, "rows": 0}
    eps_max = float(data["eps"].max())
    at_max = data[data["eps"] == eps_max]
    worst = []
    for (model, n), group in at_max.groupby(["model", "n"], sort=False):
        entry = {"model": model, "label": MODEL_LABELS.get(model, model), "n": int(n),
                 "clean": float(data[(data["model"] == model) & (data["n"] == n)]["clean_acc"].mean())}
        for scope in ("all", "informative", "irrelevant"):
            part = group[group["scope"] == scope]
            if len(part):
                row = part.loc[part["robust_acc"].idxmin()]
                entry[scope] = float(row["robust_acc"])
                entry[f"{scope}_attack"] = str(row["attack"])
                entry[f"{scope}_preserving"] = float(row["label_preserving_acc"]) if not _missing(
                    row["label_preserving_acc"]) else None
        worst.append(entry)
    worst.sort(key=lambda r: (tables.model_rank(r["model"]), r["n"]))
    network = tables.read_tables(inputs.get("network", []), ["n", "activation", "repeat", "layer"])
    network_rows = []
    if not network.empty and "test_acc" in network.columns:
        for (n, activation), group in network.groupby(["n", "activation"], sort=True):
            entry = {"n": int(n), "activation": activation,
                     "test_acc": float(pd.to_numeric(group["test_acc"], errors="coerce").mean())}
            for column in ("sigma_max", "condition", "zero_grad_share"):
                if column in group:
                    entry[column] = float(pd.to_numeric(group[column], errors="coerce").mean())
            network_rows.append(entry)
    return {"produced": True, "rows": len(data), "eps": sorted(data["eps"].unique().tolist()),
            "eps_max": eps_max, "attacks": sorted(data["attack"].unique().tolist()),
            "scopes": sorted(data["scope"].unique().tolist()), "worst": worst,
            "network": network_rows, "network_produced": bool(inputs.get("network")),
            "activation_produced": bool(inputs.get("activation_robustness")),
            "boundary_produced": bool(inputs.get("boundary"))}


def carbon_context(inputs: Mapping[str, list[str]]) -> dict[str, Any]:
    if not inputs.get("carbon"):
        return {"produced": False}
    carbon = tables.read_tables(inputs["carbon"], CARBON_COLUMNS)
    if carbon.empty:
        return {"produced": True, "rows": 0}
    for column in ("duration_s", "energy_kwh", "emissions_kg", "cpu_power_w", "ram_power_w"):
        if column in carbon:
            carbon[column] = pd.to_numeric(carbon[column], errors="coerce")
    quantity, title = carbon_quantity(carbon)
    stages = []
    for stage in [s for s in STAGES if s in set(carbon["stage"])]:
        part = carbon[carbon["stage"] == stage]
        stages.append({"stage": stage, "jobs": len(part), "duration_s": float(part["duration_s"].sum()),
                       "energy_kwh": _total(part["energy_kwh"]),
                       "emissions_kg": _total(part["emissions_kg"])})
    train = carbon[carbon["stage"] == "train"][quantity].sum()
    inference = carbon[carbon["stage"] == "inference"][quantity].sum()
    measurements = carbon["measurement"].fillna("").astype(str).value_counts().to_dict() \
        if "measurement" in carbon else {}
    return {
        "produced": True, "rows": len(carbon), "stages": stages, "quantity": quantity,
        "quantity_title": title,
        "energy_measured": quantity == "energy_kwh",
        "energy_kwh": float(carbon["energy_kwh"].sum()) if quantity == "energy_kwh" else None,
        "emissions_kg": float(carbon["emissions_kg"].sum()) if carbon["emissions_kg"].notna().any() else None,
        "duration_s": float(carbon["duration_s"].sum()),
        "train_over_inference": float(train / inference) if inference > 0 else None,
        "measurements": measurements,
        "countries": sorted(carbon["country"].dropna().astype(str).unique().tolist()) if "country" in carbon
        else [],
        "versions": sorted(carbon["codecarbon_version"].dropna().astype(str).unique().tolist())
        if "codecarbon_version" in carbon else [],
        "cpu_power_w": float(carbon["cpu_power_w"].median()) if "cpu_power_w" in carbon
        and carbon["cpu_power_w"].notna().any() else None,
        "ram_power_w": float(carbon["ram_power_w"].median()) if "ram_power_w" in carbon
        and carbon["ram_power_w"].notna().any() else None,
    }


def _total(values: pd.Series) -> float | None:
    return float(values.sum()) if values.notna().any() else None


def package_versions() -> list[dict[str, str]]:
    rows = [{"package": "python", "version": platform.python_version()}]
    for name in PACKAGES:
        try:
            rows.append({"package": name, "version": importlib.metadata.version(name)})
        except importlib.metadata.PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return rows


def reproducibility_context(inputs: Mapping[str, list[str]], logs_dir: Path | str) -> dict[str, Any]:
    config_text = Path(inputs["config"][0]).read_text() if inputs.get("config") else ""
    runtimes = tables.benchmark_table(logs_dir)
    by_stage = runtimes.groupby("stage").agg(jobs=("job", "size"), s=("s", "sum")).reset_index() \
        .sort_values("s", ascending=False)
    return {
        "config_text": config_text.rstrip(),
        "versions": package_versions(),
        "platform": f"{platform.system()} {platform.machine()}, Python {sys.version.split()[0]}",
        "rulegraph": bool(inputs.get("rulegraph")),
        "jobs": len(runtimes),
        "job_seconds": float(runtimes["s"].sum()) if len(runtimes) else 0.0,
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
        "robustness": robustness_context(inputs),
        "carbon": carbon_context(inputs),
        "tuning": tuning_context(inputs, config),
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
                       label=lambda m: MODEL_LABELS.get(m, m))
    return env


def render_pages(templates_dir: Path | str, inputs: Mapping[str, object], outputs: Mapping[str, str | Path],
                 config: Mapping[str, Any], *, logs_dir: Path | str = "logs",
                 snakemake_command: Sequence[str] | None = None) -> None:
    """Render ``{page}.md.j2`` into ``outputs[page]`` for every page.

    First ``outputs['config']`` records the configuration and, given the command that runs
    this workflow's Snakemake, ``outputs['rulegraph_dot']`` / ``outputs['rulegraph']`` its rule graph.
    """
    from kryptonite_n.carbon import phase
    from kryptonite_n.report.site import draw_rule_graph

    with phase("report"):
        with atomic_path(outputs["config"]) as tmp:
            tmp.write_text(yaml.safe_dump(dict(config), sort_keys=False))
        inputs = {**as_lists(inputs), "config": [str(outputs["config"])]}
        if snakemake_command is not None:
            draw_rule_graph(snakemake_command, outputs["config"], outputs["rulegraph_dot"],
                            outputs["rulegraph"])
            inputs["rulegraph"] = [str(outputs["rulegraph"])]
        context = build_context(inputs, config, logs_dir)
        env = environment(templates_dir)
        for page in PAGES:
            text = env.get_template(f"{page}.md.j2").render(**context, page=page, title=PAGES[page])
            with atomic_path(outputs[page]) as tmp:
                tmp.write_text(text)
