"""The scaling stage: its grid, its determinism, its noted cells, the study's fits as cells,
break points judged by the interval, the cost exponent, the floors, and the quick run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kryptonite_n.compute.data import GeneratorSettings, generate
from kryptonite_n.compute.gf2 import search_parity, subsets_needed
from kryptonite_n.compute.scaling import COLUMNS, STUDY_FIT, generator_settings, layout, scale_model
from kryptonite_n.io import DataError
from kryptonite_n.plan.config import prepare_config
from kryptonite_n.plan.models import Limits
from kryptonite_n.plan.scaling import scaling_models, study_cells, train_rows
from kryptonite_n.tables.scaling import (
    BREAK_COLUMNS,
    binary_entropy,
    break_points,
    cell_summary,
    collect_scaling,
    cost_slopes,
    parity_rows_floor,
    rows_needed,
    support_bits,
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
    assert models == ["mlp", "poly_logreg", "xor_oracle", "fso_logreg", "parity_gf2",
                      "svm_rbf", "random_forest", "knn", "gradient_boosting", "cnn"]
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
    from kryptonite_n.plan.scaling import scaling_settings

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


def test_a_model_that_cannot_apply_is_a_noted_row():
    """From one training row no noise shape can be told apart: the XOR oracle, which selects by
    shape, says it does not apply there instead of scoring a guess."""
    config = _config(train_rows=[0.0001], repeats=1)
    table = _scale("xor_oracle", 9, Limits(), config)
    assert table["test_acc"].isna().all()
    assert table["note"].iloc[0].startswith("not applicable: the noise shapes separate no family")


def test_a_fit_that_fails_is_a_noted_row(monkeypatch):
    """A model that raises DataError on a cell's rows leaves a row saying so, not a crash."""
    from kryptonite_n.compute.models import poly_logreg

    def refuse(task):
        raise DataError("no monomial fits these rows")

    monkeypatch.setattr(poly_logreg, "fit", refuse)
    table = _scale("poly_logreg", 9, Limits(), _config(repeats=1))
    assert table["test_acc"].isna().all()
    assert (table["note"] == "fit failed: no monomial fits these rows").all()


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
    from kryptonite_n.compute.data import draw_rows

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
    assert slopes.loc["mlp", "low"] <= 2.0 <= slopes.loc["mlp", "high"]


@pytest.mark.workflow
def test_quick_run_maps_every_cell(quick_run):
    """The quick grid: every (model, n, rows, repeat) is a row, fitted, noted or the study's own
    fit, and the page quotes the table."""
    import yaml

    table = pd.read_csv(quick_run.directory / "results" / "scaling.csv")
    config = prepare_config(yaml.safe_load(quick_run.configfile.read_text()))
    models = scaling_models(config)
    factors = config["scaling"]["train_rows"]
    study = {model: study_cells(config, model) for model in models}
    expected = sum(config["repeats"] if study[m].get(n) == f else config["scaling"]["repeats"]
                   for m in models for n in config["scaling"]["dimensions"] for f in factors)
    assert len(table) == expected
    assert set(table["model"]) == set(models)
    def mlp(n: int, factor: float) -> pd.Series:
        return table[(table["model"] == "mlp") & (table["n"] == n) & (table["rows_factor"] == factor)].iloc[0]

    # Fitted (40 epochs on 1,350 rows leave the MLP at chance: a row, not a gap).
    assert pd.notna(mlp(9, 0.125)["test_acc"]) and pd.isna(mlp(9, 0.125)["note"])
    assert mlp(9, 0.125)["source"] == "scaling" and mlp(9, 0.15)["source"] == STUDY_FIT
    assert "max_rows_factor" in mlp(9, 0.5)["note"]  # beyond its rows limit
    assert "max_n = 9" in mlp(12, 0.125)["note"]  # beyond its n limit, no job
    assert not (quick_run.directory / "results" / "scaling" / "mlp" / "n12.csv").exists()
    gf2 = table[(table["model"] == "parity_gf2") & (table["source"] != STUDY_FIT)]
    assert (gf2["test_acc"] >= gf2["bayes_acc"] - 0.03).all()
    page = (quick_run.directory / "results" / "report" / "docs" / "scaling.md").read_text()
    assert "Where learners break" in page
    assert f"{int((table['test_acc'].notna() & (table['source'] != STUDY_FIT)).sum())} fits were" in page
    assert "every learner" not in page and "whatever its compute" not in page
    for name in ("scaling_accuracy", "scaling_rows", "scaling_cost", "scaling_basis"):
        assert (quick_run.directory / "results" / "report" / "docs" / "figures" / f"{name}.js").exists()


