"""The published report: tables read from the results, Altair figures, Jinja pages, the site.

* ``tables``: read result files defensively into tidy frames (absent stage -> empty input);
* ``figures``: one Altair chart per figure, grouped in families (one workflow rule each),
  compiled to a Vega spec (a script) for the site, with a static SVG for print and its CSV;
* ``pages``: the numbers the prose quotes, and the Jinja2 templates rendered into Markdown;
* ``site``: the vendored Vega bundle, the rule graph, and ``mkdocs build --strict``.

Nothing here imports Snakemake; the report rules pass file lists and read nothing else,
except the benchmark files, which only exist once the jobs they time have finished.
"""
