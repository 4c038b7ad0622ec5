"""The tuning stage: trials read only training and validation rows, one-worker searches repeat
exactly, a killed search resumes from its journal, and the tuned MLP is a model like the others."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from kryptonite_n import tuning
from kryptonite_n.bayes import bayes_limit
from kryptonite_n.config import prepare_config
from kryptonite_n.data import GeneratorSettings, generate, load_split, make_split, write_dataset, write_splits
from kryptonite_n.io import DataError
from kryptonite_n.models import FitTask, load_predictor, model_module
from kryptonite_n.nets.tuned import train_stack
from kryptonite_n.paths import dataset_files as published_files

ALL_FILES = ("X", "y", "hidden_X", "hidden_y", "truth")


def dataset_files(folder: Path, n: int) -> dict[str, Path]:
    return published_files(folder, n, ALL_FILES)


def labelled(folder: Path) -> dict[str, Path]:
    """What a search job is given: the labelled set's two files."""
    return published_files(folder, N, ("X", "y"))

REPO = Path(__file__).resolve().parents[1]
N = 6
SEED = 3
FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}
#: Small and fast, with pruning on, so that determinism covers pruned trials too.
SETTINGS = {
    "trials": 5, "workers": 1, "max_epochs": 10,
    "patience": 4, "split_repeat": 0, "sampler": {"startup_trials": 2},
    "pruner": {"kind": "median", "startup_trials": 1, "warmup_epochs": 2},
    "space": {"hidden_units": {"low": 8, "high": 32}, "layers": [1, 2],
              "activation": ["relu", "tanh", "elu", "gelu"], "optimizer": ["sgd", "adam", "adamw"],
              "lr": {"low": 0.001, "high": 0.1, "log": True}, "batch_size": [32, 64],
              "dropout": {"low": 0.0, "high": 0.2, "log": False},
              "weight_decay": {"low": 1e-6, "high": 1e-3, "log": True}, "momentum": 0.9},
}
#: Columns a machine cannot repeat: wall time, and Optuna's own counter (a killed trial takes a number).
UNREPEATABLE = ["seconds", "number"]


def make_data(folder: Path) -> Path:
    """A small generated dataset and one split in ``folder``; returns the split file."""
    dataset = generate(N, seed=SEED, settings=GeneratorSettings(rows_per_feature=200, hidden_rows=300))
    write_dataset(dataset, dataset_files(folder, N))
    split = folder / "split0.npy"
    write_splits(dataset_files(folder, N)["y"], N, FRACTIONS, SEED, [0], [split])
    return split


def run_search(folder: Path, split: Path, settings: dict = SETTINGS) -> pd.DataFrame:
    record = tuning.search("mlp", N, data_files=labelled(folder), split_file=split,
                           journal=folder / "study.journal", settings=settings, seed=SEED,
                           out=folder / "worker0.json")
    outputs = {"trials": folder / "trials.csv", "importances": folder / "importances.csv"}
    tuning.collect("mlp", N, worker_records=[folder / "worker0.json"], settings=settings, seed=SEED,
                   outputs=outputs)
    assert record["trials_run"] == sorted(record["trials_run"])
    return pd.read_csv(outputs["trials"])


def repeatable(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=UNREPEATABLE).reset_index(drop=True)


