"""Calibration: the expected calibration error, the reliability bins and the tables of a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kryptonite_n.compute.data import load_split
from kryptonite_n.plan import paths
from kryptonite_n.tables.calibration import (
    bin_index,
    calibration_tables,
    expected_calibration_error,
    reliability,
    scores,
)


def perfectly_calibrated(groups: int = 15, rows: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """``groups`` probabilities k / rows, each given to ``rows`` rows of which exactly k have label 1."""
    probabilities, labels = [], []
    for k in range(1, groups + 1):
        probabilities += [k / rows] * rows
        labels += [1] * k + [0] * (rows - k)
    return np.array(probabilities), np.array(labels)


@pytest.mark.parametrize("binning", ["uniform", "equal_mass"])
def test_ece_is_zero_for_a_perfectly_calibrated_predictor(binning):
    p, y = perfectly_calibrated()
    assert expected_calibration_error(p, y, 15, binning) == pytest.approx(0.0, abs=1e-12)


def test_ece_of_a_small_case_by_hand():
    p = np.array([0.1, 0.2, 0.8, 0.9])
    y = np.array([0, 1, 1, 1])
    # Two bins: {0.1, 0.2} has mean 0.15 and rate 0.5, {0.8, 0.9} mean 0.85 and rate 1.
    assert expected_calibration_error(p, y, 2, "uniform") == pytest.approx(0.5 * 0.35 + 0.5 * 0.15)
    assert expected_calibration_error(p, y, 2, "equal_mass") == pytest.approx(0.25)
    # Fifteen bins: every row alone, gaps 0.1, 0.8, 0.2 and 0.1.
    assert expected_calibration_error(p, y, 15, "uniform") == pytest.approx((0.1 + 0.8 + 0.2 + 0.1) / 4)
    assert scores(p, y)["brier"] == pytest.approx((0.01 + 0.64 + 0.04 + 0.01) / 4)
    assert scores(p, y)["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.2, 0.8, 0.9])))
    assert scores(p, y)["accuracy"] == pytest.approx(0.75)


def test_equal_mass_bins_split_where_uniform_bins_do_not():
    # Every probability near 0.5: one uniform bin holds them all, equal-mass bins spread them.
    p = np.linspace(0.47, 0.53, 300)
    y = (p > 0.5).astype(int)  # a sharp step inside the one uniform bin
    assert bin_index(p, 15, "uniform").tolist() == [7] * 300
    assert np.bincount(bin_index(p, 15, "equal_mass")).tolist() == [20] * 15
    assert expected_calibration_error(p, y, 15, "uniform") == pytest.approx(abs(0.5 - p.mean()), abs=1e-3)
    assert expected_calibration_error(p, y, 15, "equal_mass") > 0.3


def test_probability_one_falls_in_the_last_uniform_bin():
    assert bin_index(np.array([0.0, 0.5, 1.0]), 15, "uniform").tolist() == [0, 7, 14]
    with pytest.raises(ValueError, match="binning"):
        bin_index(np.array([0.5]), 15, "quantile")


def test_ece_tells_calibrated_from_overconfident_probabilities():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    y = (rng.uniform(0, 1, p.size) < p).astype(int)
    overconfident = np.where(p > 0.5, 1 - (1 - p) ** 3, p ** 3)
    for binning in ("uniform", "equal_mass"):
        assert expected_calibration_error(p, y, 15, binning) < 0.01
        assert expected_calibration_error(overconfident, y, 15, binning) > 0.08


def test_reliability_counts_every_row_once():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 1000)
    y = (rng.uniform(0, 1, 1000) < p).astype(int)
    for binning in ("uniform", "equal_mass"):
        table = reliability(p, y, 15, binning)
        assert table["rows"].sum() == 1000
        assert (table["low"] <= table["mean_probability"]).all()
        assert (table["mean_probability"] <= table["high"]).all()


def test_the_quick_runs_calibration_recomputes_from_its_files(quick_run):
    """calibration.csv against an independent recomputation from the saved probabilities, the
    split files and the labels (no library code but the split reader)."""
    directory = quick_run.directory
    calibration = pd.read_csv(directory / paths.CALIBRATION)
    assert set(calibration["model"]) >= {"mlp", "poly_logreg"}
    assert "xor_oracle" not in set(calibration["model"])  # a label-only rule
    for row in calibration.itertuples():
        y = np.load(directory / paths.DATASET["y"].format(n=row.n))
        briers, eces = [], []
        for repeat in range(row.repeats):
            test = load_split(directory / paths.SPLIT.format(n=row.n, repeat=repeat)).test
            p = np.load(directory / paths.PROBABILITY_FILES["test_probabilities"].format(
                model=row.model, n=row.n, repeat=repeat))
            labels = np.load(directory / paths.FIT_FILES["test_predictions"].format(
                model=row.model, n=row.n, repeat=repeat))
            assert ((p > 0.5) == (labels == 1)).all(), "a model's label is its probability above 0.5"
            briers.append(np.mean((p - y[test]) ** 2))
            bins = np.minimum((p * 15).astype(int), 14)
            eces.append(sum(abs(y[test][bins == b].mean() - p[bins == b].mean()) * (bins == b).sum()
                            for b in np.unique(bins)) / len(p))
        assert row.brier == pytest.approx(np.mean(briers), rel=1e-9)
        assert row.ece_uniform == pytest.approx(np.mean(eces), rel=1e-9)
    curves = pd.read_csv(directory / paths.RELIABILITY)
    pooled = curves.groupby(["model", "n", "binning"])["rows"].sum()
    for row in calibration.itertuples():
        for binning in ("uniform", "equal_mass"):
            assert pooled[(row.model, row.n, binning)] == row.repeats * row.test_rows


def test_a_probability_file_of_the_wrong_length_is_named(tmp_path):
    folder = tmp_path / "results/models/mlp/n9/repeat0"
    folder.mkdir(parents=True)
    np.save(folder / "test_probabilities.npy", np.full(3, 0.5))
    split = tmp_path / "results/data/n9/splits/repeat0.npy"
    split.parent.mkdir(parents=True)
    np.save(split, np.array([0, 0, 2, 2]))  # two test rows (code 2)
    X, y = tmp_path / "X.npy", tmp_path / "y.npy"
    np.save(X, np.zeros((4, 9), dtype=np.float32))
    np.save(y, np.array([0, 1, 0, 1]))
    with pytest.raises(Exception, match=r"test_probabilities\.npy: expected 2 probabilities"):
        calibration_tables([folder / "test_probabilities.npy"], [split], {9: {"X": X, "y": y}})