@pytest.mark.workflow
def test_quick_run_mlp_cell_at_the_studys_rows_is_the_summarys(quick_run):
    """Item 11: at the study's own training rows (x0.15 of the published rows on the quick
    configuration, x1 on the default one) the MLP's cell is the summary's row of the MLP at
    that n: same repeats, same mean, same interval, same verdict on the target; and
    results/scaling/breaks.csv judges it as the summary does."""
    results = quick_run.directory / "results"
    # Both files hold 10 significant digits (kryptonite_n.io.write_csv).
    tolerance = 2e-10
    table = pd.read_csv(results / "scaling.csv")
    summary = pd.read_csv(results / "summary.csv").set_index(["model", "n"])
    cells = cell_summary(table).set_index(["model", "n", "rows_factor"])
    cell = cells.loc[("mlp", 9, 0.15)]
    row = summary.loc[("mlp", 9)]
    assert cell["source"] == STUDY_FIT
    assert cell["repeats"] == row["repeats"]
    assert cell["mean"] == pytest.approx(row["test_acc_mean"], abs=tolerance)
    assert cell["low"] == pytest.approx(row["test_acc_ci_low"], abs=tolerance)
    assert cell["high"] == pytest.approx(row["test_acc_ci_high"], abs=tolerance)
    assert cell["ci_method"] == row["ci_method"]
    assert bool(cell["reached"]) == (str(row["meets_target"]).lower() == "true")
    # Every cell that is the study's fits agrees with the summary, for every model.
    for (model, n, _factor), study_cell in cells[cells["source"] == STUDY_FIT].iterrows():
        assert study_cell["mean"] == pytest.approx(summary.loc[(model, n), "test_acc_mean"], abs=tolerance)
        assert bool(study_cell["reached"]) == (str(summary.loc[(model, n), "meets_target"]).lower() == "true")
    breaks = pd.read_csv(results / "scaling" / "breaks.csv")
    assert list(breaks.columns) == list(BREAK_COLUMNS)
    at_study = breaks[(breaks["model"] == "mlp") & (breaks["rows_factor"] == 0.15)].iloc[0]
    if str(row["meets_target"]).lower() == "true":
        assert at_study["largest_n_reaching"] == 9
        assert at_study["ci_low"] == pytest.approx(row["test_acc_ci_low"], abs=tolerance)
    else:
        assert at_study["first_n_below"] == 9
        assert at_study["below_ci_low"] == pytest.approx(row["test_acc_ci_low"], abs=tolerance)
    page = (results / "report" / "docs" / "scaling.md").read_text()
    assert "the study's fits" in page and "max_epochs = 40 (the study's 300)" in page


def test_a_cells_interval_stays_within_0_and_1():
    from kryptonite_n.tables.scaling import cell_summary

    # Three repeats, one of which learned: Student's t alone would run past 1 and below 0.
    rows = _cell_rows({9: [0.97, 0.5, 0.49], 12: [0.95, 0.96, 0.955], 15: [0.95]})
    cells = cell_summary(pd.DataFrame(rows))
    wide, narrow, single = (cells[cells["n"] == n].iloc[0] for n in (9, 12, 15))
    assert wide["mean"] == pytest.approx(0.65333, abs=1e-4)
    assert (wide["low"], wide["high"]) == (0.0, 1.0)
    assert 0 < narrow["low"] < narrow["mean"] < narrow["high"] < 1
    # One repeat: no interval over fits, as in the summary (not the test set's binomial one).
    assert single["mean"] == 0.95 and math.isnan(single["low"]) and math.isnan(single["high"])


def _cell_rows(values: dict[int, list[float]], factor: float = 1.0, model: str = "mlp") -> list[dict]:
    return [{"model": model, "n": n, "train_rows": train_rows(n, factor), "rows_factor": factor,
             "repeat": repeat, "test_rows": 10_000, "test_acc": acc, "train_acc": 1.0, "bayes_acc": 0.97,
             "target": {9: 0.95, 12: 0.925, 15: 0.90, 18: 0.875}[n], "fit_seconds": 1.0, "peak_rss_mb": 1.0,
             "basis_size": None, "note": None, "source": "scaling", "test_over_train": 0.0}
            for n, accs in values.items() for repeat, acc in enumerate(accs)]


