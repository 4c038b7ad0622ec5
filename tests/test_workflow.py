"""End to end: the quick study runs, caches, and refuses bad input before or during its jobs."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import REPO, WorkflowRun

from kryptonite_n.compute.data import GeneratorSettings, generate
from kryptonite_n.plan.models import specs
from kryptonite_n.plan.paths import dataset_files
from kryptonite_n.tables.compare import compare_runs, result_files

pytestmark = pytest.mark.workflow


def test_quick_run_writes_the_datasets(quick_run):
    for n in (9, 12):
        folder = quick_run.directory / "results" / "data" / f"n{n}"
        X = np.load(folder / f"kryptonite-{n}-X.npy")
        assert X.shape == (300 * n, n) and X.dtype == np.float32
        assert np.load(folder / f"hidden-kryptonite-{n}-y.npy").shape == (1000,)
        truth = json.loads((folder / "truth.json").read_text())
        assert len(truth["informative"]) == 2 * n // 3
        assert sorted((folder / "splits").iterdir())[-1].name == "repeat1.npy"
        assert (quick_run.directory / "logs" / "data" / f"n{n}" / "prepare_dataset.benchmark.tsv").exists()


def test_second_run_has_nothing_to_do(quick_run):
    result = quick_run.run("--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr


def _about_n9(name: str) -> bool:
    """A result file of n = 9 alone: an ``n9`` folder or an ``n9.*`` file."""
    return re.search(r"(^|/)n9(/|\.[a-z]+$)", name) is not None


def test_a_second_run_of_n9_gives_identical_result_files(quick_run, tmp_path):
    """The same config in a fresh folder, n = 9's jobs only: every result file equal."""
    targets = sorted(name for name in result_files(quick_run.directory) if _about_n9(name))
    # Every stage of n = 9 is there: data, splits, fits, attacks, network analysis.
    assert {name.split("/")[0] for name in targets} >= {
        "data", "models", "adversarial", "network_analysis", "decision_boundary", "carbon"}
    second = WorkflowRun(tmp_path, quick_run.configfile)
    second.run("--", *(f"results/{name}" for name in targets))
    comparison = compare_runs(quick_run.directory, tmp_path, include=_about_n9)
    assert comparison.same, comparison.report()
    # Numbers were compared, not only names: every array, table and JSON file of n = 9.
    compared = set(comparison.identical)
    assert {"data/n9/kryptonite-9-X.npy", "data/n9/splits/repeat1.npy", "models/mlp/n9/metrics.csv",
            "models/mlp/n9/repeat0/model.npz", "adversarial/mlp/n9.csv"} <= compared
    assert len(compared) + len(comparison.skipped) + len(comparison.existence_only) == len(targets)


def test_unknown_config_key_stops_before_any_job(tmp_path):
    run = WorkflowRun(tmp_path, REPO / "config" / "quick.yaml")
    result = run.run("--config", "dimensoins=[9]", check=False)
    assert result.returncode != 0
    assert "'dimensoins' was unexpected" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_dimensions_below_two_stop_before_any_job(tmp_path):
    run = WorkflowRun(tmp_path, REPO / "config" / "quick.yaml")
    result = run.run("--config", "dimensions=[1]", check=False)
    assert result.returncode != 0
    assert "dimensions.0" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def later_edition_config(tmp_path, data_dir) -> WorkflowRun:
    """The quick study on files of the later edition's layout in ``data_dir``, n = 10: short fits,
    no attacks, tuning, scaling or carbon (other tests cover those stages)."""
    import yaml

    config = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())
    config |= {"dimensions": [10], "data_dir": str(data_dir), "repeats": 2,
               "attacks": {"enabled": False}, "network_analysis": {"enabled": False},
               "carbon": {"enabled": False}, "scaling": {"enabled": False}}
    models = config["models"]
    models["mlp"] |= {"max_epochs": 30, "patience": 10}
    models["poly_logreg"] |= {"dimensions": None, "epochs": 3}  # by_n has n = 9 only
    models["mock_baseline"] = {"enabled": False}
    models["mlp_tuned"] = {"enabled": False}
    path = tmp_path / "later-edition.yaml"
    path.write_text(yaml.safe_dump(config))
    return WorkflowRun(tmp_path / "run", path)