@pytest.fixture(scope="module")
def first_search(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("search-a")
    split = make_data(folder)
    return folder, split, run_search(folder, split)


def test_search_records_every_trial(first_search):
    _, _, table = first_search
    assert list(table["trial"]) == list(range(SETTINGS["trials"]))
    assert set(table["state"]) <= {"COMPLETE", "PRUNED"}
    assert (table["epochs"] >= 1).all() and (table["epochs"] <= SETTINGS["max_epochs"]).all()
    complete = table[table["state"] == "COMPLETE"]
    assert complete["validation_acc"].between(0, 1).all()
    # A pruned trial stopped before its epoch limit, and has no final value.
    pruned = table[table["state"] == "PRUNED"]
    assert pruned["validation_acc"].isna().all() and (pruned["epochs"] < SETTINGS["max_epochs"]).all()


def test_two_one_worker_searches_give_identical_trials(first_search, tmp_path):
    _, _, table = first_search
    split = make_data(tmp_path)
    again = run_search(tmp_path, split)
    pd.testing.assert_frame_equal(repeatable(again), repeatable(table))
    assert (again["number"] == table["number"]).all()  # nothing killed: Optuna's numbers agree too


def test_a_trial_never_reads_test_or_hidden_rows(first_search, tmp_path):
    _, _, table = first_search
    split = make_data(tmp_path)
    files = dataset_files(tmp_path, N)
    test_rows = load_split(split).test
    X, y = np.load(files["X"]), np.load(files["y"])
    # Garbage in every test row and flipped test labels; no hidden set at all.
    X[test_rows] = np.random.default_rng(0).normal(50.0, 30.0, size=(len(test_rows), N)).astype(X.dtype)
    y[test_rows] = 1 - y[test_rows]
    np.save(files["X"], X)
    np.save(files["y"], y)
    files["hidden_X"].unlink()
    files["hidden_y"].unlink()
    rows = tuning.labelled_rows(labelled(tmp_path), N, split)
    assert len(rows["X_train"]) + len(rows["X_validation"]) == len(y) - len(test_rows)
    pd.testing.assert_frame_equal(repeatable(run_search(tmp_path, split)), repeatable(table))


def test_a_changed_training_row_changes_the_study(first_search, tmp_path):
    """The converse of the test above: the search does read the training rows."""
    split = make_data(tmp_path)
    files = dataset_files(tmp_path, N)
    y = np.load(files["y"])
    first = load_split(split).train[0]
    y[first] = 1 - y[first]
    np.save(files["y"], y)
    rows = tuning.labelled_rows(labelled(tmp_path), N, split)
    original = tuning.labelled_rows(labelled(first_search[0]), N, first_search[1])
    search = tuning.search_key(SETTINGS)
    changed, kept = (tuning.study_name("mlp", N, search, SEED, part) for part in (rows, original))
    assert changed != kept


KILLED_SEARCH = """
import sys
from kryptonite_n import tuning
from tests.test_tuning import N, SEED, SETTINGS, labelled
folder = sys.argv[1]
tuning.search("mlp", N, data_files=labelled(folder), split_file=folder + "/split0.npy",
              journal=folder + "/study.journal", settings=SETTINGS, seed=SEED)
"""


def test_a_killed_search_resumes_from_its_journal(first_search, tmp_path):
    _, _, uninterrupted = first_search
    split = make_data(tmp_path)
    journal = tmp_path / "study.journal"
    process = subprocess.Popen([sys.executable, "-c", KILLED_SEARCH, str(tmp_path)],
                               cwd=Path(__file__).resolve().parents[1],
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                               stderr=subprocess.DEVNULL)
    rows = tuning.labelled_rows(labelled(tmp_path), N, split)
    name = tuning.study_name("mlp", N, tuning.search_key(SETTINGS), SEED, rows)
    try:
        deadline = time.monotonic() + 300
        while True:  # kill it mid-trial: two trials finished, a third has reported an epoch
            assert process.poll() is None, "the search finished before it could be killed"
            assert time.monotonic() < deadline, "the search made no progress"
            if journal.exists():
                trials = tuning.open_study(journal, name, tuning.search_key(SETTINGS)).get_trials()
                finished = [t for t in trials if t.state.name in tuning.FINISHED]
                running = [t for t in trials if t.state.name == "RUNNING" and t.intermediate_values]
                if len(finished) >= 2 and running:
                    break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    done = len([t for t in tuning.open_study(journal, name, tuning.search_key(SETTINGS)).get_trials()
                if t.state.name in tuning.FINISHED])
    assert 2 <= done < SETTINGS["trials"]

    resumed = run_search(tmp_path, split)
    record = tuning.search("mlp", N, data_files=labelled(tmp_path), split_file=split, journal=journal,
                           settings=SETTINGS, seed=SEED)
    assert record["trials_run"] == []  # a finished search runs nothing more
    study = tuning.open_study(journal, name, tuning.search_key(SETTINGS))
    states = [t.state.name for t in study.get_trials()]
    assert states.count("FAIL") == 1  # the killed trial, left out of trials.csv
    # The finished trials were kept, the rest run: the same trials as a search never killed.
    pd.testing.assert_frame_equal(repeatable(resumed), repeatable(uninterrupted))


def test_importances_cover_the_varied_parameters(first_search):
    folder, _, table = first_search
    importances = pd.read_csv(folder / "importances.csv")
    assert (table["state"] == "COMPLETE").sum() >= 2
    searched = {column.removeprefix("param_") for column in table if column.startswith("param_")}
    assert len(importances) >= 2 and set(importances["param"]) <= searched
    assert importances["importance"].sum() == pytest.approx(1.0)
    assert (importances["importance"] >= 0).all()


def test_best_settings_pick_the_highest_completed_validation_accuracy(tmp_path):
    table = pd.DataFrame({
        "trial": [0, 1, 2, 3], "state": ["COMPLETE", "PRUNED", "COMPLETE", "COMPLETE"],
        "validation_acc": [0.8, np.nan, 0.9, 0.9], "param_hidden_units": [10, 99, 20, 30],
        "param_lr": [0.1, 0.5, 0.01, 0.02], "param_activation": ["relu", "gelu", "tanh", "elu"],
        "param_layers": [1, 2, 2, 1], "param_optimizer": ["sgd", "adam", "adamw", "adam"],
        "param_batch_size": [32, 64, 64, 32], "param_dropout": [0.0, 0.1, 0.05, 0.0],
        "param_weight_decay": [1e-5, 1e-4, 1e-3, 1e-6],
    })
    best = tuning.best_settings(table, SETTINGS)
    assert best["trial"] == 2  # 0.9 twice: the earlier trial
    assert best["settings"] == {
        "hidden_units": 20, "lr": 0.01, "weight_decay": 1e-3, "dropout": 0.05, "layers": 2,
        "activation": "tanh", "optimizer": "adamw", "batch_size": 64, "momentum": 0.9,
        "max_epochs": SETTINGS["max_epochs"], "patience": SETTINGS["patience"]}
    table.assign(state="PRUNED").to_csv(tmp_path / "trials.csv", index=False)
    with pytest.raises(DataError, match=r"trials\.csv: no trial of the search completed"):
        tuning.read_best(tmp_path / "trials.csv", SETTINGS)


def test_pruning_saving_bounds_the_epochs_saved():
    table = pd.DataFrame({"state": ["COMPLETE", "PRUNED", "PRUNED"], "epochs": [30, 5, 10],
                          "max_epochs": [40, 40, 40]})
    saving = tuning.pruning_saving(table)
    assert saving["epochs_run"] == 45 and saving["epochs_unpruned_at_most"] == 110
    assert saving["share_saved_at_most"] == pytest.approx(1 - 45 / 110)


@pytest.mark.parametrize(("change", "key"), [
    ({"split_repeat": 2}, "tuning.split_repeat"),
    ({"space": {"lr": {"low": 0.1, "high": 0.01, "log": True}}}, "tuning.space.lr"),
    ({"space": {"weight_decay": {"low": 0.0, "high": 0.01, "log": True}}}, "tuning.space.weight_decay"),
])
def test_bad_tuning_settings_name_the_key(change, key):
    config = prepare_config({"repeats": 2, "tuning": change})
    with pytest.raises(DataError, match=key.replace(".", r"\.")):
        tuning.check_settings(config)


def test_schema_fills_the_tuning_defaults_and_rejects_unknown_keys():
    config = prepare_config({})
    assert config["tuning"]["workers"] == 1
    assert config["models"]["mlp_tuned"]["dimensions"] == [9, 12, 15, 18, 24]
    assert tuning.searches({"mlp": [9, 12], "mlp_tuned": [9]}) == {"mlp": [9]}
    assert tuning.searches({"mlp": [9, 12], "mlp_tuned": []}) == {}
    tuning.check_settings(config)
    with pytest.raises(DataError, match="tuning"):
        prepare_config({"tuning": {"trails": 3}})


# --------------------------------------------------------------------------- the tuned model


def xor_parts(repeats: int):
    """n = 3: parity of two informative bits, learnable in a few epochs."""
    dataset = generate(3, seed=SEED, settings=GeneratorSettings(rows_per_feature=400, hidden_rows=100))
    parts = []
    for repeat in range(repeats):
        roles = make_split(len(dataset.y), FRACTIONS, SEED, 3, repeat)
        train, validation = roles == 0, roles == 1
        parts.append((dataset.X[train], dataset.y[train], dataset.X[validation], dataset.y[validation]))
    return dataset, parts


EASY = {"hidden_units": 16, "layers": 2, "activation": "gelu", "optimizer": "adamw", "lr": 0.02,
        "weight_decay": 1e-4, "dropout": 0.05, "batch_size": 32, "max_epochs": 40, "patience": 10}


def test_the_tuned_mlp_learns_xor_and_stacks_repeats_exactly():
    torch.set_num_threads(1)
    _, parts = xor_parts(3)
    together = train_stack(parts, EASY, [[SEED, r] for r in range(3)])
    alone = train_stack(parts[1:2], EASY, [[SEED, 1]])[0]
    for predictor, (_, _, X_val, y_val) in zip(together, parts, strict=True):
        assert np.mean(predictor.predict(X_val) == y_val) > 0.9
    # A repeat trained among others is the network it is alone (its own seed, gradient, stopping).
    assert together[1].summary["best_epoch"] == alone.summary["best_epoch"]
    for mine, its in zip(together[1].weights, alone.weights, strict=True):
        np.testing.assert_allclose(mine, its, atol=1e-5)


def test_the_tuned_mlp_is_a_model_like_the_others(tmp_path):
    dataset, _ = xor_parts(2)
    splits = []
    for repeat in range(2):
        path = tmp_path / f"split{repeat}.npy"
        np.save(path, make_split(len(dataset.y), FRACTIONS, SEED, 3, repeat))
        splits.append(load_split(path))
    task = FitTask(n=3, X=dataset.X, y=dataset.y, splits=splits, repeats=[0, 1], settings=EASY, seed=SEED)
    predictors = model_module("mlp_tuned").fit(task)
    np.savez(tmp_path / "model.npz", **predictors[0].arrays())
    loaded = load_predictor("mlp_tuned", tmp_path / "model.npz")
    X = dataset.X[:200]
    np.testing.assert_array_equal(loaded.predict(X), predictors[0].predict(X))
    # Gradient attacks need a differentiable logit in raw units.
    x = torch.from_numpy(X[:5].copy()).requires_grad_()
    loaded.logit(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert [name for name, _ in model_module("mlp_tuned").layers(loaded)] == ["hidden1", "hidden2", "output"]


def test_tuned_settings_are_checked():
    _, parts = xor_parts(1)
    bad = copy.deepcopy(EASY) | {"activation": "sigmoid"}
    with pytest.raises(ValueError, match="activation"):
        train_stack(parts, bad, [[SEED, 0]])
    with pytest.raises(ValueError, match="unknown settings"):
        train_stack(parts, EASY | {"units": 3}, [[SEED, 0]])


# --------------------------------------------------------------------------- the Tuning page


def test_the_tuning_page_quotes_intervals_and_gaps_computed_from_the_results(first_search, tmp_path):
    from scipy import stats

    from kryptonite_n.report import pages, tuning_page

    folder, _, trials = first_search
    results = tmp_path / "results"
    (results / "tuning" / "mlp" / f"n{N}").mkdir(parents=True)
    trials_csv = results / "tuning" / "mlp" / f"n{N}" / "trials.csv"
    trials_csv.write_text((folder / "trials.csv").read_text())
    truth = results / "data" / f"n{N}" / "truth.json"
    truth.parent.mkdir(parents=True)
    truth.write_text(dataset_files(folder, N)["truth"].read_text())
    # Per-repeat test accuracies of both models on the same three splits.
    paper, tuned = [0.70, 0.74, 0.72], [0.80, 0.83, 0.86]
    majority = [0.51, 0.50, 0.53]  # chance on each repeat's test rows
    metrics = []
    for model, values in (("mlp", paper), ("mlp_tuned", tuned)):
        path = results / "models" / model / f"n{N}" / "metrics.csv"
        path.parent.mkdir(parents=True)
        frame = pd.DataFrame({"model": model, "n": N, "repeat": [0, 1, 2], "test_acc": values,
                              "majority_acc": majority})
        frame.to_csv(path, index=False)
        metrics.append(str(path))
    config = prepare_config({"dimensions": [N], "repeats": 3, "tuning": SETTINGS})
    inputs = {"trials": [str(trials_csv)], "metrics": metrics, "truth": [str(truth)]}
    context = tuning_page.tuning_context(inputs, config)
    row = context["per_n"][0]
    half = stats.t.ppf(0.975, 2) * np.std(tuned, ddof=1) / np.sqrt(3)
    assert row["tuned_acc"]["mean"] == pytest.approx(np.mean(tuned))
    assert row["tuned_acc"]["half"] == pytest.approx(half)
    # The one definition of the limit: the generator's exact Bayes accuracy (kryptonite_n.bayes).
    bayes = bayes_limit(json.loads(truth.read_text()))["accuracy"]
    assert bayes < 1 - json.loads(truth.read_text())["flip_rate"]
    assert row["bayes"] == pytest.approx(bayes) and row["gap"] == pytest.approx(bayes - np.mean(tuned))
    differences = np.subtract(tuned, paper)
    assert row["difference"]["mean"] == pytest.approx(differences.mean())
    assert row["best_validation"] == pytest.approx(trials["validation_acc"].max())
    assert row["over_chance"]["mean"] == pytest.approx(np.mean(np.subtract(tuned, majority)))
    assert row["chance_acc"]["mean"] == pytest.approx(np.mean(majority)) and row["beats_chance"]
    saving = tuning.pruning_saving(trials)
    assert context["epochs_run"] == saving["epochs_run"]

    text = pages.environment(REPO / "docs" / "templates").get_template("tuning.md.j2").render(
        tuning=context, figures=set())
    assert f"| **test accuracy** | {np.mean(paper):.4f} ± " in text
    assert f"{np.mean(tuned):.4f} ± {half:.4f}" in text
    assert f"| Bayes limit | {bayes:.4f} | {bayes:.4f} |" in text
    assert "the limit is the generator's exact Bayes accuracy" in text
    assert "the tuned MLP is better" in text  # every repeat improved: the interval lies above zero
    assert f"{SETTINGS['trials']} trials per n" in text


def test_the_tuning_page_says_when_the_stage_did_not_run():
    from kryptonite_n.report import pages, tuning_page

    context = tuning_page.tuning_context({}, prepare_config({}))
    text = pages.environment(REPO / "docs" / "templates").get_template("tuning.md.j2").render(
        tuning=context, figures=set())
    assert "The tuning stage did not run." in text


def test_two_workers_share_one_journal(tmp_path):
    """k workers (here threads; on a cluster, jobs) fill one study: every trial once, none lost."""
    from concurrent.futures import ThreadPoolExecutor

    split = make_data(tmp_path)
    settings = SETTINGS | {"workers": 2, "trials": 4, "max_epochs": 4}

    def worker(k: int) -> dict:
        return tuning.search("mlp", N, data_files=labelled(tmp_path), split_file=split,
                             journal=tmp_path / "study.journal", settings=settings, seed=SEED,
                             out=tmp_path / f"worker{k}.json")

    with ThreadPoolExecutor(2) as pool:
        records = list(pool.map(worker, range(2)))
    outputs = {"trials": tmp_path / "trials.csv", "importances": tmp_path / "importances.csv"}
    records_files = [tmp_path / f"worker{k}.json" for k in range(2)]
    tuning.collect("mlp", N, worker_records=records_files, settings=settings, seed=SEED, outputs=outputs)
    table = pd.read_csv(outputs["trials"])
    ran = sorted(index for record in records for index in record["trials_run"])
    assert settings["trials"] <= len(table) <= settings["trials"] + 1  # at most workers - 1 extra
    assert sorted(table["trial"]) == ran and len(set(ran)) == len(ran)
