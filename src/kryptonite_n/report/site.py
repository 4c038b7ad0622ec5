"""The site around the pages: vendored JavaScript, the rule graph, and the MkDocs build.

The site works offline, also opened from disk: one Vega / Vega-Lite / Vega-Embed bundle (from
vl-convert) is shipped with it, each chart's spec is a script beside its page, search runs from a
script index in an iframe worker (Material's offline plugin, with a vendored shim), the theme
loads no web fonts, and nothing else is requested from anywhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from kryptonite_n.compute.carbon import phase
from kryptonite_n.io import DataError, atomic_path
from kryptonite_n.report.figures import vega_lite_version

#: Where the vendored bundle sits inside the docs folder (mkdocs.yml lists it).
BUNDLE = "javascripts/vendor/vega-bundle.js"


def vega_bundle() -> str:
    """Vega, Vega-Embed and the Vega-Lite it imports (the version Altair writes) as one script.

    The figures arrive compiled to Vega; Vega-Lite rides along because Vega-Embed imports it.
    """
    import vl_convert

    version = vega_lite_version()
    header = (f"/* Vega {vl_convert.get_vega_version()}, Vega-Lite {version}, Vega-Embed "
              f"{vl_convert.get_vega_embed_version()}: bundled by vl-convert-python (BSD-3-Clause). */\n")
    return header + vl_convert.javascript_bundle(vl_version=version)


def prepare_assets(static: Mapping[str, str | Path], outputs: Mapping[str, str | Path]) -> None:
    """Write the vendored bundle to ``outputs['bundle']`` and copy each static source to its output."""
    with phase("report"):
        with atomic_path(outputs["bundle"]) as tmp:
            tmp.write_text(vega_bundle())
        for name, source in static.items():
            with atomic_path(outputs[name]) as tmp:
                shutil.copyfile(source, tmp)


def rule_graph_dot(command: Sequence[str], workdir: Path | str, config_file: Path | str) -> str:
    """The workflow's rule graph, from ``snakemake --rulegraph`` run beside the current run.

    ``--nolock`` because the running workflow holds the lock; the run's complete configuration
    is passed as a config file, so the graph is the one of this run.
    """
    arguments = [*command, "--directory", str(workdir), "--configfile", str(config_file), "--rulegraph",
                 "--nolock", "--cores", "1", "--workflow-profile", "none"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE_PROFILE")}
    result = subprocess.run(arguments, capture_output=True, text=True, cwd=workdir, env=env, check=False)
    start = result.stdout.find("digraph")
    if result.returncode != 0 or start < 0:
        raise DataError(f"snakemake --rulegraph failed (exit {result.returncode}): "
                        f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return result.stdout[start:]


def without_target_rule(dot: str, target: str = "all") -> str:
    """The rule graph minus the default target's node: it only gathers, and its edges hide the flow."""
    node = re.search(rf'^\s*(\d+)\[label = "{re.escape(target)}"', dot, flags=re.MULTILINE)
    if node is None:
        return dot
    ident = node.group(1)
    kept = [line for line in dot.splitlines()
            if not re.match(rf"^\s*({ident}\[|\d+ -> {ident}$|{ident} -> \d+$)", line.strip())]
    return "\n".join(kept) + "\n"