def test_later_edition_files_run_end_to_end(tmp_path):
    """n = 10 (not a multiple of 3), one noise for every feature, half of them in the parity,
    read from a data_dir as a user of the later edition would: every model runs, the
    shape-selected ones say they are not applicable, the reference is cross-fitted, hidden
    labels are written, and the pages say all of it."""
    import pandas as pd

    data = generate(10, 12, GeneratorSettings(rows_per_feature=300, hidden_rows=1000, layout="shared",
                                              parity_share=0.5))
    folder = tmp_path / "published"
    folder.mkdir()
    files = dataset_files(folder, 10)
    for key in ("X", "y", "hidden_X"):
        np.save(files[key], getattr(data, key))
    run = later_edition_config(tmp_path, folder)
    pages = [f"results/report/docs/{page}.md" for page in ("index", "data", "secret", "models")]
    run.run("--", "results/summary.csv", "results/hiddenlabels/y_predicted_10.npy",
            "results/support.csv", *pages)
    out = run.directory / "results"
    labels = np.load(out / "hiddenlabels" / "y_predicted_10.npy")
    assert labels.shape == (1000,) and set(np.unique(labels)) <= {0, 1}
    summary = pd.read_csv(out / "summary.csv").set_index("model")
    # Every model of the configuration ran at n = 10: none is left out for want of a table row.
    assert {"mlp", "poly_logreg", "xor_oracle", "fso_logreg", "parity_gf2"} <= set(summary.index)
    # The quick run fits the classic baselines at n = 9 only (quick.yaml): they say so.
    baselines = summary[summary.index.isin([s.name for s in specs() if s.classic_baseline])]
    assert baselines["note"].str.contains("is outside models.").all() and (baselines["repeats"] == 0).all()
    assert (summary.drop(baselines.index)["repeats"] == 2).all()
    for model in ("xor_oracle", "fso_logreg"):
        assert summary.loc[model, "note"].startswith("not applicable: the noise shapes separate no family")
        assert pd.isna(summary.loc[model, "test_acc_mean"])
    gf2 = summary.loc["parity_gf2"]
    bayes = data.truth["bayes"]["accuracy"]
    assert abs(gf2["test_acc_mean"] - bayes) < 0.02 and pd.isna(gf2["note"])
    # The reference: cross-fitted (no label-free rule exists here), near the generator's Bayes.
    assert gf2["bayes_source"].startswith("cross-fitted GF(2) parity rule")
    assert abs(gf2["bayes_acc"] - bayes) < 0.015
    assert pd.isna(gf2["target"])  # no published target at n = 10
    support = pd.read_csv(out / "support.csv")
    assert support[support["model"] == "parity_gf2"]["features"].tolist() == [
        " ".join(map(str, data.truth["informative"]))] * 2
    features = pd.read_csv(out / "data" / "n10" / "features.csv")
    assert set(features["family"]) == {"gaussian"} and features["threshold"].between(0.45, 0.55).all()
    text = {page: (run.directory / path).read_text()
            for page, path in zip(("index", "data", "secret", "models"), pages, strict=True)}
    assert "cross-fitted GF(2) parity rule" in text["data"] and "a model may score above it" in text["data"]
    assert "At no n do the shapes separate the features" in text["data"]
    assert "no target" in text["data"] and "no target" in text["index"]
    assert "not applicable" in text["secret"] and "not applicable" in text["index"]
    assert "the n = 9 row" in text["models"]


def _published_folder(tmp_path, n=9):
    data = generate(n, 4, GeneratorSettings(rows_per_feature=200, hidden_rows=300))
    folder = tmp_path / "published"
    folder.mkdir()
    files = dataset_files(folder, n)
    for key in ("X", "y", "hidden_X"):
        np.save(files[key], getattr(data, key))
    return folder, files, data


def test_published_files_are_read_and_explored(tmp_path):
    folder, _, data = _published_folder(tmp_path)
    run = WorkflowRun(tmp_path / "run", REPO / "config" / "quick.yaml")
    run.run("--config", f"data_dir={folder}", "dimensions=[9]", "--", "results/data/n9/features.csv")
    out = tmp_path / "run" / "results" / "data" / "n9"
    assert np.array_equal(np.load(out / "kryptonite-9-X.npy"), data.X)
    assert not (out / "hidden-kryptonite-9-y.npy").exists()


def test_bad_published_file_fails_with_its_name_and_leaves_nothing(tmp_path):
    folder, files, data = _published_folder(tmp_path)
    y = data.y.copy()
    y[10] = 2
    np.save(files["y"], y)
    run = WorkflowRun(tmp_path / "run", REPO / "config" / "quick.yaml")
    result = run.run("--config", f"data_dir={folder}", "dimensions=[9]", "--",
                     "results/data/n9/features.csv", check=False)
    assert result.returncode != 0
    assert f"{files['y']}: labels must be exactly 0 or 1" in result.stdout + result.stderr
    leftovers = [p for p in (tmp_path / "run" / "results").rglob("*") if p.is_file()]
    assert leftovers == []
