"""The scaling stage: its grid, its determinism, its noted cells, the floor, and the quick run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kryptonite_n.config import prepare_config
from kryptonite_n.data import GeneratorSettings, generate
from kryptonite_n.io import DataError
from kryptonite_n.models.parity_gf2 import search_parity, subsets_needed
from kryptonite_n.scaling import (
    COLUMNS,
    Limits,
    binary_entropy,
    cell_summary,
    collect_scaling,
    cost_slopes,
    generator_settings,
    layout,
    parity_rows_floor,
    rows_needed,
    scale_model,
    scaling_models,
    train_rows,
    unfitted_rows,
)

GRID = {"dimensions": [9, 12], "train_rows": [0.0625, 0.25], "repeats": 2, "test_rows": 1500,
        "validation_share": 1 / 3}


def _config(**scaling) -> dict:
    return prepare_config({"scaling": {**GRID, **scaling}})


def test_layout_is_the_studys_layout():
    """The scaling draws use the same feature layout as the study's dataset of that n."""
    settings = GeneratorSettings(rows_per_feature=50, hidden_rows=10)
    truth = generate(12, 5, settings).truth
    plan = layout(12, 5, generator_settings({"generator": {}}))
    assert plan.families == truth["families"]
    assert plan.informative.tolist() == truth["informative"]


def test_models_are_every_model_but_the_mock_baseline_and_tuned_ones():
    models = scaling_models(_config())
    # A tuned model's settings exist only where its search ran: the searched model is mapped.
    assert models == ["mlp", "poly_logreg", "xor_oracle", "fso_logreg", "parity_gf2"]
    assert "mlp" not in scaling_models(_config(models={"mlp": {"enabled": False}}))


def test_schema_defaults_and_unknown_keys():
    config = prepare_config({})
    assert config["scaling"]["dimensions"] == [9, 12, 15, 18, 24, 30, 45, 60, 90]
    assert config["scaling"]["models"]["mlp"]["max_n"] == 24
    with pytest.raises(DataError, match="scaling"):
        prepare_config({"scaling": {"bogus": 1}})
    with pytest.raises(DataError, match=r"scaling\.models.*'mock_baseline'"):
        scaling_models(prepare_config({"scaling": {"models": {"mock_baseline": {}}}}))
    with pytest.raises(DataError, match=r"scaling\.models.*'mlp_tuned'"):
        scaling_models(prepare_config({"scaling": {"models": {"mlp_tuned": {}}}}))
    with pytest.raises(DataError, match=r"scaling\.models.*'svm'"):
        scaling_models(prepare_config({"scaling": {"models": {"svm": {}}}}))
    with pytest.raises(DataError, match=r"scaling\.dimensions"):
        prepare_config({"scaling": {"dimensions": [10]}})


def test_train_rows_are_multiples_of_the_published_split():
    assert train_rows(9, 1) == 10800
    assert train_rows(90, 4) == 432000
    assert train_rows(9, 0.0625) == 675


def _scale(model: str, n: int, limits: Limits, config: dict, seed: int = 3) -> pd.DataFrame:
    from kryptonite_n.scaling import scaling_settings

    return scale_model(model, n, config["scaling"], scaling_settings(config, model, n), seed=seed,
                       generator=generator_settings(config), limits=limits)


def test_stage_is_deterministic_for_a_seed():
    config = _config()
    first = _scale("parity_gf2", 9, Limits(), config)
    second = _scale("parity_gf2", 9, Limits(), config)
    measured = ["fit_seconds", "peak_rss_mb"]
    pd.testing.assert_frame_equal(first.drop(columns=measured), second.drop(columns=measured))
    other = _scale("fso_logreg", 9, Limits(), config, seed=4)
    # Another seed draws other rows: the accuracies differ somewhere.
    assert not np.array_equal(first["test_acc"].to_numpy(), other["test_acc"].to_numpy())


def test_fitted_cells_are_near_bayes_and_measured():
    table = _scale("parity_gf2", 12, Limits(), _config())
    assert len(table) == 2 * 2 and table["note"].isna().all()
    # 1500 test rows: the binomial 95 % half-width is below 0.01.
    assert (table["test_acc"] > table["bayes_acc"] - 0.02).all()
    assert (table["fit_seconds"] > 0).all() and (table["peak_rss_mb"] >= 0).all()
    assert sorted(table["train_rows"].unique().tolist()) == [train_rows(12, 0.0625), train_rows(12, 0.25)]


