"""docs/adding-a-model.md, followed to the letter in a temporary copy of the repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, SNAKEMAKE
from dryrun import parse_jobs

BLOCK = re.compile(r'^```(\w+) title="([^"]+)"(?: (replace|before)="([^"]+)")?\n(.*?)^```$',
                   re.MULTILINE | re.DOTALL)


def follow_the_recipe(root: Path) -> list[str]:
    """Apply every titled code block of the page to the copy at ``root``; return the files touched.

    A block is a new file, or replaces (``replace=``) or goes before (``before=``) a unique anchor.
    """
    touched = []
    for _lang, title, how, anchor, body in BLOCK.findall((REPO / "docs" / "adding-a-model.md").read_text()):
        path = root / title
        anchor = anchor.encode().decode("unicode_escape")
        if how:
            text = path.read_text()
            assert text.count(anchor) == 1, f"{title}: the page's anchor {anchor!r} is not unique"
            new = body.rstrip("\n") if how == "replace" else body + anchor
            path.write_text(text.replace(anchor, new, 1))
        else:
            assert not path.exists(), f"{title} should be new"
            path.write_text(body)
        touched.append(title)
    return touched


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("with-a-model") / "repo"
    ignore = shutil.ignore_patterns(".venv", ".git", "results", "logs", "site", ".snakemake", "__pycache__",
                                    "*.egg-info")
    shutil.copytree(REPO, root, ignore=ignore)
    touched = follow_the_recipe(root)
    assert touched == ["src/kryptonite_n/plan/models.py", "src/kryptonite_n/plan/models.py",
                       "src/kryptonite_n/compute/models/linear_logreg.py",
                       "workflow/schemas/config.schema.yaml"]
    return root


def run(copy: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "PYTHONHASHSEED": "0"}
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd or copy)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def snakemake(copy: Path, *extra: str) -> subprocess.CompletedProcess:
    return run(copy, SNAKEMAKE, "--snakefile", str(copy / "workflow" / "Snakefile"), "--cores", "2",
               "--configfile", str(copy / "config" / "quick.yaml"), "--config", "dimensions=[9]",
               *extra)


def test_the_new_model_is_registered_with_its_schema_block(copy):
    code = ("from kryptonite_n.plan.models import MODELS, spec;"
            " from kryptonite_n.plan.config import prepare_config;"
            "c = prepare_config({'dimensions': [9]}); print(MODELS[0], spec('linear_logreg').label,"
            " 'linear_logreg' in c['attacks']['models'], c['models']['linear_logreg']['C'])")
    assert run(copy, sys.executable, "-c", code).stdout.split() == ["linear_logreg", "Linear", "LR", "True",
                                                                    "1.0"]


def test_the_plan_fits_and_attacks_the_new_model(copy):
    jobs = parse_jobs(snakemake(copy, "--dry-run").stdout)
    rules = [job.rule for job in jobs.values()]
    assert "fit_linear_logreg" in rules
    # It joins the scaling stage, within the limits its spec gives.
    assert "scale_linear_logreg" in rules
    code = ("from kryptonite_n.plan.config import prepare_config;"
            " from kryptonite_n.plan.scaling import model_limits;"
            "limits = model_limits(prepare_config({'dimensions': [9]}), 'linear_logreg');"
            "print(limits.max_n, limits.max_rows_factor, limits.note('linear_logreg', 30, 1))")
    assert run(copy, sys.executable, "-c", code).stdout.strip() == (
        "24 1 not fitted: n = 30 is beyond linear_logreg's spec's max_n = 24")
    attacks = [job for job in jobs.values() if job.rule == "attack_model"]
    assert any("linear_logreg" in output for job in attacks for output in job.outputs)


def test_the_summary_and_the_report_list_the_new_model(copy):
    others = "{mlp: {enabled: false}, poly_logreg: {enabled: false}, mock_baseline: {enabled: false}}"
    snakemake(copy, f"models={others}", "--", "results/summary.csv")
    summary = pd.read_csv(copy / "results" / "summary.csv")
    row = summary[summary["model"] == "linear_logreg"].iloc[0]
    assert row["n"] == 9 and row["repeats"] == 2
    assert 0.3 < row["test_acc_mean"] < 0.7  # a linear rule cannot express the parity
    assert summary["model"].iloc[0] == "linear_logreg"  # first in MODELS, first in the table
    code = ("from kryptonite_n.tables.results import MODEL_DESCRIPTIONS, MODEL_LABELS;"
            "print(MODEL_LABELS['linear_logreg'], '|', MODEL_DESCRIPTIONS['linear_logreg'])")
    assert run(copy, sys.executable, "-c", code).stdout.startswith("Linear LR | logistic regression")
