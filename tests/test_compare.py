"""Comparing two runs' result files: equal runs pass, every kind of difference is found and located."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from kryptonite_n.tables.compare import compare_runs


@pytest.fixture
def runs(tmp_path):
    """Two working directories holding the same small results tree."""
    reference = tmp_path / "reference"
    results = reference / "results"
    (results / "models" / "mlp" / "n9").mkdir(parents=True)
    (results / "carbon").mkdir()
    (results / "figures").mkdir()
    pd.DataFrame({"model": ["mlp", "xor_oracle"], "n": [9, 9], "test_acc": [0.91, float("nan")],
                  "fit_seconds": [1.5, 0.1]}).to_csv(results / "summary.csv", index=False)
    np.save(results / "models" / "mlp" / "n9" / "test_predictions.npy", np.arange(10) % 2)
    np.savez(results / "models" / "mlp" / "n9" / "model.npz", W1=np.eye(3, dtype=np.float32),
             b=np.array([np.nan, 1.0]))
    (results / "models" / "mlp" / "n9" / "metrics.json").write_text(json.dumps(
        {"test_acc": 0.91, "details": {"epochs": [3, 4]}, "fit_seconds": 2.0}))
    carbon = pd.DataFrame({"stage": ["train"], "energy_kwh": [1e-6]})
    carbon.to_csv(results / "carbon" / "mlp.csv", index=False)
    (results / "figures" / "overview.svg").write_text("<svg/>")
    other = tmp_path / "other"
    shutil.copytree(reference, other)
    return reference, other


def test_equal_runs_are_the_same_and_every_file_is_counted(runs):
    comparison = compare_runs(*runs)
    assert comparison.same, comparison.report()
    assert sorted(comparison.identical) == ["models/mlp/n9/metrics.json", "models/mlp/n9/model.npz",
                                            "models/mlp/n9/test_predictions.npy", "summary.csv"]
    assert comparison.existence_only == ["figures/overview.svg"]
    assert comparison.skipped == ["carbon/mlp.csv"]


def test_run_measurements_may_differ(runs):
    reference, other = runs
    results = other / "results"
    table = pd.read_csv(results / "summary.csv")
    table["fit_seconds"] = [9.0, 9.0]
    table.to_csv(results / "summary.csv", index=False)
    metrics = json.loads((results / "models/mlp/n9/metrics.json").read_text())
    (results / "models/mlp/n9/metrics.json").write_text(json.dumps({**metrics, "fit_seconds": 7.0}))
    carbon = pd.DataFrame({"stage": ["train"], "energy_kwh": [5.0]})
    carbon.to_csv(results / "carbon" / "mlp.csv", index=False)
    # A figure of measured costs (fit seconds and memory against n) is a measurement too.
    for run, seconds in ((reference, 2.15), (other, 2.47)):
        figure = run / "results" / "report" / "docs" / "figures" / "scaling_cost.csv"
        figure.parent.mkdir(parents=True, exist_ok=True)
        figure.write_text(f"model,n,value,measure\nmlp,9,{seconds},fit_seconds\n")
    assert compare_runs(reference, other).same


def test_a_changed_csv_value_is_found_with_its_column_and_row(runs):
    reference, other = runs
    table = pd.read_csv(other / "results" / "summary.csv")
    table.loc[1, "test_acc"] = 0.5  # was NaN: NaN equals only NaN
    table.to_csv(other / "results" / "summary.csv", index=False)
    comparison = compare_runs(reference, other)
    assert comparison.problems == [
        "differs: results/summary.csv: column 'test_acc': 1 of 2 rows differ, first row 1: nan vs 0.5"]
    assert "1 differences" in comparison.summary()


def test_a_changed_array_is_found_with_its_index(runs):
    reference, other = runs
    path = other / "results" / "models" / "mlp" / "n9" / "test_predictions.npy"
    changed = np.load(path)
    changed[7] = 1 - changed[7]
    np.save(path, changed)
    (problem,) = compare_runs(reference, other).problems
    assert problem.startswith("differs: results/models/mlp/n9/test_predictions.npy: 1 of 10 values differ, "
                              "first at (7,)")
    np.save(path, changed.astype(np.int32))
    (problem,) = compare_runs(reference, other).problems
    assert problem.endswith("dtype int64 vs int32")


def test_a_changed_npz_member_is_named(runs):
    reference, other = runs
    path = other / "results" / "models" / "mlp" / "n9" / "model.npz"
    weights = np.eye(3, dtype=np.float32)
    weights[2, 1] = 1e-7
    np.savez(path, W1=weights, b=np.array([np.nan, 1.0]))
    (problem,) = compare_runs(reference, other).problems
    assert "array 'W1': 1 of 9 values differ, first at (2, 1)" in problem
    assert "largest difference 1e-07" in problem


def test_a_changed_json_value_is_found_by_its_key_path(runs):
    reference, other = runs
    path = other / "results" / "models" / "mlp" / "n9" / "metrics.json"
    path.write_text(json.dumps({"test_acc": 0.91, "details": {"epochs": [3, 5]}, "fit_seconds": 2.0}))
    assert compare_runs(reference, other).problems == [
        "differs: results/models/mlp/n9/metrics.json: /details/epochs/1: 4 vs 5"]


def test_missing_files_are_reported_on_their_side_and_include_filters(runs):
    reference, other = runs
    (other / "results" / "summary.csv").unlink()
    (other / "results" / "extra.json").write_text("{}")
    assert compare_runs(reference, other).problems == [
        f"only in {reference}: results/summary.csv", f"only in {other}: results/extra.json"]
    only_models = compare_runs(reference, other, include=lambda name: name.startswith("models/"))
    assert only_models.same and len(only_models.identical) == 3


def test_a_folder_without_results_is_named(runs, tmp_path):
    reference, _ = runs
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "empty" / "results")):
        compare_runs(reference, tmp_path / "empty")


def test_the_cluster_script_exits_by_the_comparison(runs):
    reference, other = runs
    script = [sys.executable, str(REPO / ".ci" / "cluster" / "compare_runs.py"), str(reference), str(other)]
    same = subprocess.run(script, capture_output=True, text=True)
    assert same.returncode == 0, same.stderr
    assert "4 identical" in same.stdout
    np.save(other / "results/models/mlp/n9/test_predictions.npy", np.zeros(10, dtype=np.int64))
    different = subprocess.run(script, capture_output=True, text=True)
    assert different.returncode == 1
    assert "differs: results/models/mlp/n9/test_predictions.npy" in different.stderr