def test_a_cell_reaches_its_goal_only_when_its_intervals_low_end_does(tmp_path):
    """Item 12: the reviewer's MLP at n = 18 (mean 0.8957 over three repeats, interval about
    [0.858, 0.934], target 0.875) does not reach the target: the summary would not say it
    does. The break points say so, and collect_scaling writes them to breaks.csv."""
    rows = _cell_rows({9: [0.958, 0.960, 0.959], 12: [0.950, 0.951, 0.952], 15: [0.930, 0.932, 0.931],
                       18: [0.8957 + 0.0153, 0.8957 - 0.0153, 0.8957]})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    cells = cell_summary(table).set_index("n")
    assert cells.loc[18, "mean"] > 0.875 and cells.loc[18, "low"] < 0.875
    assert not cells.loc[18, "reached"]
    assert cells.loc[15, "reached"]
    breaks = break_points(cell_summary(table)).iloc[0]
    assert breaks["largest_n_reaching"] == 15 and breaks["first_n_below"] == 18
    assert breaks["ci_low"] == pytest.approx(cells.loc[15, "low"])
    assert breaks["below_ci_low"] == pytest.approx(cells.loc[18, "low"])
    # The same judgment as the summary's meets_target on the same repeats.
    from kryptonite_n.tables.summary import summarise

    metrics = table.assign(validation_acc=0.0, whole_set_acc=0.0)
    summary = summarise(metrics, {}, test_over_train=0.0).set_index("n")
    assert [summary.loc[n, "meets_target"] for n in (9, 12, 15, 18)] == ["true", "true", "true", "false"]
    # Written to results/scaling/breaks.csv by the collecting job.
    config = _config(dimensions=[9, 12, 15, 18], train_rows=[1], repeats=3,
                     models={m: {"enabled": m == "mlp"} for m in ["mlp", "poly_logreg", "xor_oracle",
                                                                  "fso_logreg", "parity_gf2"]})
    config["data_dir"] = "published"  # no cell is the study's fits here
    part = tmp_path / "mlp.csv"
    table.to_csv(part, index=False)
    collect_scaling([part], tmp_path / "scaling.csv", config, breaks_out=tmp_path / "breaks.csv")
    written = pd.read_csv(tmp_path / "breaks.csv")
    assert list(written.columns) == list(BREAK_COLUMNS)
    assert written.loc[0, "largest_n_reaching"] == 15 and written.loc[0, "first_n_below"] == 18


def test_one_repeat_cannot_show_a_target_is_reached():
    table = pd.DataFrame(_cell_rows({9: [0.99]}), columns=list(COLUMNS))
    cell = cell_summary(table).iloc[0]
    assert not cell["reached"] and math.isnan(cell["low"])
    assert break_points(cell_summary(table)).iloc[0]["first_n_below"] == 9


def test_the_studys_fits_are_cells_where_they_are_the_same_computation():
    """Item 11: x1 at every n the study fits on generated data; none on published files, none
    when the study's rows are not a multiple of the grid, none beyond the model's limits."""
    config = prepare_config({})
    assert study_cells(config, "mlp") == {n: 1.0 for n in (9, 12, 15, 18, 24)}
    assert study_cells(config, "poly_logreg") == {n: 1.0 for n in (9, 12, 15, 18)}
    assert study_cells(config, "parity_gf2") == {n: 1.0 for n in (9, 12, 15, 18, 24, 30, 45)}
    assert study_cells(prepare_config({"data_dir": None}) | {"data_dir": "/published"}, "mlp") == {}
    assert study_cells(prepare_config({"generator": {"rows_per_feature": 1500}}), "mlp") == {}
    assert study_cells(prepare_config({"generator": {"rows_per_feature": 1000}}), "mlp")[9] == 0.5
    # Another validation share than the study's: not the MLP's computation (it stops early on
    # them), still the computation of a model that reads no validation rows.
    other_share = prepare_config({"scaling": {"validation_share": 0.5}})
    assert study_cells(other_share, "mlp") == {}
    assert study_cells(other_share, "parity_gf2")[9] == 1.0
    limited = prepare_config({"scaling": {"models": {"mlp": {"max_n": 12}}}})
    assert study_cells(limited, "mlp") == {9: 1.0, 12: 1.0}
    # A fitted n whose only cell within the limits is the study's needs no job.
    only_x1 = prepare_config({"scaling": {"train_rows": [1]}})
    from kryptonite_n.plan.scaling import fitted_dimensions

    assert fitted_dimensions(only_x1, "mlp") == []
    assert fitted_dimensions(only_x1, "parity_gf2") == [60, 90]


