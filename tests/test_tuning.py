"""The tuning stage: the paper's settings are trial 0 and the search never ends below them,
trials read only training and validation rows, one-worker searches repeat exactly, a killed
search resumes from its journal, and the tuned MLP is a model like the others, trained by the
one MLP trainer."""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from kryptonite_n.compute import tuning
from kryptonite_n.compute.bayes import bayes_limit
from kryptonite_n.compute.data import (
    SPLIT_CODES,
    GeneratorSettings,
    generate,
    load_split,
    make_split,
    write_dataset,
    write_splits,
)
from kryptonite_n.compute.models import load_predictor, model_module
from kryptonite_n.compute.nets import perceptron, training
from kryptonite_n.compute.trials import best_settings, pruning_saving, read_best
from kryptonite_n.contract import FitTask, Split
from kryptonite_n.io import DataError
from kryptonite_n.plan import paths
from kryptonite_n.plan.config import check_tuning, model_settings, prepare_config
from kryptonite_n.plan.models import spec
from kryptonite_n.plan.paths import dataset_files as published_files
from kryptonite_n.plan.tuning import CHOSEN, RANGED, searches, split_repeats

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
#: Small and fast, with pruning on, so that determinism covers pruned trials too; batches of
#: two trials, each scored on two splits.
SETTINGS = {
    "trials": 5, "workers": 1, "batch": 2, "warm_start": True, "max_epochs": 10,
    "patience": 4, "split_repeat": 0, "splits": 2, "sampler": {"startup_trials": 2},
    "pruner": {"kind": "median", "startup_trials": 1, "warmup_epochs": 2, "reduction_factor": 3},
    "space": {"hidden_units": {"low": 8, "high": 32}, "layers": [1, 2],
              "activation": ["relu", "tanh", "elu"], "optimizer": ["sgd", "adam", "adamw"],
              "lr": {"low": 0.001, "high": 0.3, "log": True}, "batch_size": [32, 64],
              "dropout": {"low": 0.0, "high": 0.2, "log": False},
              "weight_decay": {"low": 1e-6, "high": 1e-3, "log": True}, "momentum": 0.9},
}
#: The paper's settings for this n, as models.mlp gives them (weight decay 0: outside the space).
PAPER = {"hidden_units": 24, "activation": "tanh", "optimizer": "sgd", "lr": 0.1, "momentum": 0.9,
         "dropout": 0.03, "batch_size": 32, "max_epochs": 10, "patience": 4}
#: Columns a machine cannot repeat: wall time, and Optuna's own counter (a killed trial takes a number).
UNREPEATABLE = ["seconds", "number"]


def make_data(folder: Path) -> list[Path]:
    """A small generated dataset and the searched splits in ``folder``; returns the split files."""
    dataset = generate(N, seed=SEED, settings=GeneratorSettings(rows_per_feature=200, hidden_rows=300))
    write_dataset(dataset, dataset_files(folder, N))
    repeats = split_repeats(SETTINGS)
    splits = [folder / f"split{repeat}.npy" for repeat in repeats]
    write_splits(dataset_files(folder, N)["y"], N, FRACTIONS, SEED, repeats, splits)
    return splits