def test_cells_beyond_limits_are_rows_with_a_note():
    config = _config(models={"mlp": {"max_n": 9, "max_rows_factor": 0.0625,
                                     "settings": {"max_epochs": 5, "patience": 2}}})
    limits = Limits(9, 0.0625)
    table = _scale("mlp", 9, limits, config)
    assert len(table) == 2 * 2  # every cell, fitted or not
    beyond = table[table["rows_factor"] == 0.25]
    assert beyond["test_acc"].isna().all()
    assert beyond["note"].str.contains("max_rows_factor").all()
    assert table.loc[table["rows_factor"] == 0.0625, "test_acc"].notna().all()
    # n = 12 has no job at all: the collected rows still hold its cells.
    unfitted = unfitted_rows(config)
    mlp12 = unfitted[(unfitted["model"] == "mlp") & (unfitted["n"] == 12)]
    assert len(mlp12) == 2 * 2 and mlp12["note"].str.contains("max_n = 9").all()


def test_collect_keeps_every_cell(tmp_path):
    config = _config(models={"mlp": {"enabled": False}, "poly_logreg": {"max_n": 6},
                             "fso_logreg": {"enabled": False}, "xor_oracle": {"enabled": False}})
    path = tmp_path / "gf2.csv"
    _scale("parity_gf2", 9, Limits(), config).to_csv(path, index=False)
    table = collect_scaling([path], tmp_path / "scaling.csv", config)
    assert list(table.columns) == list(COLUMNS)
    # gf2 at n = 9 fitted; gf2 at n = 12 has no job here, but poly_logreg's cells are noted.
    poly = table[table["model"] == "poly_logreg"]
    assert len(poly) == 2 * 2 * 2 and poly["test_acc"].isna().all()
    assert (poly["basis_size"] > 0).all()
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"model": ["x"]}).to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"bad\.csv"):
        collect_scaling([bad], tmp_path / "out.csv", config)


def test_too_few_rows_are_said():
    """Five training rows for the GF(2) learner's ten unknowns: it fits, and says so."""
    config = _config(train_rows=[0.0005], repeats=1)
    table = _scale("parity_gf2", 9, Limits(), config)
    assert table["train_rows"].iloc[0] == 5
    assert table["note"].iloc[0].startswith("too few rows")
    assert table["test_acc"].notna().all()


def test_a_fit_that_fails_is_a_noted_row():
    """From one training row every feature looks uniform: the XOR oracle has nothing to select."""
    config = _config(train_rows=[0.0001], repeats=1)
    table = _scale("xor_oracle", 9, Limits(), config)
    assert table["test_acc"].isna().all()
    assert table["note"].iloc[0].startswith("fit failed")


def test_binary_entropy_and_floor():
    assert binary_entropy(0.5) == pytest.approx(1.0)
    assert binary_entropy(0.0) == 0.0
    assert binary_entropy(0.11) == pytest.approx(0.4999, abs=1e-3)
    # Without noise a row is worth one bit: n rows for 2^n parities.
    assert parity_rows_floor(9, 0.0) == pytest.approx(9.0)
    # Noise raises the floor by 1 / (1 - H(p)).
    p = 1 / (8 * math.sqrt(45))
    assert parity_rows_floor(45, p) == pytest.approx(45 / (1 - binary_entropy(p)))
    assert parity_rows_floor(45, p) > 45
    with np.errstate(divide="ignore"):
        assert parity_rows_floor(9, 0.25) == pytest.approx(9 / (1 - binary_entropy(0.25)))


def test_subsets_needed_comes_from_the_data():
    # A clean parity needs one subset; a noisier one more; a wrong one (disagreement 1/2) endless.
    assert subsets_needed(0.0, 95, 1e-6) == 1
    low, high = subsets_needed(0.01, 95, 1e-6), subsets_needed(0.03, 95, 1e-6)
    assert 1 < low < high
    clean = 0.99**95
    assert low == math.ceil(math.log(1e-6) / math.log(1 - clean))
    assert subsets_needed(0.5, 95, 1e-6) > 1e20


