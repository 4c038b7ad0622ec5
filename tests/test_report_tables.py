"""The report's tables (``kryptonite_n.tables.results``) on tiny hand-made inputs.

Every expected number is worked out here, by hand or from its formula (the t interval of the
mean, points-weighted pools), not read back from the function under test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from kryptonite_n.io import DataError
from kryptonite_n.tables import results as tables

PUBLISHED_BAYES = {"accuracy": 0.9637, "ci_low": 0.961, "ci_high": 0.966, "source": "published estimate"}


def write(path: Path, frame: pd.DataFrame, sep: str = ",") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, sep=sep)
    return str(path)


def t_interval(values: list[float], ratio: float) -> tuple[float, float]:
    """95 % t interval of the mean, variance scaled by (1/J + ratio) (Nadeau and Bengio), in [0, 1]."""
    array = np.asarray(values, dtype=float)
    half = scipy.stats.t.ppf(0.975, len(array) - 1) * math.sqrt(array.var(ddof=1) * (1 / len(array) + ratio))
    return max(0.0, array.mean() - half), min(1.0, array.mean() + half)


# --------------------------------------------------------------------------- names and reading


def test_a_model_without_a_label_is_named_by_its_own_name():
    assert tables.model_label("fso_logreg") == "LR with FSO"
    assert tables.model_label("a_model_added_later") == "a_model_added_later"


def test_read_tables_adds_n_and_repeat_from_the_path_in_front(tmp_path):
    paths = [write(tmp_path / "mlp" / f"n{n}" / f"repeat{repeat}" / "history.csv",
                   pd.DataFrame({"epoch": [1, 2], "loss": [0.5, 0.25]}))
             for n, repeat in ((9, 0), (12, 2))]
    both = tables.read_tables(paths, ["epoch"], add_n=True, add_repeat=True)
    assert list(both.columns) == ["n", "repeat", "epoch", "loss"]
    assert both[["n", "repeat"]].values.tolist() == [[9, 0], [9, 0], [12, 2], [12, 2]]
    assert list(both.index) == [0, 1, 2, 3]  # one label per row, whichever file it came from
    assert list(tables.read_tables(paths, add_n=True).columns) == ["n", "epoch", "loss"]
    assert list(tables.read_tables(paths, add_repeat=True).columns) == ["repeat", "epoch", "loss"]
    plain = tables.read_tables(paths, ["epoch"])
    assert list(plain.columns) == ["epoch", "loss"] and len(plain) == 4


def test_read_tables_keeps_an_n_or_repeat_the_file_already_has(tmp_path):
    # The summary lives at results/summary.csv: no n or repeat in its path, both in its rows.
    path = write(tmp_path / "results" / "summary.csv",
                 pd.DataFrame({"model": ["mlp"], "n": [12], "repeat": [3]}))
    table = tables.read_tables([path], ["model"], add_n=True, add_repeat=True)
    assert table.to_dict("records") == [{"model": "mlp", "n": 12, "repeat": 3}]


def test_read_tables_of_no_file_has_the_asked_columns():
    both = tables.read_tables([], ["a", "b"], add_n=True, add_repeat=True)
    assert list(both.columns) == ["n", "repeat", "a", "b"]
    assert list(tables.read_tables([], ["a"], add_n=True).columns) == ["n", "a"]
    assert list(tables.read_tables([], ["a"], add_repeat=True).columns) == ["repeat", "a"]
    assert list(tables.read_tables([], ["a"]).columns) == ["a"]


def test_read_tables_reads_tab_separated_files(tmp_path):
    path = write(tmp_path / "n9" / "table.tsv", pd.DataFrame({"a": [1, 2], "b": ["x,y", "z"]}), sep="\t")
    table = tables.read_tables([path], ["a", "b"], sep="\t")
    assert table.to_dict("list") == {"a": [1, 2], "b": ["x,y", "z"]}
    with pytest.raises(DataError, match="missing column"):
        tables.read_tables([path], ["a", "b"])


# --------------------------------------------------------------------------- Bayes limits


def test_bayes_limits_per_n_with_flip_rate_interval_source_and_target():
    truths = {12: {"flip_rate": None, "bayes": PUBLISHED_BAYES},
              9: {"flip_rate": 0.04, "bayes": {"accuracy": 0.958, "ci_low": None, "ci_high": None,
                                               "source": "generator"}},
              21: {"flip_rate": 0.02, "bayes": {"accuracy": 0.97}},
              30: {}}
    limits = tables.bayes_limits(truths)
    assert list(limits.columns) == tables.BAYES_COLUMNS
    rows = {int(row["n"]): row for row in limits.to_dict("records")}
    assert list(rows) == [9, 12, 21, 30]
    assert (rows[9]["flip_rate"], rows[9]["bayes"], rows[9]["bayes_source"]) == (0.04, 0.958, "generator")
    assert pd.isna(rows[9]["bayes_low"]) and pd.isna(rows[9]["bayes_high"]) and rows[9]["target"] == 0.95
    assert pd.isna(rows[12]["flip_rate"]) and rows[12]["target"] == 0.925
    assert (rows[12]["bayes_low"], rows[12]["bayes"], rows[12]["bayes_high"]) == (0.961, 0.9637, 0.966)
    assert rows[12]["bayes_source"] == "published estimate"
    # A limit without a named source, and an n without any record or target: an empty source.
    assert rows[21]["bayes_source"] == "" and rows[21]["flip_rate"] == 0.02 and pd.isna(rows[21]["target"])
    assert rows[30]["bayes_source"] == "" and pd.isna(rows[30]["bayes"]) and rows[30]["target"] == 0.75


def test_bayes_limits_of_no_truth_keep_their_columns():
    limits = tables.bayes_limits({})
    assert list(limits.columns) == tables.BAYES_COLUMNS and limits.empty


# --------------------------------------------------------------------------- headline from the fits


def fits() -> pd.DataFrame:
    """Metrics rows: two repeats that meet n = 9's target exactly, two at n = 12 with a
    non-numeric hidden score, one at an n without a target, and two models the study lacks."""
    rows = [("xor_oracle", 9, 0, 0.95, 0.96, 0.951), ("xor_oracle", 9, 1, 0.95, 0.94, 0.949),
            ("mlp", 12, 0, 0.90, 0.88, 0.91), ("mlp", 12, 1, 0.92, "-", 0.93),
            ("mlp", 21, 0, 0.80, 0.81, 0.82),
            ("zeta_model", 9, 0, 0.70, 0.70, 0.70), ("alpha_model", 9, 0, 0.60, 0.60, 0.60)]
    return pd.DataFrame(rows, columns=["model", "n", "repeat", "test_acc", "hidden_acc", "whole_set_acc"])


def test_accuracy_summary_aggregates_repeats_with_the_given_split():
    limits = tables.bayes_limits({9: {"bayes": {"accuracy": 0.958, "source": "generator"}}})
    table = tables.accuracy_summary(fits(), limits, test_over_train=0.125)
    assert list(table.columns) == tables.HEADLINE_COLUMNS
    # The study's model order, then n; models it does not know last, in the order they came.
    assert list(zip(table["model"], table["n"], strict=True)) == [
        ("mlp", 12), ("mlp", 21), ("xor_oracle", 9), ("zeta_model", 9), ("alpha_model", 9)]
    assert table["n"].dtype.kind == "i"
    rows = table.set_index(["model", "n"])
    mlp = rows.loc[("mlp", 12)]
    assert mlp["repeats"] == 2 and mlp["test_mean"] == pytest.approx(0.91)
    assert mlp["test_std"] == pytest.approx(0.02 / math.sqrt(2))
    # n_test / n_train = 0.125 as given, not the default split's 1/3.
    assert (mlp["test_low"], mlp["test_high"]) == pytest.approx(t_interval([0.90, 0.92], 0.125))
    assert mlp["ci_method"] == "corrected_resampled_t"
    assert mlp["hidden_mean"] == pytest.approx(0.88)  # the "-" is no score
    assert mlp["whole_mean"] == pytest.approx(0.92)
    assert mlp["target"] == 0.925 and mlp["passes"] is False
    # No limit recorded for n = 12: the row stays, without one.
    assert pd.isna(mlp["bayes"]) and pd.isna(mlp["bayes_source"])
    # Two equal repeats: a zero-width interval whose low end is the target itself meets it.
    oracle = rows.loc[("xor_oracle", 9)]
    assert oracle["test_low"] == oracle["test_high"] == 0.95 and oracle["passes"] is True
    assert oracle["bayes"] == 0.958 and oracle["bayes_source"] == "generator"
    # One repeat: no spread, no interval, no method; no target at n = 21: no verdict.
    single = rows.loc[("mlp", 21)]
    assert pd.isna(single["test_std"]) and pd.isna(single["test_low"]) and single["ci_method"] == ""
    assert single["passes"] is None and pd.isna(single["target"])
    assert rows.loc[("zeta_model", 9), "passes"] is False
    assert (table["note"] == "").all()


def test_accuracy_summary_without_hidden_or_whole_set_scores():
    metrics = fits().drop(columns=["hidden_acc", "whole_set_acc"])
    table = tables.accuracy_summary(metrics, tables.bayes_limits({}), test_over_train=0.125)
    assert len(table) == 5
    assert table["hidden_mean"].isna().all() and table["whole_mean"].isna().all()


def test_accuracy_summary_of_no_fit_is_empty_with_the_headline_columns():
    no_fit = pd.DataFrame(columns=list(tables.METRIC_COLUMNS))
    table = tables.accuracy_summary(no_fit, tables.bayes_limits({}))
    assert table.empty and list(table.columns) == tables.HEADLINE_COLUMNS


def test_headline_from_fits_uses_the_given_split_and_needs_the_metric_columns(tmp_path):
    scores = [0.93, 0.95, 0.96]
    path = write(tmp_path / "models" / "mlp" / "n9" / "metrics.csv",
                 pd.DataFrame({"model": "mlp", "n": 9, "repeat": range(3), "test_acc": scores}))
    for ratio in (0.125, 0.2 / 0.6):
        table = tables.headline_table([], [path], [], test_over_train=ratio)
        interval = (table.loc[0, "test_low"], table.loc[0, "test_high"])
        assert interval == pytest.approx(t_interval(scores, ratio))
    # Without a ratio, the schema's default split (60/20/20).
    table = tables.headline_table([], [path], [])
    assert table.loc[0, "test_low"] == pytest.approx(t_interval(scores, 0.2 / 0.6)[0])
    without_repeat = write(tmp_path / "n9" / "metrics.csv", pd.DataFrame({"model": ["mlp"], "n": [9],
                                                                           "test_acc": [0.9]}))
    with pytest.raises(DataError, match=r"metrics\.csv: missing column\(s\) repeat"):
        tables.headline_table([], [without_repeat], [])


# --------------------------------------------------------------------------- headline from the summary


def test_summary_headline_renames_and_reads_flags_of_either_spelling():
    summary = pd.DataFrame({
        "model": ["xor_oracle", "mlp", "mlp"], "n": [9.0, 9.0, 12.0], "repeats": [3, 3, 0],
        "test_acc_mean": [0.97, 0.96, None], "test_acc_std": [0.01, 0.02, None],
        "test_acc_ci_low": [0.95, 0.93, None], "test_acc_ci_high": [0.99, 0.99, None],
        "ci_method": ["corrected_resampled_t", "corrected_resampled_t", None],
        "hidden_acc_mean": [0.965, None, None], "whole_set_acc": [0.968, 0.955, None],
        "target": ["0.95", "0.95", "-"], "bayes_acc": [0.958, 0.958, 0.9637],
        "bayes_ci_low": [None, None, 0.961], "bayes_ci_high": [None, None, 0.966],
        "bayes_source": ["generator", "generator", None], "meets_target": [1, 0, ""],
        "note": ["one fit warned", None, "not run: n=12 is outside models.mlp.dimensions"]})
    table = tables.summary_headline(summary)
    assert list(table.columns) == tables.HEADLINE_COLUMNS
    assert list(zip(table["model"], table["n"], strict=True)) == [("mlp", 9), ("mlp", 12), ("xor_oracle", 9)]
    assert table["n"].dtype.kind == "i"
    assert table["label"].tolist() == ["MLP", "MLP", "XOR oracle"]
    assert table["passes"].tolist() == [False, None, True]
    rows = table.set_index(["model", "n"])
    oracle, skipped = rows.loc[("xor_oracle", 9)], rows.loc[("mlp", 12)]
    assert (oracle["hidden_mean"], oracle["whole_mean"], oracle["target"]) == (0.965, 0.968, 0.95)
    assert (oracle["test_low"], oracle["test_high"], oracle["bayes"]) == (0.95, 0.99, 0.958)
    assert (skipped["bayes_low"], skipped["bayes_high"]) == (0.961, 0.966) and pd.isna(skipped["target"])
    assert skipped["bayes_source"] == "" and skipped["ci_method"] == "" and pd.isna(skipped["test_mean"])
    assert table["note"].tolist() == ["", "not run: n=12 is outside models.mlp.dimensions", "one fit warned"]


def test_summary_headline_of_an_older_summary_without_optional_columns():
    summary = pd.DataFrame({"model": ["mlp"], "n": [9], "repeats": [2], "test_acc_mean": [0.9],
                            "test_acc_std": [0.01], "target": [0.95], "bayes_acc": [0.958],
                            "meets_target": ["false"]})
    row = tables.summary_headline(summary).iloc[0]
    for column in ("test_low", "test_high", "hidden_mean", "whole_mean", "bayes_low", "bayes_high"):
        assert pd.isna(row[column]), column
    assert (row["ci_method"], row["bayes_source"], row["note"], row["passes"]) == ("", "", "", False)


def test_summary_headline_of_no_row_keeps_the_headline_columns():
    table = tables.summary_headline(pd.DataFrame(columns=list(tables.SUMMARY_COLUMNS)))
    assert table.empty and list(table.columns) == tables.HEADLINE_COLUMNS


def test_a_summary_without_a_required_column_is_an_error_naming_it(tmp_path):
    path = write(tmp_path / "summary.csv", pd.DataFrame({"model": ["mlp"], "n": [9], "test_acc_mean": [0.9],
                                                         "test_acc_std": [0.01], "target": [0.95],
                                                         "bayes_acc": [0.958], "meets_target": ["false"]}))
    with pytest.raises(DataError, match=r"summary\.csv: missing column\(s\) repeats"):
        tables.headline_table([path], [], [])


# --------------------------------------------------------------------------- ties with the best


def headline_rows(rows: list[tuple[str, object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["label", "test_mean", "test_low", "test_high"])


def test_a_row_ties_when_its_interval_reaches_the_best_ones_low_end():
    group = headline_rows([("A", 0.95, 0.90, 0.99), ("B", 0.92, 0.91, 0.93), ("C", 0.85, 0.80, 0.899)])
    # B's high end (0.93) reaches the best's low end (0.90); C's (0.899) does not.
    assert tables.tied_with_best(group)["label"].tolist() == ["A", "B"]


def test_a_best_without_an_interval_ties_rows_reaching_its_mean():
    # One repeat: the best's "interval" is its mean, 0.95; B reaches it, C does not.
    group = headline_rows([("B", 0.94, 0.92, 0.96), ("A", 0.95, None, None), ("C", 0.93, 0.91, 0.949)])
    assert tables.tied_with_best(group)["label"].tolist() == ["A", "B"]


def test_a_row_without_an_interval_ties_only_at_an_equal_mean():
    # 0.6 + 0.3 and 0.9 differ by 1.1e-16 (summation order): equal. 1e-10 or 5e-6 apart: not.
    group = headline_rows([("A", 0.9, None, None), ("B", 0.6 + 0.3, None, None),
                           ("C", 0.9 - 1e-10, None, None), ("D", 0.9 - 5e-6, None, None)])
    assert tables.tied_with_best(group)["label"].tolist() == ["A", "B"]


def test_ties_are_ordered_by_mean_then_by_table_order():
    group = headline_rows([("P", 0.90, 0.80, 0.99), ("Q", 0.90, 0.80, 0.99), ("R", 0.95, 0.85, 0.99),
                           ("S", 0.97, 0.88, 0.99), ("T", 0.90, 0.80, 0.99)])
    assert tables.tied_with_best(group)["label"].tolist() == ["S", "R", "P", "Q", "T"]


def test_ties_read_blank_or_non_numeric_cells_as_missing():
    # Cells as a CSV read without NA conversion gives them: "" or "-" for a row not run or an
    # interval not made.
    group = headline_rows([("A", "0.95", "-", ""), ("B", "0.94", "0.93", "0.955"), ("C", "-", "", "-"),
                           ("D", "0.90", "0.89", "-")])
    assert tables.tied_with_best(group)["label"].tolist() == ["A", "B"]
    assert tables.tied_with_best(headline_rows([("C", "", "", "")])).empty


# --------------------------------------------------------------------------- features and monomials


def test_parse_features_reads_any_separator_and_nothing_from_an_empty_cell():
    assert tables.parse_features("[1, 4, 5]") == [1, 4, 5]
    assert tables.parse_features("1 4 5") == tables.parse_features("1;4;5") == [1, 4, 5]
    assert tables.parse_features(None) == [] and tables.parse_features(float("nan")) == []
    assert tables.parse_features("") == []


def test_monomial_names_write_indices_as_features():
    assert tables.monomial_name("1 2 4") == "x1·x2·x4"
    assert tables.monomial_name(" 0,3;12*7 ") == "x0·x3·x12·x7"
    assert tables.monomial_name(5) == "x5"
    assert tables.monomial_name("x1·x2") == "x1·x2"
    assert tables.monomial_name("bias") == "bias"
    assert tables.monomial_name("1 2 x") == "1 2 x"


# --------------------------------------------------------------------------- attacks


def attack_rows(rows: list[tuple], bound: bool = True) -> pd.DataFrame:
    columns = ["model", "n", "repeat", "scope", "attack", "bound", "eps", "clean_acc", "robust_acc",
               "label_preserving_acc", "points", "label_preserving_points"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame if bound else frame.drop(columns="bound")


def test_attack_accuracies_are_pooled_over_repeats_by_points():
    frame = attack_rows([
        # Listed out of order: the table comes out sorted by its keys.
        ("mlp", 12, 0, "test", "pgd", "upper", 0.1, 0.9, 0.5, 0.2, 100, 40),
        ("mlp", 9, 0, "test", "pgd", "upper", 0.1, 0.9, 0.6, 0.5, 100, 20),
        ("mlp", 9, 1, "test", "pgd", "upper", 0.1, 0.5, 0.2, 0.25, 300, 20),
        ("mlp", 9, 2, "test", "pgd", "upper", 0.1, 0.7, 0.4, 0.9, 100, 0),
        # Points read as floats ("100.0"), a label-preserving accuracy without its count, and one
        # that is not a number ("-").
        ("mlp", 9, 3, "test", "pgd", "upper", 0.1, 0.7, 0.4, 0.9, 100.0, None),
        ("mlp", 9, 4, "test", "pgd", "upper", 0.1, 0.7, 0.4, "-", 100, 0),
    ])
    table = tables.attack_summary(frame)
    assert list(table.columns) == ["model", "n", "scope", "attack", "bound", "eps", "clean_acc", "robust_acc",
                                   "label_preserving_acc", "points", "label_preserving_points", "repeats"]
    assert table["n"].tolist() == [9, 12]
    row = table.iloc[0]
    assert row["points"] == 700 and row["label_preserving_points"] == 40 and row["repeats"] == 5
    assert table["points"].dtype.kind == "i" and table["label_preserving_points"].dtype.kind == "i"
    assert row["clean_acc"] == pytest.approx((90 + 150 + 70 + 70 + 70) / 700)
    assert row["robust_acc"] == pytest.approx((60 + 60 + 40 + 40 + 40) / 700)
    # Repeats without label-preserving points add nothing, whatever accuracy they carry.
    assert row["label_preserving_acc"] == pytest.approx((10 + 5) / 40)
    assert table.iloc[1]["label_preserving_acc"] == pytest.approx(0.2)


def test_label_preserving_accuracy_needs_enough_points():
    below = tables.MIN_PRESERVING_POINTS - 1
    frame = attack_rows([("mlp", 9, 0, "test", "pgd", "upper", 0.1, 0.9, 0.5, 1.0, 100, 1),
                         ("mlp", 9, 1, "test", "pgd", "upper", 0.1, 0.9, 0.5, 0.0, 100, below - 1),
                         ("mlp", 12, 0, "test", "pgd", "upper", 0.1, 0.9, 0.5, 1.0, 100, 1),
                         ("mlp", 12, 1, "test", "pgd", "upper", 0.1, 0.9, 0.5, 0.0, 100, below)])
    table = tables.attack_summary(frame).set_index("n")
    assert pd.isna(table.loc[9, "label_preserving_acc"]) and table.loc[9, "label_preserving_points"] == below
    # One point of MIN_PRESERVING_POINTS kept its label.
    assert table.loc[12, "label_preserving_acc"] == pytest.approx(1 / tables.MIN_PRESERVING_POINTS)


def test_attack_summary_without_a_bound_column_or_rows():
    frame = attack_rows([("mlp", 9, 0, "test", "noise", "average", 0.1, 0.9, 0.8, 0.85, 100, 50)],
                        bound=False)
    table = tables.attack_summary(frame, by="model")
    assert "bound" not in table.columns and table.loc[0, "robust_acc"] == pytest.approx(0.8)
    empty = tables.attack_summary(attack_rows([]))
    assert empty.empty and list(empty.columns) == [*table.columns[:4], "bound", *table.columns[4:]]


# --------------------------------------------------------------------------- benchmarks


BENCHMARK_HEADER = ["s", "h:m:s", "max_rss", "max_vms", "io_in", "io_out", "mean_load", "cpu_time"]


def test_benchmark_table_reads_every_jobs_benchmark(tmp_path):
    logs = tmp_path / "logs"
    # An empty benchmark (a job that wrote none) sorts first and is skipped, not the end of the list.
    write(logs / "attacks" / "a.benchmark.tsv", pd.DataFrame(columns=BENCHMARK_HEADER), sep="\t")
    write(logs / "data" / "n9.benchmark.tsv",
          pd.DataFrame([[2.0, "0:00:02", 100.0, 200.0, 0, 0, 50, 1.5],
                        [4.0, "0:00:04", "-", 210.0, 0, 0, 50, "-"]], columns=BENCHMARK_HEADER), sep="\t")
    # Seconds only: one column, no separator to guess.
    write(logs / "models" / "mlp" / "n9" / "repeat0.benchmark.tsv", pd.DataFrame({"s": [10.5]}), sep="\t")
    (logs / "models" / "fit.log").write_text("not a benchmark\n")
    table = tables.benchmark_table(logs)
    assert list(table.columns) == ["job", "stage", "s", "max_rss_mb", "cpu_time_s"]
    assert table["job"].tolist() == ["data/n9", "models/mlp/n9/repeat0"]
    assert table["stage"].tolist() == ["data", "models"]
    # Repeated measurements: their mean; "-" (not measured) counts for nothing.
    assert table["s"].tolist() == [3.0, 10.5]
    assert table.loc[0, "max_rss_mb"] == 100.0 and table.loc[0, "cpu_time_s"] == 1.5
    assert pd.isna(table.loc[1, "max_rss_mb"]) and pd.isna(table.loc[1, "cpu_time_s"])


def test_a_benchmark_without_seconds_is_an_error_naming_it(tmp_path):
    write(tmp_path / "data" / "n9.benchmark.tsv", pd.DataFrame({"max_rss": [100.0]}), sep="\t")
    with pytest.raises(DataError, match=r"n9\.benchmark\.tsv: missing column\(s\) s"):
        tables.benchmark_table(tmp_path)


def test_benchmark_table_of_no_benchmark_is_empty_with_its_columns(tmp_path):
    table = tables.benchmark_table(tmp_path)
    assert table.empty and list(table.columns) == ["job", "stage", "s", "max_rss_mb", "cpu_time_s"]
