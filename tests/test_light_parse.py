"""Parsing the workflow is light: every cluster job parses the Snakefile again, so what the rules
import must not pull the plotting, templating or ML stacks (they are imported by the scripts)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import REPO, SNAKEMAKE

HEAVY = ("altair", "jinja2", "torch", "art", "vl_convert", "scipy")


def workflow_imports() -> list[str]:
    """The modules the Snakefile and its rule files import (their top-level import statements)."""
    modules = []
    for path in [REPO / "workflow" / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]:
        for line in path.read_text().splitlines():
            match = re.match(r"(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", line)
            if match:
                modules.append(match.group(1) or match.group(2))
    return sorted(set(modules))


def loaded_after_import(modules: list[str]) -> set[str]:
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


def test_the_workflow_imports_the_report_catalogue_not_the_drawing_code():
    modules = workflow_imports()
    assert "kryptonite_n.plan.catalogue" in modules
    drawing = ("kryptonite_n.report.figures", "kryptonite_n.report.pages")
    assert not [m for m in modules if m.startswith(drawing)]
    loaded = loaded_after_import(modules)
    assert "kryptonite_n" in loaded
    assert not loaded & set(HEAVY), f"the workflow's imports load {sorted(loaded & set(HEAVY))}"


def test_the_check_would_see_a_heavy_import():
    # The same check on a module that does draw: it must report Altair.
    assert "altair" in loaded_after_import(["kryptonite_n.report.figures"])


def test_a_dry_run_imports_no_plotting_or_ml_stack(tmp_path):
    """``snakemake -n`` on the quick config, with Python's import log: no Altair, torch or ART
    (Snakemake itself loads Jinja2 for its own reports, so that one is not ours to avoid)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", SNAKEMAKE, "-n",
         "--snakefile", str(REPO / "workflow" / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(REPO / "config" / "quick.yaml"), "--cores", "1"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "render_pages" in result.stdout  # the plan is real: the report's jobs are in it
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "kryptonite_n" in imported
    heavy = imported & {"altair", "torch", "art", "vl_convert"}
    assert not heavy, f"snakemake -n imported {sorted(heavy)}"