def test_gf2_is_exact_at_n90_with_default_rows():
    """n = 90, the smallest default rows (1/16 of the published split): the true parity."""
    n = 90
    plan = layout(n, 2024, generator_settings({"generator": {}}))
    rng = np.random.default_rng(1)
    from kryptonite_n.data import draw_rows

    X, y, _ = draw_rows(rng, train_rows(n, 0.0625), plan.families, plan.scales, plan.informative,
                        plan.flip_rate)
    w, summary = search_parity(X > 0.5, y, extra_rows=4, rng=np.random.default_rng(2),
                               max_subsets=5000, miss_probability=1e-6)
    assert np.flatnonzero(w[:n]).tolist() == plan.informative.tolist()
    assert summary["better_than_chance"]
    assert summary["subsets"] < 5000


def test_summaries_find_break_points_and_slopes():
    rows = []
    for n, acc in [(9, 0.96), (12, 0.95), (15, 0.70)]:
        for factor, scale in [(0.5, 0.9), (1.0, 1.0)]:
            for repeat in range(2):
                rows.append({"model": "mlp", "n": n, "train_rows": int(factor * 1200 * n),
                             "rows_factor": factor, "repeat": repeat, "test_rows": 1000,
                             "test_acc": acc * scale + 0.001 * repeat,
                             "train_acc": 1.0, "bayes_acc": 0.97, "target": {9: 0.95, 12: 0.925, 15: 0.90}[n],
                             "fit_seconds": float(n) ** 2, "peak_rss_mb": 10.0 * n, "basis_size": None,
                             "note": None})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    cells = cell_summary(table)
    assert cells.loc[(cells["n"] == 15) & (cells["rows_factor"] == 1.0), "reached"].item() is False
    assert cells.loc[(cells["n"] == 9) & (cells["rows_factor"] == 1.0), "reached"].item() is True
    assert (cells["low"] < cells["mean"]).all() and (cells["mean"] < cells["high"]).all()
    needed = rows_needed(table).set_index("n")
    assert needed.loc[9, "rows_needed"] == 1200 * 9 and needed.loc[9, "status"] == "reached"
    assert needed.loc[15, "status"] == "never reached"
    slopes = cost_slopes(table, "fit_seconds").set_index("model")
    assert slopes.loc["mlp", "slope"] == pytest.approx(2.0)


@pytest.mark.workflow
def test_quick_run_maps_every_cell(quick_run):
    """The quick grid: every (model, n, rows, repeat) is a row, fitted or noted, and the page
    quotes the table."""
    table = pd.read_csv(quick_run.directory / "results" / "scaling.csv")
    config = prepare_config({"scaling": {"dimensions": [9, 12], "train_rows": [0.125, 0.5], "repeats": 1}})
    models = scaling_models(config)
    assert len(table) == len(models) * 2 * 2 * 1
    assert set(table["model"]) == set(models)
    mlp = table[table["model"] == "mlp"].set_index(["n", "rows_factor"])
    # Fitted (40 epochs on 1,350 rows leave the MLP at chance: a row, not a gap).
    assert pd.notna(mlp.loc[(9, 0.125), "test_acc"]) and pd.isna(mlp.loc[(9, 0.125), "note"])
    assert "max_rows_factor" in mlp.loc[(9, 0.5), "note"]  # beyond its rows limit
    assert "max_n = 9" in mlp.loc[(12, 0.125), "note"]  # beyond its n limit, no job
    assert not (quick_run.directory / "results" / "scaling" / "mlp" / "n12.csv").exists()
    gf2 = table[table["model"] == "parity_gf2"]
    assert (gf2["test_acc"] >= gf2["bayes_acc"] - 0.03).all()
    page = (quick_run.directory / "results" / "report" / "docs" / "scaling.md").read_text()
    assert "Where learners break" in page
    assert f"{int(table['test_acc'].notna().sum())} fits were" in page
    for name in ("scaling_accuracy", "scaling_rows", "scaling_cost", "scaling_basis"):
        assert (quick_run.directory / "results" / "report" / "docs" / "figures" / f"{name}.js").exists()


def test_a_cells_interval_stays_within_0_and_1():
    from kryptonite_n.scaling import mean_interval

    # Three repeats, one of which learned: Student's t alone would run past 1 and below 0.
    mean, low, high = mean_interval(np.array([0.97, 0.5, 0.49]), 10_000)
    assert mean == pytest.approx(0.65333, abs=1e-4)
    assert (low, high) == (0.0, 1.0)
    mean, low, high = mean_interval(np.array([0.95, 0.96, 0.955]), 10_000)
    assert 0 < low < mean < high < 1
