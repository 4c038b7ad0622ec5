# The published report: figures (one rule per family), the vendored scripts, the pages (with
# the rule graph), and the site built by `mkdocs build --strict` into site/.
#
# The report reads only files the DAG produces for this configuration (PLAN.report_sources()), so a
# disabled stage gives a page that says so, never a missing input.


for family in PLAN.drawn:

    rule:
        name:
            f"draw_{family}_figures"
        input:
            **family_inputs(family, PLAN.report_sources()),
            **({"upstream": PLAN.upstream_targets()} if family == "runtime" else {}),
            code=code("draw_figures", families=[family]),
        output:
            **PLAN.drawn[family],
            carbon=paths.fill(paths.CARBON_REPORT_JOB, job=f"draw_{family}_figures"),
        log:
            f"logs/report/draw_{family}_figures.log",
        benchmark:
            f"logs/report/draw_{family}_figures.benchmark.tsv"
        conda:
            "../../envs/report.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            family=family,
            logs=paths.LOGS,
        script:
            "../../scripts/draw_figures.py"


rule prepare_assets:
    input:
        **{name: str(path) for name, path in STATIC.items()},
        code=code("prepare_assets"),
    output:
        **paths.REPORT_ASSETS,
        carbon=paths.fill(paths.CARBON_REPORT_JOB, job="prepare_assets"),
    log:
        "logs/report/prepare_assets.log",
    benchmark:
        "logs/report/prepare_assets.benchmark.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../../scripts/prepare_assets.py"


# Also records the configuration and draws the rule graph (snakemake --rulegraph in a
# subprocess): this job runs after every other one and reruns whenever the configuration
# changes, so both always describe the run the pages report.
rule render_pages:
    input:
        **PLAN.page_sources(),
        figures=PLAN.figure_files("js"),
        templates=sorted(str(path) for path in TEMPLATES.glob("*.j2")),
        code=code("render_pages"),
    output:
        **{page: paths.fill(paths.PAGE, page=page) for page in PAGES},
        config=paths.REPORT_CONFIG,
        rulegraph_dot=paths.RULEGRAPH_DOT,
        rulegraph=paths.RULEGRAPH,
        runtimes=paths.REPORT_RUNTIMES,
        carbon=paths.fill(paths.CARBON_REPORT_JOB, job="render_pages"),
    log:
        "logs/report/render_pages.log",
    benchmark:
        "logs/report/render_pages.benchmark.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        templates=lambda wildcards, input: str(Path(input.templates[0]).parent),
        config=config,
        logs=paths.LOGS,
        # The running Snakemake's own interpreter: it has Snakemake, whatever env the job uses.
        snakemake=[
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            workflow.main_snakefile,
        ],
    script:
        "../../scripts/render_pages.py"


rule build_site:
    input:
        pages=[paths.fill(paths.PAGE, page=page) for page in PAGES],
        figures=PLAN.figure_files("js")
        + PLAN.figure_files("svg")
        + PLAN.figure_files("csv")
        + [paths.RULEGRAPH],
        assets=list(paths.REPORT_ASSETS.values()),
        mkdocs=str(REPO / "mkdocs.yml"),
        code=code("build_site"),
    output:
        site=directory(paths.SITE),
        config=paths.MKDOCS_CONFIG,
        carbon=paths.fill(paths.CARBON_REPORT_JOB, job="build_site"),
    log:
        "logs/report/build_site.log",
    benchmark:
        "logs/report/build_site.benchmark.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        docs=lambda wildcards, input: str(Path(input.pages[0]).parent),
    script:
        "../../scripts/build_site.py"
