# The published report: figures (one rule per family), the vendored scripts, the pages (with
# the rule graph), and the site built by `mkdocs build --strict` into site/.


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


rule build_site:
    input:
        pages=expand(f"{REPORT_DOCS}/{{page}}.md", page=PAGES),
        figures=figure_files("json") + figure_files("js") + figure_files("svg") + [f"{REPORT_FIGURES}/rulegraph.svg"],
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
