# The published report: figures (one rule per family), the vendored scripts, the pages (with
# the rule graph), and the site built by `mkdocs build --strict` into site/.
#
# The report reads only files the DAG produces for this configuration (the stage target
# functions), so a disabled stage gives a page that says so, never a missing input. Its jobs'
# carbon goes to results/carbon/report/ and results/carbon/report.csv, outside
# results/carbon.csv, which the report reads (no report_carbon_files(): that would be a cycle).
import sys

from kryptonite_n.report.figures import FAMILIES, family_inputs, figure_names
from kryptonite_n.report.pages import PAGES

REPORT_DOCS = "results/report/docs"
REPORT_FIGURES = f"{REPORT_DOCS}/figures"
REPO = Path(workflow.basedir).parent
TEMPLATES = REPO / "docs" / "templates"
# The report's own library: editing it redraws what it draws (as model_code() does for fits).
REPORT_CODE = SOURCE / "report"
STATIC = {
    "embed": REPO / "docs" / "static" / "javascripts" / "embed.js",
    "style": REPO / "docs" / "static" / "stylesheets" / "report.css",
}


def _named(targets, name):
    return [target for target in targets if Path(target).name == name]


def report_sources():
    """Every result file the report reads, by key; a stage this run does not build gives []."""
    summary, attacks = summary_targets(), attack_targets()
    sources = {
        key: expand(f"results/data/n{{n}}/{file}", n=DIMENSIONS)
        for key, file in [
            ("features", "features.csv"),
            ("histograms", "histograms.csv"),
            ("correlation", "correlation.csv"),
            ("pca", "pca.csv"),
            ("truth", "truth.json"),
        ]
    }
    sources["X"] = [f"results/data/n{n}/kryptonite-{n}-X.npy" for n in DIMENSIONS]
    sources["y"] = [f"results/data/n{n}/kryptonite-{n}-y.npy" for n in DIMENSIONS]
    sources["metrics"] = fitted_tables()
    for model, names in MODEL_TABLES.items():
        for name in names:
            sources[name] = expand(
                f"results/models/{model}/n{{n}}/repeat{{repeat}}/{name}.csv",
                n=FITTED.get(model, []),
                repeat=REPEATS,
            )
    sources["summary"] = _named(summary, "summary.csv")
    sources["support"] = _named(summary, "support.csv")
    sources["adversarial"] = _named(attacks, "adversarial.csv")
    sources["network"] = _named(attacks, "network_analysis.csv")
    sources["activation_robustness"] = _named(attacks, "activation_robustness.csv")
    sources["boundary"] = [t for t in attacks if Path(t).parent.name == "decision_boundary"]
    sources["carbon"] = _named(carbon_targets(), "carbon.csv")
    return sources


def upstream_targets():
    """Everything the study builds before its report: the runtime figure waits for all of it."""
    return (
        data_targets()
        + fitted_tables()
        + summary_targets()
        + attack_targets()
        + carbon_targets()
    )


def figure_outputs(family):
    names = figure_names(family, report_sources())
    outputs = {}
    for name in names:
        outputs[name] = f"{REPORT_FIGURES}/{name}.json"
        outputs[f"{name}_svg"] = f"{REPORT_FIGURES}/{name}.svg"
    return outputs


DRAWN = {family: figure_outputs(family) for family in FAMILIES}
DRAWN = {family: outputs for family, outputs in DRAWN.items() if outputs}


for family in DRAWN:

    rule:
        name:
            f"draw_{family}_figures"
        input:
            **family_inputs(family, report_sources()),
            **({"upstream": upstream_targets()} if family == "runtime" else {}),
            code=[str(REPORT_CODE / "figures.py"), str(REPORT_CODE / "tables.py")],
        output:
            **DRAWN[family],
            carbon=f"results/carbon/report/draw_{family}_figures.csv",
        params:
            family=family,
            logs="logs",
            carbon=CARBON,
        log:
            f"logs/report/draw_{family}_figures.log",
        benchmark:
            f"logs/report/draw_{family}_figures.benchmark.tsv"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        conda:
            "../../envs/report.yaml"
        script:
            "../../scripts/draw_figures.py"