def run_search(folder: Path, split: list[Path], settings: dict = SETTINGS) -> pd.DataFrame:
    record = tuning.search("mlp", N, data_files=labelled(folder), split_files=split,
                           journal=folder / "study.journal", settings=settings, seed=SEED, paper=PAPER,
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
    assert (table["stack"] >= 1).all() and table["split_values"].map(lambda v: len(json.loads(v)) == 2).all()
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


def test_the_first_trial_is_the_papers_settings(first_search):
    _, _, table = first_search
    assert list(table["origin"]) == ["paper"] + ["sampler"] * (SETTINGS["trials"] - 1)
    first = table.iloc[0]
    assert first["state"] == "COMPLETE"  # the warm start is never pruned
    assert json.loads(first["settings"]) == {**PAPER, "layers": 1, "weight_decay": 0.0}
    # Inside the space its settings are the trial's params, so the sampler learns from them;
    # the paper's weight decay 0 lies outside the log range and is no param.
    assert first["param_lr"] == PAPER["lr"] and first["param_activation"] == PAPER["activation"]
    assert pd.isna(first["param_weight_decay"])
    # Its score is the paper-settings MLP's own: the same networks on the same splits.
    folder, splits, _ = first_search
    mlp = model_module("mlp").fit(search_task(folder, splits, PAPER))
    assert first["validation_acc"] == pytest.approx(np.mean([p.summary["best_validation_acc"] for p in mlp]))


def search_task(folder: Path, splits: list[Path], settings: dict) -> FitTask:
    """The FitTask a fit job of the searched splits' repeats builds."""
    X, y = np.load(dataset_files(folder, N)["X"]), np.load(dataset_files(folder, N)["y"])
    return FitTask(n=N, X=X, y=y, splits=[load_split(s) for s in splits],
                   repeats=split_repeats(SETTINGS), settings=settings, seed=SEED)


def test_the_tuned_mlp_is_never_below_the_papers_settings_on_validation(first_search):
    """The refit of the best trial (what mlp_tuned fits) against the paper-settings MLP, on the
    validation rows of the searched splits: the warm start makes the search unable to lose."""
    folder, splits, table = first_search
    best = best_settings(table, SETTINGS)
    tuned = model_module("mlp_tuned").fit(search_task(folder, splits, best["settings"]))
    paper = model_module("mlp").fit(search_task(folder, splits, PAPER))
    tuned_acc = np.mean([p.summary["best_validation_acc"] for p in tuned])
    paper_acc = np.mean([p.summary["best_validation_acc"] for p in paper])
    assert tuned_acc == pytest.approx(best["validation_acc"], abs=1e-9)  # the refit is the trial
    assert tuned_acc >= paper_acc
    assert best["validation_acc"] >= table.loc[table["origin"] == "paper", "validation_acc"].max()


def fit_outputs(folder: Path, model: str, repeats: list[int]) -> dict:
    files = {key: [folder / model / f"repeat{r}" / Path(pattern).name for r in repeats]
             for key, pattern in paths.fit_files(spec(model).probabilities).items()}
    if model == "mlp":
        files["history"] = [folder / model / f"repeat{r}" / "history.csv" for r in repeats]
    return files | {"table": folder / model / "metrics.csv"}


@pytest.mark.parametrize("paper_wins", [True, False])
def test_the_tuned_fit_takes_over_the_paper_fit_exactly_when_the_papers_settings_won(first_search, tmp_path,
                                                                                     paper_wins):
    """No second training of the same networks: where trial 0 won, mlp_tuned is mlp's fit."""
    from kryptonite_n.compute.models.driver import fit_model

    folder, splits, table = first_search
    repeats = split_repeats(SETTINGS)
    table = table.copy()
    best = table["validation_acc"].max()
    # Make the paper's trial (or another) the best one.
    winner = 0 if paper_wins else int(table.loc[table["origin"] == "sampler"].dropna(
        subset=["validation_acc"])["trial"].iloc[0])
    table.loc[table["trial"] == winner, "validation_acc"] = best + 0.01
    table.to_csv(tmp_path / "trials.csv", index=False)
    common = {"data_files": dataset_files(folder, N), "split_files": [str(s) for s in splits], "seed": SEED,
              "repeats": repeats}
    fit_model("mlp", N, settings=PAPER, outputs=fit_outputs(tmp_path, "mlp", repeats), **common)
    paper_files = [str(path) for key, files in fit_outputs(tmp_path, "mlp", repeats).items()
                   if key not in ("history", "table") for path in files]
    outputs = fit_outputs(tmp_path, "mlp_tuned", repeats)
    tuning.fit_tuned("mlp_tuned", N, trials_csv=tmp_path / "trials.csv", tuning=SETTINGS,
                     paper_files=paper_files, outputs=outputs, **common)
    for i in range(len(repeats)):
        mine, paper = json.loads(outputs["metrics"][i].read_text()), json.loads(
            fit_outputs(tmp_path, "mlp", repeats)["metrics"][i].read_text())
        assert mine["model"] == "mlp_tuned"
        assert (mine["details"].get("reused_from") == "paper") == paper_wins
        if paper_wins:
            assert mine["test_acc"] == paper["test_acc"]
            paper_model = tmp_path / "mlp" / f"repeat{repeats[i]}" / "model.npz"
            with np.load(outputs["model"][i]) as a, np.load(paper_model) as b:
                assert all(np.array_equal(a[k], b[k]) for k in b.files)
            for key in paths.PROBABILITY_FILES:
                paper_file = fit_outputs(tmp_path, "mlp", repeats)[key][i]
                assert np.array_equal(np.load(outputs[key][i]), np.load(paper_file)), key
        else:
            assert mine["details"]["settings"] == training.resolve_settings(json.loads(
                table.loc[table["trial"] == winner, "settings"].iloc[0]))
    assert pd.read_csv(outputs["table"])["model"].eq("mlp_tuned").all()


def test_without_the_warm_start_the_search_can_end_below_the_papers_settings(first_search, tmp_path):
    """What the warm start guards against: the same search without it picks a worse trial here."""
    _, _, table = first_search
    splits = make_data(tmp_path)
    cold = run_search(tmp_path, splits, SETTINGS | {"warm_start": False})
    assert set(cold["origin"]) == {"sampler"}
    paper_value = table.loc[table["origin"] == "paper", "validation_acc"].iloc[0]
    assert cold["validation_acc"].max() < paper_value


def test_successive_halving_compares_with_the_warm_start_and_never_prunes_it(tmp_path):
    """The paper's trial reports at every rung, so the first sampled trial is measured against
    it (not promoted for being alone at the rung), and it is never pruned itself."""
    settings = SETTINGS | {"pruner": {"kind": "halving", "startup_trials": 1, "warmup_epochs": 3,
                                      "reduction_factor": 3},
                           "trials": 6, "batch": 3, "max_epochs": 15, "patience": 15}
    table = run_search(tmp_path, make_data(tmp_path), settings).set_index("trial")
    assert table.loc[0, "origin"] == "paper" and table.loc[0, "state"] == "COMPLETE"
    first_rung = table.loc[1]
    assert first_rung["state"] == "PRUNED" and first_rung["epochs"] == 3
    assert first_rung["last_validation_acc"] < table.loc[0, "validation_acc"]
    assert (table.loc[table["state"] == "PRUNED", "epochs"] == 3).all()


def test_a_trial_never_reads_test_or_hidden_rows(first_search, tmp_path):
    _, _, table = first_search
    split = make_data(tmp_path)
    files = dataset_files(tmp_path, N)
    # The rows no searched split trains or validates on (a row one split tests on another may train on).
    parts = [load_split(s) for s in split]
    test_rows = np.setdiff1d(np.arange(len(np.load(files["y"]))),
                             np.concatenate([np.concatenate([p.train, p.validation]) for p in parts]))
    assert len(test_rows) > 0
    X, y = np.load(files["X"]), np.load(files["y"])
    # Garbage in every test row and flipped test labels; no hidden set at all.
    X[test_rows] = np.random.default_rng(0).normal(50.0, 30.0, size=(len(test_rows), N)).astype(X.dtype)
    y[test_rows] = 1 - y[test_rows]
    np.save(files["X"], X)
    np.save(files["y"], y)
    files["hidden_X"].unlink()
    files["hidden_y"].unlink()
    rows = tuning.labelled_rows(labelled(tmp_path), N, split)
    assert len(rows["X"]) == len(y) - len(test_rows)
    assert all(len(s.test) == 0 for s in rows["splits"])
    pd.testing.assert_frame_equal(repeatable(run_search(tmp_path, split)), repeatable(table))


def test_a_changed_training_row_changes_the_study(first_search, tmp_path):
    """The converse of the test above: the search does read the training rows."""
    split = make_data(tmp_path)
    files = dataset_files(tmp_path, N)
    y = np.load(files["y"])
    first = load_split(split[0]).train[0]
    y[first] = 1 - y[first]
    np.save(files["y"], y)
    rows = tuning.labelled_rows(labelled(tmp_path), N, split)
    original = tuning.labelled_rows(labelled(first_search[0]), N, first_search[1])
    search = tuning.search_key(SETTINGS)
    changed, kept = (tuning.study_name("mlp", N, search, SEED, part, PAPER) for part in (rows, original))
    assert changed != kept
    assert tuning.study_name("mlp", N, search, SEED, original, PAPER | {"lr": 0.05}) != kept


KILLED_SEARCH = """
import os
import signal
import sys
from pathlib import Path
from kryptonite_n.compute import tuning
from kryptonite_n.plan.tuning import split_repeats
from tests.test_tuning import N, PAPER, SEED, SETTINGS, labelled
folder = Path(sys.argv[1])
train_trials = tuning.train_trials
batches = []

def kill_in_the_second_batch(*args, **kwargs):
    # The first batch is told and journalled, the second asked (its trials RUNNING): die now,
    # as a job killed mid-training does, without Python's clean-up.
    if batches:
        os.kill(os.getpid(), signal.SIGKILL)
    return train_trials(*args, **kwargs)

tuning.train_trials = kill_in_the_second_batch
tuning.AFTER_BATCH.append(batches.append)
tuning.search("mlp", N, data_files=labelled(folder),
              split_files=[folder / f"split{r}.npy" for r in split_repeats(SETTINGS)],
              journal=folder / "study.journal", settings=SETTINGS, seed=SEED, paper=PAPER)
"""


def test_a_killed_search_resumes_from_its_journal(first_search, tmp_path):
    _, _, uninterrupted = first_search
    split = make_data(tmp_path)
    journal = tmp_path / "study.journal"
    # Killed at a known point (the second batch's trials asked, none trained), not by timing.
    killed = subprocess.run([sys.executable, "-c", KILLED_SEARCH, str(tmp_path)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.DEVNULL,
                            check=False)
    assert killed.returncode == -9
    rows = tuning.labelled_rows(labelled(tmp_path), N, split)
    name = tuning.study_name("mlp", N, tuning.search_key(SETTINGS), SEED, rows, PAPER)
    trials = tuning.open_study(journal, name, tuning.search_key(SETTINGS)).get_trials()
    assert [t.state.name for t in trials].count("RUNNING") == SETTINGS["batch"]
    assert len([t for t in trials if t.state.name in tuning.FINISHED]) == SETTINGS["batch"]

    resumed = run_search(tmp_path, split)
    record = tuning.search("mlp", N, data_files=labelled(tmp_path), split_files=split, journal=journal,
                           settings=SETTINGS, seed=SEED, paper=PAPER)
    assert record["trials_run"] == []  # a finished search runs nothing more
    study = tuning.open_study(journal, name, tuning.search_key(SETTINGS))
    states = [t.state.name for t in study.get_trials()]
    assert states.count("FAIL") == SETTINGS["batch"]  # the killed batch, left out of trials.csv
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
    best = best_settings(table, SETTINGS)
    assert best["trial"] == 2  # 0.9 twice: the earlier trial
    assert best["settings"] == {
        "hidden_units": 20, "lr": 0.01, "weight_decay": 1e-3, "dropout": 0.05, "layers": 2,
        "activation": "tanh", "optimizer": "adamw", "batch_size": 64, "momentum": 0.9,
        "max_epochs": SETTINGS["max_epochs"], "patience": SETTINGS["patience"]}
    table.assign(state="PRUNED").to_csv(tmp_path / "trials.csv", index=False)
    with pytest.raises(DataError, match=r"trials\.csv: no trial of the search completed"):
        read_best(tmp_path / "trials.csv", SETTINGS)


def test_pruning_saving_bounds_the_epochs_saved():
    table = pd.DataFrame({"state": ["COMPLETE", "PRUNED", "PRUNED"], "epochs": [30, 5, 10],
                          "max_epochs": [40, 40, 40]})
    saving = pruning_saving(table)
    assert saving["epochs_run"] == 45 and saving["epochs_unpruned_at_most"] == 110
    assert saving["share_saved_at_most"] == pytest.approx(1 - 45 / 110)


@pytest.mark.parametrize(("change", "key"), [
    ({"split_repeat": 2}, "tuning.split_repeat"),
    ({"space": {"lr": {"low": 0.1, "high": 0.01, "log": True}}}, "tuning.space.lr"),
    ({"space": {"weight_decay": {"low": 0.0, "high": 0.01, "log": True}}}, "tuning.space.weight_decay"),
])
def test_bad_tuning_settings_name_the_key(change, key):
    # The configuration's one path checks what the schema cannot say.
    with pytest.raises(DataError, match=key.replace(".", r"\.")):
        prepare_config({"repeats": 2, "tuning": change})


def test_schema_fills_the_tuning_defaults_and_rejects_unknown_keys():
    config = prepare_config({})
    assert config["tuning"]["workers"] == 1
    assert config["tuning"]["warm_start"] and config["tuning"]["splits"] >= 2
    assert split_repeats(config["tuning"], 2) == [0, 1]  # no more splits than repeats
    assert split_repeats(config["tuning"] | {"split_repeat": 1}, 10) == [1, 2, 3]
    assert searches({"mlp": [9, 12], "mlp_tuned": [9]}) == {"mlp": [9]}
    assert searches({"mlp": [9, 12], "mlp_tuned": []}) == {}
    check_tuning(config)
    with pytest.raises(DataError, match="tuning"):
        prepare_config({"tuning": {"trails": 3}})


@pytest.mark.parametrize("config_file", ["config.yaml", "quick.yaml", "tuning-large.yaml"])
def test_the_space_contains_every_paper_setting(config_file):
    """So the warm start is a point of the space the sampler models (weight decay 0 aside: the
    paper used none, and a log range cannot hold 0), and the trials can go as long as the paper's."""
    import yaml

    overrides = yaml.safe_load((REPO / "config" / config_file).read_text())
    if config_file == "tuning-large.yaml":
        overrides = yaml.safe_load((REPO / "config" / "config.yaml").read_text()) | overrides
    config = prepare_config(overrides)
    space = config["tuning"]["space"]
    for n in [9, 12, 15, 18, *map(int, config["models"]["mlp"].get("by_n", {}))]:
        paper = model_settings(config, "mlp", n)
        full, params = tuning.paper_trial(paper, space)
        searched = {key for key in (*RANGED, *CHOSEN) if tuning._distribution(key, space)}
        assert set(params) == searched - {"weight_decay"}, (n, paper)
        assert full["max_epochs"] == paper["max_epochs"] and full["patience"] == paper["patience"]


# --------------------------------------------------------------------------- the tuned model


def xor_parts(repeats: int):
    """n = 3: parity of two informative bits, learnable in a few epochs; the data and its splits."""
    dataset = generate(3, seed=SEED, settings=GeneratorSettings(rows_per_feature=400, hidden_rows=100))
    splits = [Split(*(np.flatnonzero(make_split(len(dataset.y), FRACTIONS, SEED, 3, repeat) == code)
                      for code in SPLIT_CODES.values())) for repeat in range(repeats)]
    return dataset, splits


def xor_task(repeats: int, settings: dict) -> FitTask:
    dataset, splits = xor_parts(repeats)
    return FitTask(n=3, X=dataset.X, y=dataset.y, splits=splits, repeats=list(range(repeats)),
                   settings=settings, seed=SEED)


EASY = {"hidden_units": 16, "layers": 2, "activation": "elu", "optimizer": "adamw", "lr": 0.02,
        "weight_decay": 1e-4, "dropout": 0.05, "batch_size": 32, "max_epochs": 40, "patience": 10}


def test_the_tuned_mlp_learns_xor_and_stacks_repeats_exactly():
    torch.set_num_threads(1)
    task = xor_task(3, EASY)
    together = model_module("mlp_tuned").fit(task)
    alone = model_module("mlp_tuned").fit(dataclasses.replace(task, splits=task.splits[1:2], repeats=[1]))[0]
    for i, predictor in enumerate(together):
        X_val, y_val = task.part(i, "validation")
        assert np.mean(predictor.predict(X_val) == y_val) > 0.9
    # A repeat trained among others is the network it is alone (its own seed, gradient, stopping).
    assert together[1].summary["best_epoch"] == alone.summary["best_epoch"]
    for key, array in together[1].arrays().items():
        np.testing.assert_allclose(array, alone.arrays()[key], atol=1e-6) if array.dtype.kind == "f" \
            else np.testing.assert_array_equal(array, alone.arrays()[key])


def test_trials_trained_together_equal_the_same_trials_one_by_one():
    """k trials of one shape (own learning rate, weight decay, dropout) in one stack, each on two
    splits, against each trial alone: the same networks."""
    torch.set_num_threads(1)
    task = xor_task(2, EASY | {"max_epochs": 25})
    trials = [{"lr": 0.02, "weight_decay": 1e-4, "dropout": 0.05},
              {"lr": 0.3, "weight_decay": 0.0, "dropout": 0.0},
              {"lr": 0.005, "weight_decay": 1e-2, "dropout": 0.2}]
    stacked = dataclasses.replace(task, splits=task.splits * 3, repeats=task.repeats * 3)
    together = training.fit(stacked, [trial for trial in trials for _ in task.splits])
    assert len({p.summary["epochs_trained"] for p in together}) > 1  # stops differ: the stack shrinks
    for k, trial in enumerate(trials):
        alone = training.fit(task, [trial] * 2)
        for mine, its in zip(together[2 * k:2 * k + 2], alone, strict=True):
            assert mine.summary["settings"] == its.summary["settings"] == training.resolve_settings(EASY | {
                "max_epochs": 25} | trial)
            assert mine.summary["best_epoch"] == its.summary["best_epoch"]
            for key, array in mine.arrays().items():
                if array.dtype.kind == "f":
                    np.testing.assert_allclose(array, its.arrays()[key], rtol=0, atol=1e-6, err_msg=key)


def test_one_trainer_trains_the_paper_mlp_the_tuned_mlp_and_the_trials():
    """The autograd trainer is gone; the tuned MLP with the paper's settings is the paper's MLP."""
    assert importlib.util.find_spec("kryptonite_n.compute.nets.tuned") is None
    assert not (REPO / "src" / "kryptonite_n" / "nets" / "tuned.py").exists()
    paper = {"hidden_units": 12, "activation": "tanh", "optimizer": "sgd", "lr": 0.1, "dropout": 0.03,
             "batch_size": 64, "max_epochs": 15, "patience": 5}
    task = xor_task(2, paper)
    tuned, mlp = model_module("mlp_tuned").fit(task), model_module("mlp").fit(task)
    for a, b in zip(tuned, mlp, strict=True):
        assert isinstance(a, perceptron.MLPPredictor)
        for key, array in b.arrays().items():
            assert np.array_equal(a.arrays()[key], array), key
    # and the search's trials: the paper's settings as a trial's row give the same networks
    rows = training.fit(task, [{"lr": 0.1, "dropout": 0.03, "weight_decay": 0.0}] * 2)
    for a, b in zip(rows, mlp, strict=True):
        for key, array in b.arrays().items():
            assert np.array_equal(a.arrays()[key], array), key


def test_the_tuned_mlp_is_a_model_like_the_others(tmp_path):
    task = xor_task(2, EASY)
    predictors = model_module("mlp_tuned").fit(task)
    assert predictors[0].tables() == {}  # the report's learning curves are the paper MLP's
    np.savez(tmp_path / "model.npz", **predictors[0].arrays())
    loaded = load_predictor("mlp_tuned", tmp_path / "model.npz")
    X = task.X[:200]
    np.testing.assert_array_equal(loaded.predict(X), predictors[0].predict(X))
    # Gradient attacks need a differentiable logit in raw units.
    x = torch.from_numpy(X[:5].copy()).requires_grad_()
    loaded.logit(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert [name for name, _ in model_module("mlp_tuned").layers(loaded)] == ["hidden1", "hidden2", "output"]


def test_tuned_settings_are_checked():
    task = xor_task(1, EASY)
    with pytest.raises(ValueError, match="activation"):
        training.fit(dataclasses.replace(task, settings=copy.deepcopy(EASY) | {"activation": "gelu"}))
    with pytest.raises(ValueError, match="layers"):
        training.fit(dataclasses.replace(task, settings=EASY | {"layers": 3}))
    with pytest.raises(ValueError, match="cannot differ between rows"):
        training.fit(task, [{"hidden_units": 3}])


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
    # The corrected resampled t (Nadeau and Bengio), as the summary's: 1/J + n_test/n_train.
    half = stats.t.ppf(0.975, 2) * np.std(tuned, ddof=1) * np.sqrt(1 / 3 + 0.2 / 0.6)
    assert row["tuned_acc"].mean == pytest.approx(np.mean(tuned))
    assert row["tuned_acc"].half == pytest.approx(half)
    # The one definition of the limit: the generator's exact Bayes accuracy (kryptonite_n.compute.bayes).
    bayes = bayes_limit(json.loads(truth.read_text()))["accuracy"]
    assert bayes < 1 - json.loads(truth.read_text())["flip_rate"]
    assert row["bayes"] == pytest.approx(bayes) and row["gap"] == pytest.approx(bayes - np.mean(tuned))
    differences = np.subtract(tuned, paper)
    assert row["difference"].mean == pytest.approx(differences.mean())
    assert row["best_validation"] == pytest.approx(trials["validation_acc"].max())
    assert row["over_chance"].mean == pytest.approx(np.mean(np.subtract(tuned, majority)))
    assert row["chance_acc"].mean == pytest.approx(np.mean(majority)) and row["beats_chance"]
    saving = pruning_saving(trials)
    assert context["epochs_run"] == saving["epochs_run"]

    text = pages.environment(REPO / "docs" / "templates").get_template("tuning.md.j2").render(
        tuning=context, figures=set())
    assert f"| **test accuracy** | {np.mean(paper):.4f} ± " in text
    assert f"{np.mean(tuned):.4f} ± {half:.4f}" in text
    assert f"| Bayes limit | {bayes:.4f} | {bayes:.4f} |" in text
    assert "the limit is the generator's exact Bayes accuracy" in text
    assert "the tuned MLP is better" in text  # every repeat improved: the interval lies above zero
    assert f"{SETTINGS['trials']} trials per n" in text
    # What was run, not "an exhaustive sweep": the trials, their epoch limit, the warm start.
    assert (f"({SETTINGS['trials']} trials of up to {SETTINGS['max_epochs']} epochs each in this run, "
            "the first of them the paper's own settings)") in text
    assert "This page is that sweep" not in text
    # The epoch budgets side by side: models.mlp's defaults here, the search's for the tuned MLP.
    assert f"| max_epochs | 1000 | {SETTINGS['max_epochs']} |" in text
    assert f"| patience | 200 | {SETTINGS['patience']} |" in text


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
        return tuning.search("mlp", N, data_files=labelled(tmp_path), split_files=split,
                             journal=tmp_path / "study.journal", settings=settings, seed=SEED, paper=PAPER,
                             out=tmp_path / f"worker{k}.json")

    with ThreadPoolExecutor(2) as pool:
        records = list(pool.map(worker, range(2)))
    outputs = {"trials": tmp_path / "trials.csv", "importances": tmp_path / "importances.csv"}
    records_files = [tmp_path / f"worker{k}.json" for k in range(2)]
    tuning.collect("mlp", N, worker_records=records_files, settings=settings, seed=SEED, outputs=outputs)
    table = pd.read_csv(outputs["trials"])
    ran = sorted(index for record in records for index in record["trials_run"])
    # at most (workers - 1) x batch extra
    assert settings["trials"] <= len(table) <= settings["trials"] + settings["batch"]
    assert sorted(table["trial"]) == ran and len(set(ran)) == len(ran)
    assert (table["origin"] == "paper").sum() >= 1