def test_collect_takes_the_studys_fits_with_the_summarys_interval(tmp_path):
    """The cells that are the study's fits read its metrics tables, and their interval is the
    summary's (corrected resampled t over repeats that re-split one set), to the last digit."""
    from kryptonite_n import stats
    from kryptonite_n.tables.summary import summarise

    config = prepare_config({"dimensions": [9], "repeats": 4,
                             "scaling": {"dimensions": [9], "train_rows": [0.5, 1], "repeats": 2}})
    rng = np.random.default_rng(0)
    metrics = pd.DataFrame({"model": "parity_gf2", "n": 9, "repeat": range(4),
                            "test_acc": 0.955 + 0.004 * rng.standard_normal(4), "train_acc": 0.96,
                            "validation_acc": 0.95, "whole_set_acc": 0.95, "fit_seconds": 0.1})
    folder = tmp_path / "results" / "models" / "parity_gf2" / "n9"
    folder.mkdir(parents=True)
    metrics.to_csv(folder / "metrics.csv", index=False)
    for model in scaling_models(config):
        if model != "parity_gf2":
            config["scaling"]["models"][model] = {"enabled": False}
    table = collect_scaling([], tmp_path / "scaling.csv", config, metrics=[folder / "metrics.csv"],
                            breaks_out=tmp_path / "breaks.csv")
    study = table[table["source"] == STUDY_FIT]
    assert len(study) == 4 and (study["rows_factor"] == 1.0).all()
    assert study["test_rows"].iloc[0] == 2000 * 9 - 10800 - 3600
    # The x0.5 cells are this stage's (no job ran here: the table holds none of them).
    cell = cell_summary(table).set_index("rows_factor").loc[1.0]
    ratio = stats.resampling_ratio(config["split"])
    row = summarise(metrics, {}, test_over_train=ratio).iloc[0]
    assert (cell["low"], cell["high"]) == (row["test_acc_ci_low"], row["test_acc_ci_high"])
    assert cell["ci_method"] == row["ci_method"] == stats.CORRECTED_T
    # One Bayes definition: the generator's exact limit of the study's layout, not 1 - p.
    truth = generate(9, config["seed"], GeneratorSettings(rows_per_feature=1, hidden_rows=1)).truth
    from kryptonite_n.compute.bayes import bayes_limit

    assert cell["bayes_acc"] == bayes_limit(truth)["accuracy"]
    assert cell["bayes_acc"] != pytest.approx(1 - truth["flip_rate"], abs=1e-6)
    with pytest.raises(DataError, match="parity_gf2 at n = 9"):
        collect_scaling([], tmp_path / "again.csv", config, metrics=[])


def test_scaling_bayes_is_the_generators():
    """Item 14: a fitted cell's Bayes accuracy is bayes.py's (the generator's exact limit)."""
    from kryptonite_n.compute.bayes import bayes_limit

    config = _config(train_rows=[0.0625], repeats=1)
    table = _scale("parity_gf2", 9, Limits(), config)
    truth = generate(9, 3, GeneratorSettings(rows_per_feature=1, hidden_rows=1)).truth
    assert (table["bayes_acc"] == bayes_limit(truth)["accuracy"]).all()


def test_cost_exponent_is_at_fixed_rows_and_needs_four_cells():
    """Item 13: cost = n * rows. At x1 the rows grow with n, so a slope against n alone is 2;
    the exponent of n at fixed rows is 1, with an interval; fewer than four cells give none."""
    rows = []
    for n in (9, 12, 15, 18):
        for factor in (0.5, 1.0):
            for row in _cell_rows({n: [0.9, 0.9]}, factor):
                noise = 1.0 + 0.01 * ((n + row["repeat"]) % 3 - 1)
                rows.append(row | {"fit_seconds": n * row["train_rows"] * 1e-6 * noise})
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    slope = cost_slopes(table, "fit_seconds").iloc[0]
    assert slope["slope"] == pytest.approx(1.0, abs=0.05)
    assert slope["rows_slope"] == pytest.approx(1.0, abs=0.05)
    assert slope["low"] < slope["slope"] < slope["high"] and slope["points"] == 8
    # Three cells: no exponent. Cells at one multiple (rows tied to n): no exponent either.
    assert cost_slopes(table[table["n"].isin([9, 12]) & ~((table["n"] == 12) & (table["rows_factor"] == 1))],
                       "fit_seconds").empty
    assert cost_slopes(table[table["rows_factor"] == 1.0], "fit_seconds").empty
    # The study's fits (timed with their repeats together) are not this stage's cost.
    assert cost_slopes(table.assign(source=STUDY_FIT), "fit_seconds").empty


def test_support_size_floor():
    """Item 15: told the support size, the learner chooses among C(n, 2n/3) parities."""
    assert support_bits(9) == pytest.approx(math.log2(math.comb(9, 6)))
    assert support_bits(45) == pytest.approx(math.log2(math.comb(45, 30)))
    p = 0.03
    assert parity_rows_floor(9, p, support_bits(9)) == pytest.approx(math.log2(84) / (1 - binary_entropy(p)))
    assert parity_rows_floor(9, p, support_bits(9)) < parity_rows_floor(9, p)