def figure_files(kind="json"):
    return [
        path
        for outputs in DRAWN.values()
        for name, path in outputs.items()
        if path.endswith(f".{kind}")
    ]


rule prepare_assets:
    input:
        **{name: str(path) for name, path in STATIC.items()},
    output:
        bundle=f"{REPORT_DOCS}/javascripts/vendor/vega-bundle.js",
        embed=f"{REPORT_DOCS}/javascripts/embed.js",
        style=f"{REPORT_DOCS}/stylesheets/report.css",
        carbon="results/carbon/report/prepare_assets.csv",
    params:
        carbon=CARBON,
    log:
        "logs/report/prepare_assets.log",
    benchmark:
        "logs/report/prepare_assets.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/prepare_assets.py"


def page_sources():
    # The labels are read for their row counts; the features are drawn from, never quoted.
    return {key: files for key, files in report_sources().items() if files and key != "X"}


# Also records the configuration and draws the rule graph (snakemake --rulegraph in a
# subprocess): this job runs after every other one and reruns whenever the configuration
# changes, so both always describe the run the pages report.
rule render_pages:
    input:
        **page_sources(),
        figures=figure_files("json"),
        templates=sorted(str(path) for path in TEMPLATES.glob("*.j2")),
        code=[str(REPORT_CODE / "pages.py"), str(REPORT_CODE / "tables.py")],
    output:
        **{page: f"{REPORT_DOCS}/{page}.md" for page in PAGES},
        config="results/report/config.yaml",
        rulegraph_dot="results/report/rulegraph.dot",
        rulegraph=f"{REPORT_FIGURES}/rulegraph.svg",
        carbon="results/carbon/report/render_pages.csv",
    params:
        templates=lambda wildcards, input: str(Path(input.templates[0]).parent),
        config=config,
        logs="logs",
        # The running Snakemake's own interpreter: it has Snakemake, whatever env the job uses.
        snakemake=[sys.executable, "-m", "snakemake", "--snakefile", workflow.main_snakefile],
        carbon=CARBON,
    log:
        "logs/report/render_pages.log",
    benchmark:
        "logs/report/render_pages.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/render_pages.py"


def report_carbon_parts():
    """The carbon CSVs of the report jobs before the build (gathered by build_site)."""
    return [f"results/carbon/report/draw_{family}_figures.csv" for family in DRAWN] + [
        f"results/carbon/report/{job}.csv"
        for job in ("prepare_assets", "render_pages")
    ]


rule build_site:
    input:
        pages=expand(f"{REPORT_DOCS}/{{page}}.md", page=PAGES),
        figures=figure_files("json") + figure_files("svg") + [f"{REPORT_FIGURES}/rulegraph.svg"],
        assets=[
            f"{REPORT_DOCS}/javascripts/vendor/vega-bundle.js",
            f"{REPORT_DOCS}/javascripts/embed.js",
            f"{REPORT_DOCS}/stylesheets/report.css",
        ],
        carbon=report_carbon_parts(),
        mkdocs=str(REPO / "mkdocs.yml"),
        code=str(REPORT_CODE / "site.py"),
    output:
        site=directory("site"),
        config="results/report/mkdocs.yml",
        carbon="results/carbon/report/build_site.csv",
        report_carbon="results/carbon/report.csv",
    params:
        docs=lambda wildcards, input: str(Path(input.pages[0]).parent),
        carbon=CARBON,
    log:
        "logs/report/build_site.log",
    benchmark:
        "logs/report/build_site.benchmark.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/build_site.py"


def report_targets():
    return ["site", "results/carbon/report.csv"]
