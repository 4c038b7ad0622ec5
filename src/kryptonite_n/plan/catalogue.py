"""What the report holds, as data: its pages and its figures, and which inputs each figure needs.

The workflow plans the report from this module alone, so it imports nothing heavier than the
standard library: parsing the Snakefile (done again by every cluster job) loads neither Altair,
Jinja2, torch nor ART. The drawing code lives in ``kryptonite_n.report.figures.<page>`` and is
imported only by the jobs that draw (``report.figures.drawer``).

Adding a figure is one entry in ``FIGURES`` and one function in the page module that draws it
(docs/report.md walks through it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Page (template and Markdown file stem) -> title, in navigation order.
PAGES = {
    "index": "Overview",
    "data": "Data",
    "models": "Models",
    "calibration": "Calibration and ensembles",
    "secret": "The dataset's secret",
    "scaling": "Where learners break",
    "robustness": "Robustness",
    "tuning": "Tuning",
    "sustainability": "Sustainability",
    "reproducibility": "Reproducibility",
}


@dataclass(frozen=True)
class Figure:
    """One figure of the report: drawn by ``draw`` in the job of its ``family``."""

    name: str
    family: str
    #: Input keys that must each hold at least one file for the figure to be drawn.
    needs: tuple[str, ...]
    #: ``module:function`` under ``kryptonite_n.report.figures``: a string, so that planning
    #: the workflow does not import the plotting stack.
    draw: str
    #: Input keys read when present.
    uses: tuple[str, ...] = ()


FIGURES = (
    Figure("data_histograms", "data", ("histograms",), "data:draw_histograms"),
    Figure("data_correlation", "data", ("correlation",), "data:draw_correlation"),
    Figure("data_pca", "data", ("pca",), "data:draw_pca"),
    Figure("data_xor_slice", "data", ("X", "y", "features"), "data:draw_xor_slice"),
    Figure("models_accuracy", "models", ("metrics", "truth"), "models:draw_accuracy", uses=("summary",)),
    Figure("models_training", "models", ("history",), "models:draw_training"),
    Figure("models_sparsity", "models", ("coefficients",), "models:draw_sparsity"),
    Figure("models_support", "models", ("support", "features"), "models:draw_support"),
    Figure("calibration_reliability", "calibration", ("reliability",), "calibration:draw_reliability"),
    Figure("calibration_errors", "calibration", ("calibration",), "calibration:draw_calibration_errors"),
    Figure("ensembles_growth", "calibration", ("ensembles",), "calibration:draw_ensemble_growth"),
    Figure("secret_families", "secret", ("features",), "secret:draw_families"),
    Figure("robustness_attacks", "robustness", ("adversarial",), "robustness:draw_attacks"),
    Figure("robustness_network", "robustness", ("network",), "robustness:draw_network"),
    Figure("robustness_activations", "robustness", ("activation_robustness",),
           "robustness:draw_activation_attacks"),
    Figure("robustness_boundary", "robustness", ("boundary",), "robustness:draw_boundary"),
    Figure("carbon_stages", "carbon", ("carbon",), "sustainability:draw_carbon_stages"),
    Figure("carbon_models", "carbon", ("carbon",), "sustainability:draw_carbon_models"),
    Figure("scaling_accuracy", "scaling", ("scaling",), "scaling:draw_scaling_accuracy"),
    Figure("scaling_rows", "scaling", ("scaling",), "scaling:draw_scaling_rows"),
    Figure("scaling_cost", "scaling", ("scaling",), "scaling:draw_scaling_cost"),
    Figure("scaling_basis", "scaling", ("scaling",), "scaling:draw_scaling_basis"),
    Figure("tuning_history", "tuning", ("trials",), "tuning:draw_history"),
    Figure("tuning_importances", "tuning", ("importances",), "tuning:draw_importances"),
    Figure("tuning_trials", "tuning", ("trials",), "tuning:draw_trials"),
    # The benchmarks exist only once their jobs finished, so they are found, not declared.
    Figure("runtime_jobs", "runtime", (), "reproducibility:draw_runtimes"),
)
FAMILIES = tuple(dict.fromkeys(f.family for f in FIGURES))
BY_NAME = {f.name: f for f in FIGURES}
#: The files each drawn figure ships in the site, by output key suffix: the chart's spec as a
#: script (loaded by a script tag, which also works from file://), a static SVG for print and
#: the CSV of the data drawn.
FIGURE_FILES = {"": "js", "_svg": "svg", "_csv": "csv"}


def figure_names(family: str, inputs: Mapping[str, Sequence]) -> list[str]:
    """The figures of ``family`` that the run's inputs allow."""
    if family not in FAMILIES:
        raise ValueError(f"unknown figure family {family!r}; expected one of {FAMILIES}")
    return [f.name for f in FIGURES if f.family == family and all(inputs.get(key) for key in f.needs)]


def family_inputs(family: str, sources: Mapping[str, Sequence]) -> dict[str, list]:
    """The source files the drawable figures of ``family`` read (non-empty keys only)."""
    keys = [key for f in FIGURES if f.name in figure_names(family, sources) for key in (*f.needs, *f.uses)]
    return {key: list(sources[key]) for key in dict.fromkeys(keys) if sources.get(key)}