def dot_to_svg(dot: str) -> str:
    dot_program = shutil.which("dot")
    if dot_program is None:
        raise DataError("graphviz 'dot' not found on PATH: install graphviz (make system-deps) "
                        "to draw the rule graph")
    dot = without_target_rule(dot)
    tred = shutil.which("tred")
    if tred is not None:
        # Transitive reduction: an edge implied by a longer path adds clutter, not information.
        reduced = subprocess.run([tred], input=dot, capture_output=True, text=True, check=False)
        if reduced.returncode == 0 and reduced.stdout.strip():
            dot = reduced.stdout
    result = subprocess.run([dot_program, "-Tsvg", "-Grankdir=LR", "-Nfontname=sans-serif"],
                            input=dot, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DataError(f"dot -Tsvg failed: {result.stderr.strip()}")
    return result.stdout


def draw_rule_graph(command: Sequence[str], config_file: Path | str, dot_path: Path | str,
                    svg_path: Path | str) -> None:
    """The rule graph of the run configured by ``config_file``, as DOT and SVG."""
    dot = rule_graph_dot(command, Path.cwd(), Path(config_file).resolve())
    with atomic_path(dot_path) as tmp:
        tmp.write_text(dot)
    with atomic_path(svg_path) as tmp:
        tmp.write_text(dot_to_svg(dot))


def site_config(mkdocs_yml: Path | str, docs_dir: Path | str, site_dir: Path | str) -> dict:
    """The project's mkdocs.yml pointed at this run's docs folder and site folder."""
    config = yaml.safe_load(Path(mkdocs_yml).read_text())
    config["docs_dir"] = str(Path(docs_dir).resolve())
    config["site_dir"] = str(Path(site_dir).resolve())
    return config


def mkdocs_build(config_file: Path | str) -> str:
    """``mkdocs build --strict``: any warning fails the build. Returns MkDocs' log."""
    # mkdocs-material (pinned, see docs/report.md) prints an end-of-life notice on every build;
    # NO_MKDOCS_2_WARNING is its documented switch. Everything else MkDocs warns about fails.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(config_file)], capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise DataError(f"mkdocs build --strict failed for {config_file}:\n{result.stderr.strip()}")
    return result.stderr


def search_languages(config: dict) -> list[str]:
    """The languages of the search plugin's index (Material's default: the site's, here English)."""
    for plugin in config.get("plugins") or []:
        if isinstance(plugin, dict) and "search" in plugin:
            lang = (plugin["search"] or {}).get("lang") or ["en"]
            return [lang] if isinstance(lang, str) else list(lang)
    return ["en"]


def prune_site(site: Path | str, config: dict) -> list[Path]:
    """Delete theme files no reader's browser loads; returns what was removed.

    Material ships source maps of its scripts (for its own debugging) and lunr's stemmers and
    word splitters for other languages, which its search worker loads only for an index in a
    language other than English. Together they are about 2 MB of a site that must stay light.
    """
    site = Path(site)
    removed = sorted((site / "assets").rglob("*.map"))
    if search_languages(config) == ["en"]:
        removed += sorted(p for p in (site / "assets" / "javascripts" / "lunr").rglob("*") if p.is_file())
    for path in removed:
        path.unlink()
    return removed


def stage_documents(docs_dir: Path | str, documents: Sequence[str | Path], staging: Path) -> None:
    """Copy ``documents`` (files under ``docs_dir``) to ``staging``, keeping their relative paths."""
    docs_dir = Path(docs_dir).resolve()
    for document in documents:
        source = Path(document).resolve()
        if not source.is_relative_to(docs_dir):
            raise DataError(f"{document}: not inside the docs folder {docs_dir}")
        target = staging / source.relative_to(docs_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def build_site(mkdocs_yml: Path | str, docs_dir: Path | str, documents: Sequence[str | Path],
               outputs: Mapping[str, str | Path]) -> None:
    """Build the site into ``outputs['site']`` (a folder, replaced whole) with ``mkdocs build --strict``.

    Only ``documents`` (this run's pages, figures and assets under ``docs_dir``) are built, so
    a figure left in ``docs_dir`` by an earlier run with another configuration is not shipped.
    ``outputs['config']`` keeps the MkDocs configuration for ``mkdocs serve -f`` on this run.
    """
    site = Path(outputs["site"])
    building = site.with_name(f".{site.name}.building")
    with phase("report"):
        shutil.rmtree(building, ignore_errors=True)
        with tempfile.TemporaryDirectory() as folder:
            staging = Path(folder) / "docs"
            stage_documents(docs_dir, documents, staging)
            build_config = Path(folder) / "mkdocs.yml"
            config = site_config(mkdocs_yml, staging, building)
            build_config.write_text(yaml.safe_dump(config, sort_keys=False))
            print(mkdocs_build(build_config), file=sys.stderr)
            removed = prune_site(building, config)
            print(f"removed {len(removed)} theme files no page loads (source maps, other languages' "
                  f"search stemmers)", file=sys.stderr)
        with atomic_path(outputs["config"]) as tmp:
            tmp.write_text(yaml.safe_dump(site_config(mkdocs_yml, docs_dir, site), sort_keys=False))
        shutil.rmtree(site, ignore_errors=True)
        os.replace(building, site)
