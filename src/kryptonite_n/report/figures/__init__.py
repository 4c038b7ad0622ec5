"""The report's figures: Altair charts drawn from result files, one module per page.

Which figures exist, their families and the inputs they need is data in
``kryptonite_n.plan.catalogue`` (the workflow plans from it without importing Altair); the
function that draws each lives in the module of its page (``data``, ``models``, ``secret``,
``robustness``, ``sustainability``, ``reproducibility``) and returns a ``Drawing``: the chart,
the table it draws and a sentence describing it. Each figure ships three files: its spec as a
script (``figures/<name>.js``, which the site's embed.js draws, also from file://), a static SVG
for print, and the CSV of the rows it draws. The spec is Altair's Vega-Lite compiled to Vega
here, once, instead of in the browser on every page load.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
from tqdm import tqdm

from kryptonite_n.compute.carbon import phase
from kryptonite_n.io import atomic_path
from kryptonite_n.plan.catalogue import BY_NAME, FAMILIES, FIGURES, family_inputs, figure_names
from kryptonite_n.report.figures._shared import OKABE_ITO, Drawing
from kryptonite_n.report.figures.data import xor_slice
from kryptonite_n.report.figures.models import support_grid, thin_curves
from kryptonite_n.report.figures.robustness import ADVERSARIAL_COLUMNS, boundary_table
from kryptonite_n.report.figures.sustainability import CARBON_COLUMNS, carbon_quantity

__all__ = ["ADVERSARIAL_COLUMNS", "BY_NAME", "CARBON_COLUMNS", "FAMILIES", "FIGURES", "Drawing", "as_lists",
           "boundary_table", "carbon_quantity", "chart_spec", "draw_family", "family_inputs", "figure_names",
           "spec_script", "support_grid", "thin_curves", "vega_lite_version", "vega_spec", "write_figure",
           "xor_slice"]


def chart_spec(drawing: Drawing) -> dict:
    """The chart's Vega-Lite spec with its data inlined as CSV text, its description and
    colour-blind-safe category colours (the site's embed.js adds the light or dark theme)."""
    chart = drawing.chart.properties(description=drawing.description).configure_range(category=OKABE_ITO)
    with alt.data_transformers.enable("default", max_rows=None):
        return inline_csv(chart.to_dict())


def inline_csv(spec: dict) -> dict:
    """Each named dataset as CSV text instead of a list of records, with its numeric columns parsed.

    Records repeat every column name in every row: as CSV the same data is about a third of the
    size, and the page has less to download and parse. Vega-Lite reads a string dataset in the
    format its data reference names; every reference to a dataset gets that format.
    """
    formats = {}
    for name, rows in spec.get("datasets", {}).items():
        frame = pd.DataFrame.from_records(rows)
        types = pd.api.types
        parse = {column: "number" for column in frame.columns
                 if types.is_numeric_dtype(frame[column]) and not types.is_bool_dtype(frame[column])}
        for column in frame.columns:
            if pd.api.types.is_bool_dtype(frame[column]):
                frame[column] = frame[column].map({True: "true", False: "false"})
                parse[column] = "boolean"
        spec["datasets"][name] = frame.to_csv(index=False, lineterminator="\n")
        formats[name] = {"type": "csv", "parse": parse}

    def visit(node: object) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and data.get("name") in formats:
                data["format"] = formats[data["name"]]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit({key: value for key, value in spec.items() if key != "datasets"})
    return spec


def vega_lite_version() -> str:
    """The Vega-Lite version Altair writes, as vl-convert names it ("6.4")."""
    return alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]


def vega_spec(spec: dict) -> dict:
    """The Vega spec a Vega-Lite spec compiles to (its description, data and config carried over)."""
    import vl_convert

    return vl_convert.vegalite_to_vega(spec, vl_version=vega_lite_version())


def spec_script(name: str, spec_json: str) -> str:
    """The spec as a script that registers it under ``name`` for the site's embed.js.

    A page loads it with a script tag, which browsers also allow for pages opened from disk
    (file://), where fetching a JSON file is refused; so the spec ships once, as this script.
    """
    return f"(window.kryptoniteSpecs = window.kryptoniteSpecs || {{}})[{json.dumps(name)}] = {spec_json};\n"


def write_figure(drawing: Drawing, name: str, script_path: Path | str, svg_path: Path | str,
                 csv_path: Path | str) -> None:
    """Write the interactive Vega spec (as a script), its static SVG rendering and the data as CSV."""
    import vl_convert

    spec = vega_spec(chart_spec(drawing))
    spec_json = json.dumps(spec, separators=(",", ":"), sort_keys=True, allow_nan=False)
    with atomic_path(script_path) as tmp:
        tmp.write_text(spec_script(name, spec_json))
    svg = vl_convert.vega_to_svg(spec)
    with atomic_path(svg_path) as tmp:
        tmp.write_text(svg)
    with atomic_path(csv_path) as tmp:
        drawing.data.to_csv(tmp, index=False)


def as_lists(files: Mapping[str, object]) -> dict[str, list[str]]:
    """Snakemake gives a named input of one file as a string: make every value a list."""
    return {key: [value] if isinstance(value, str | Path) else [str(v) for v in value]
            for key, value in files.items()}


def draw_family(family: str, inputs: Mapping[str, object], outputs: Mapping[str, str | Path], *,
                logs_dir: Path | str = "logs") -> list[str]:
    """Draw every figure of ``family``.

    ``outputs`` holds ``{name}`` (the spec script), ``{name}_svg`` and ``{name}_csv``.
    """
    inputs = {**as_lists(inputs), "logs": [str(logs_dir)]}
    names = figure_names(family, inputs)
    missing = [name for name in names
               if not all(key in outputs for key in (name, f"{name}_svg", f"{name}_csv"))]
    if missing:
        raise ValueError(f"no output paths for figure(s) {', '.join(missing)}")
    with phase("report"):
        for name in tqdm(names, desc=f"{family} figures"):
            write_figure(drawer(name)(inputs), name, outputs[name], outputs[f"{name}_svg"],
                         outputs[f"{name}_csv"])
    return names


def drawer(name: str) -> Callable[[Mapping[str, Sequence]], Any]:
    """The function that draws figure ``name`` (imports its page's drawing module)."""
    module, function = BY_NAME[name].draw.split(":")
    return getattr(importlib.import_module(f"kryptonite_n.report.figures.{module}"), function)
