"""Ensembles of repeats: the vote, the windows, the disagreement, and the quick run's table
against the hidden rows no member trained on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kryptonite_n.compute.data import load_split
from kryptonite_n.plan import paths
from kryptonite_n.tables.ensembles import (
    combine,
    ensemble_rows,
    ensemble_sizes,
    pair_disagreement,
    windows,
)


def test_a_tie_goes_to_the_mean_probabilitys_side():
    labels = np.array([[1, 0, 1], [1, 1, 0]])
    probabilities = np.array([[0.9, 0.4, 0.6], [0.8, 0.7, 0.3]])
    combined = combine(labels, probabilities)
    assert combined["vote"].tolist() == [1, 1, 0]  # rows 1 and 2 tie: means 0.55 and 0.45
    assert combined["mean_probability"].tolist() == [1, 1, 0]
    assert combine(labels, None)["vote"].tolist() == [1, 1, 1]  # label-only: a tie goes to 1


def test_three_members_vote_by_majority():
    labels = np.array([[1, 0, 0, 1], [1, 1, 0, 0], [0, 1, 0, 0]])
    assert combine(labels, None)["vote"].tolist() == [1, 1, 0, 0]


def test_pair_disagreement_by_hand():
    # Row 0: one of three says 1, so two of the three pairs disagree; row 1: unanimous.
    labels = np.array([[1, 0], [0, 0], [0, 0]])
    assert pair_disagreement(labels) == pytest.approx((2 / 3 + 0) / 2)
    assert pair_disagreement(labels[:1]) == 0.0


def test_windows_use_every_member_equally():
    assert windows(10, 2)[-1] == [9, 0]
    assert len(windows(10, 5)) == 10
    assert np.bincount(np.concatenate(windows(10, 5))).tolist() == [5] * 10
    assert windows(10, 10) == [list(range(10))]
    assert ensemble_sizes(10) == [1, 2, 5, 10]
    assert ensemble_sizes(3) == [1, 2, 3]


def test_ensemble_rows_of_members_with_independent_errors():
    # Five members, each wrong on its own fifth of the rows: every vote is right.
    truth = np.tile([0, 1], 500)
    labels = np.tile(truth, (5, 1))
    for member in range(5):
        labels[member, member * 200:(member + 1) * 200] ^= 1
    rows = {r["members"]: r for r in ensemble_rows("mlp", 9, labels, None, truth, sizes=(1, 5))}
    assert rows[1]["member_acc"] == pytest.approx(0.8)
    assert rows[1]["vote_acc"] == pytest.approx(0.8)
    assert rows[5]["vote_acc"] == 1.0
    assert rows[5]["gain"] == pytest.approx(0.2)
    assert rows[5]["disagreement"] == pytest.approx(4 / 10)  # one member against four: 4 of 10 pairs
    assert np.isnan(rows[5]["probability_acc"])


def test_the_quick_runs_ensembles_are_scored_on_rows_no_member_trained_on(quick_run):
    """ensembles.csv against a recomputation from the hidden predictions, and the hidden rows
    against every member's training rows: none of them is one."""
    directory = quick_run.directory
    table = pd.read_csv(directory / paths.ENSEMBLES)
    assert {"mlp", "xor_oracle"} <= set(table["model"])
    for (model, n), group in table.groupby(["model", "n"]):
        full = group.loc[group["members"].idxmax()]
        repeats = range(int(full["members"]))
        hidden_X = np.load(directory / paths.DATASET["hidden_X"].format(n=n))
        hidden_y = np.load(directory / paths.DATASET["hidden_y"].format(n=n))
        X = np.load(directory / paths.DATASET["X"].format(n=n))
        assert full["rows"] == len(hidden_y)
        trained = set()
        for repeat in repeats:
            train = load_split(directory / paths.SPLIT.format(n=n, repeat=repeat)).train
            trained |= {row.tobytes() for row in X[train]}
        assert not any(row.tobytes() in trained for row in hidden_X), "a hidden row was trained on"
        labels = np.stack([np.load(directory / paths.FIT_FILES["hidden_predictions"].format(
            model=model, n=n, repeat=r)) for r in repeats])
        votes = labels.mean(axis=0)
        member_acc = np.mean(labels == hidden_y)
        assert full["member_acc"] == pytest.approx(member_acc, rel=1e-12)
        probability_files = [directory / paths.PROBABILITY_FILES["hidden_probabilities"].format(
            model=model, n=n, repeat=r) for r in repeats]
        if probability_files[0].exists():
            mean = np.mean([np.load(path) for path in probability_files], axis=0)
            tie_break = mean > 0.5
            assert full["probability_acc"] == pytest.approx(np.mean(tie_break == hidden_y), rel=1e-12)
        else:
            tie_break = np.ones(len(hidden_y), dtype=bool)
        vote = np.where(votes == 0.5, tie_break, votes > 0.5)
        assert full["vote_acc"] == pytest.approx(np.mean(vote == hidden_y), rel=1e-12)


def test_ensemble_table_reads_each_repeats_files(tmp_path):
    """ensemble_table from files laid out as the workflow writes them (no workflow run)."""
    from kryptonite_n.tables.ensembles import ensemble_table

    truth = np.array([0, 1, 1, 0, 1, 0])
    truth_file = tmp_path / "data" / "n9" / "hidden-kryptonite-9-y.npy"
    truth_file.parent.mkdir(parents=True)
    np.save(truth_file, truth)
    predictions, probabilities = [], []
    for repeat, wrong in enumerate((0, 2, 4)):  # each member wrong on one row of its own
        folder = tmp_path / "models" / "mlp" / "n9" / f"repeat{repeat}"
        folder.mkdir(parents=True)
        labels = truth.copy()
        labels[wrong] ^= 1
        np.save(folder / "hidden_predictions.npy", labels)
        np.save(folder / "hidden_probabilities.npy", np.where(labels == 1, 0.8, 0.2))
        predictions.append(folder / "hidden_predictions.npy")
        probabilities.append(folder / "hidden_probabilities.npy")
    table = ensemble_table(predictions, probabilities, [truth_file])
    full = table[table["members"] == 3].iloc[0]
    assert full["rows"] == 6 and full["member_acc"] == pytest.approx(5 / 6)
    assert full["vote_acc"] == 1.0 and full["probability_acc"] == 1.0
    np.save(probabilities[1], np.full(6, 1.5))
    out_of_range = r"repeat1/hidden_probabilities\.npy: probabilities must lie in \[0, 1\]"
    with pytest.raises(Exception, match=out_of_range):
        ensemble_table(predictions, probabilities, [truth_file])
