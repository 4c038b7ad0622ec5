"""What the quick run publishes, checked against an independent truth.

* Every submitted hidden-label file (and every repeat's hidden predictions) is scored against
  the hidden labels the generator draws again here from the configuration, not against any file
  the run wrote: its accuracy must equal what ``choice.csv``, ``metrics.json``, ``summary.csv``
  and the Models page say.
* Every chart of every page has data, checked without a browser: its spec script, its CSV and
  the data marks of its static SVG (the browser tests check the same in Chromium, but skip where
  there is none).
* Every number on every page is accounted for (``page_claims.py``: the table of page claims ->
  source columns, and the allow-list).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

from kryptonite_n.compute.data import GeneratorSettings, generate
from kryptonite_n.plan import paths
from kryptonite_n.plan.catalogue import PAGES
from kryptonite_n.plan.config import prepare_config

pytestmark = pytest.mark.workflow


def quick_config() -> dict:
    return prepare_config(yaml.safe_load((REPO / "config" / "quick.yaml").read_text()))


def file_of(run, pattern: str, **wildcards: object) -> Path:
    return run.directory / paths.fill(pattern, **wildcards)


# --------------------------------------------------------------------------- submitted hidden labels


def test_every_submitted_hidden_label_file_scores_what_is_published(quick_run):
    config = quick_config()
    choice = pd.read_csv(file_of(quick_run, paths.HIDDEN_CHOICE))
    models_page = file_of(quick_run, paths.PAGE, page="models").read_text()
    assert sorted(choice["n"]) == sorted(config["dimensions"])
    for n in config["dimensions"]:
        # The truth: drawn again from the configuration, independent of every file of the run.
        truth = generate(n, config["seed"], GeneratorSettings(**config["generator"])).hidden_y
        submitted = np.load(file_of(quick_run, paths.HIDDEN_SUBMISSION, n=n), allow_pickle=False)
        assert submitted.dtype == np.int64 and submitted.shape == truth.shape
        assert set(np.unique(submitted)) <= {0, 1}
        accuracy = float(np.mean(submitted == truth))
        row = choice[choice["n"] == n].iloc[0]
        assert accuracy == pytest.approx(row["hidden_acc"], abs=1e-12), n
        # The chosen repeat's own files say the same, and so does the Models page.
        repeat_files = {"model": row["model"], "n": n, "repeat": int(row["repeat"])}
        metrics = json.loads(file_of(quick_run, paths.FIT_FILES["metrics"], **repeat_files).read_text())
        assert metrics["hidden_acc"] == pytest.approx(accuracy, abs=1e-12)
        probability_file = file_of(quick_run, paths.HIDDEN_PROBABILITY, n=n)
        cell = f"`{probability_file.name}`" if row["probabilities"] else "labels only"
        assert re.search(rf"^\| {n} \|.*\| {accuracy:.4f} \| {cell} \|$", models_page, flags=re.MULTILINE), n
        assert accuracy > 0.6, f"n={n}: the submitted labels are near chance ({accuracy:.4f})"
        # The submitted probabilities, where the chosen model has them: the chosen repeat's, and
        # label 1 exactly where they exceed 0.5.
        assert probability_file.exists() == bool(row["probabilities"]), n
        if row["probabilities"]:
            probability = np.load(probability_file, allow_pickle=False)
            assert ((probability > 0.5) == (submitted == 1)).all()
            chosen = np.load(file_of(quick_run, paths.PROBABILITY_FILES["hidden_probabilities"],
                                     **repeat_files))
            assert np.array_equal(probability, chosen)


def test_every_repeats_hidden_predictions_score_what_its_metrics_say(quick_run):
    config = quick_config()
    summary = pd.read_csv(file_of(quick_run, paths.SUMMARY))
    fitted = summary[summary["repeats"] > 0]
    assert len(fitted) > 0
    truths = {
        n: generate(n, config["seed"], GeneratorSettings(**config["generator"])).hidden_y
        for n in config["dimensions"]
    }
    for row in fitted.itertuples():
        scores = []
        for repeat in range(int(row.repeats)):
            wildcards = {"model": row.model, "n": int(row.n), "repeat": repeat}
            predicted = np.load(file_of(quick_run, paths.FIT_FILES["hidden_predictions"], **wildcards))
            metrics = json.loads(file_of(quick_run, paths.FIT_FILES["metrics"], **wildcards).read_text())
            scores.append(float(np.mean(predicted == truths[int(row.n)])))
            assert metrics["hidden_acc"] == pytest.approx(scores[-1], abs=1e-12), wildcards
        assert row.hidden_acc_mean == pytest.approx(np.mean(scores), abs=1e-9), (row.model, row.n)


# --------------------------------------------------------------------------- charts have data


def data_marks(svg: str) -> int:
    """Items drawn by the data marks of a Vega SVG (not axes, legends, titles or frames)."""
    root = ET.fromstring(svg)
    count = 0
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        classes = (group.get("class") or "").split()
        if "role-mark" in classes and not any(c == "mark-group" for c in classes):
            count += sum(1 for child in group if not child.tag.endswith("}g") or child.get("class"))
    return count


def test_every_chart_on_every_page_has_data_without_a_browser(quick_run):
    docs = file_of(quick_run, paths.REPORT_DOCS)
    charts = 0
    for page in PAGES:
        text = (docs / f"{page}.md").read_text()
        names = re.findall(
            r'<div class="vega-chart" id="chart-([\w-]+)" data-name="\1" data-spec="figures/\1\.js"', text
        )
        assert len(names) == text.count('class="vega-chart"'), page
        for name in names:
            charts += 1
            script = (docs / "figures" / f"{name}.js").read_text()
            spec = json.loads(script[script.index("] = ") + 4 :].rstrip().rstrip(";"))
            inline = [d for d in spec.get("data", []) if "values" in d]
            assert inline and all(d["values"] for d in inline), (page, name)
            table = pd.read_csv(docs / "figures" / f"{name}.csv")
            assert len(table) > 0, (page, name)
            assert data_marks((docs / "figures" / f"{name}.svg").read_text()) > 0, (page, name)
            assert spec.get("description"), (page, name)
    assert charts >= len(PAGES)  # the quick run produces every stage: each page has a chart


# --------------------------------------------------------------------------- every number on every page


def test_every_number_on_every_page_comes_from_its_result_file(quick_run):
    """page_claims.py: each number on a page is a claim checked against its source column, or allowed."""
    import page_claims

    docs = file_of(quick_run, paths.REPORT_DOCS)
    wrong, unaccounted = [], []
    for page in PAGES:
        text = (docs / f"{page}.md").read_text()
        report = page_claims.check_page(
            page, text, quick_run.directory, page_claims.TABLES, page_claims.TEXT, page_claims.ALLOWED
        )
        wrong += report.wrong
        unaccounted += report.unaccounted
    assert not wrong, "page numbers that differ from their result files:\n" + "\n".join(wrong)
    assert not unaccounted, (
        "numbers no claim in tests/page_claims.py accounts for (add a claim naming the "
        "result column it comes from):\n" + "\n".join(unaccounted)
    )
