"""Issue 16: every number is right and says how sure it is.

The Bayes limit (exact for the generator, a named estimate for published data), the exact
worst case of LR with FSO, intervals and "meets target", inference from training rows only,
the GF(2) learner that never fails silently, and the network table per layer.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from kryptonite_n.compute import attacks
from kryptonite_n.compute.bayes import bayes_limit, wilson_interval
from kryptonite_n.compute.data import (
    DATASET_KEYS,
    SPLIT_CODES,
    GeneratorSettings,
    generate,
    generator_bayes_accuracy,
    make_split,
    write_dataset,
)
from kryptonite_n.compute.explore import feature_table
from kryptonite_n.compute.models import model_module
from kryptonite_n.compute.models.driver import fit_model, training_informative
from kryptonite_n.compute.prepare import prepare_dataset
from kryptonite_n.contract import GENERATOR, LABEL_FREE_PARITY, FitTask, Split
from kryptonite_n.io import write_npy
from kryptonite_n.plan.paths import dataset_files
from kryptonite_n.report import pages
from kryptonite_n.tables import results as tables
from kryptonite_n.tables.summary import summarise

FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}
RATIO = FRACTIONS["test"] / FRACTIONS["train"]


def splits_of(dataset, n: int, seed: int, repeats: int) -> list[Split]:
    out = []
    for repeat in range(repeats):
        roles = make_split(len(dataset.y), FRACTIONS, seed, n, repeat)
        out.append(Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
    return out


# --------------------------------------------------------------------------- item 2: Bayes limit


def test_generator_bayes_accuracy_matches_monte_carlo():
    # Wide noise makes crossings common, so 1 - p is far off and the exact value is testable.
    settings = GeneratorSettings(rows_per_feature=40000, hidden_rows=10,
                                 scales={"uniform": 0.025, "laplace": 0.25, "gaussian": 0.3}, flip_rate=0.05)
    dataset = generate(6, seed=1, settings=settings)
    truth = dataset.truth
    exact = truth["bayes"]["accuracy"]
    informative = truth["informative"]
    # The Bayes rule: the parity of the nearest bits of the informative values.
    bayes_rule = np.bitwise_xor.reduce((dataset.X[:, informative] > 0.5).astype(np.int64), axis=1)
    monte_carlo = float(np.mean(bayes_rule == dataset.y))
    rows = len(dataset.y)
    error = math.sqrt(exact * (1 - exact) / rows)
    assert abs(monte_carlo - exact) < 4 * error
    assert (1 - 0.05) - exact > 20 * error  # 1 - p would be wrong by far
    assert truth["bayes"]["source"] == GENERATOR
    # The default generator: crossings cost almost nothing, but the limit is still below 1 - p.
    default = generate(9, seed=2, settings=GeneratorSettings(rows_per_feature=10, hidden_rows=10)).truth
    assert 0 < (1 - default["flip_rate"]) - default["bayes"]["accuracy"] < 1e-4


def test_crossing_probabilities_are_exact_for_each_family():
    families = ["laplace", "gaussian", "uniform"]
    q_laplace = 0.5 * math.exp(-0.5 / 0.2)
    q_gauss = 0.5 * math.erfc(0.5 / (0.3 * math.sqrt(2)))
    q_uniform = (0.8 - 0.5) / (2 * 0.8)
    scales = {"laplace": 0.2, "gaussian": 0.3, "uniform": 0.8}
    expected = 1 - (1 - (1 - 2 * q_laplace) * (1 - 2 * q_gauss) * (1 - 2 * q_uniform) * (1 - 2 * 0.1)) / 2
    assert generator_bayes_accuracy(families, [0, 1, 2], scales, 0.1) == pytest.approx(expected, rel=1e-12)


def test_published_data_get_a_named_estimate_never_the_oracles_score(tmp_path):
    dataset = generate(9, seed=4, settings=GeneratorSettings(rows_per_feature=1000, hidden_rows=100))
    exact = dataset.truth["bayes"]["accuracy"]
    published = tmp_path / "published"
    files = dataset_files(published, 9)
    for key in ("X", "y", "hidden_X"):
        write_npy(files[key], getattr(dataset, key))  # no truth.json: as published
    out = tmp_path / "n9"
    prepare_dataset(9, dataset_files(out, 9, DATASET_KEYS), seed=1, data_dir=str(published), generator=None)
    truth = json.loads((out / "truth.json").read_text())
    limit = bayes_limit(truth)
    assert limit["source"] == LABEL_FREE_PARITY
    assert limit["ci_low"] < limit["accuracy"] < limit["ci_high"]
    assert limit["ci_low"] <= exact <= limit["ci_high"]
    expected = wilson_interval(round(limit["accuracy"] * 9000), 9000)
    assert (limit["ci_low"], limit["ci_high"]) == pytest.approx(expected)
    # The summary takes that estimate, not the XOR oracle's whole-set score.
    metrics = pd.DataFrame([{"model": "xor_oracle", "n": 9, "repeat": r, "validation_acc": 0.9,
                             "test_acc": 0.9 + r / 100, "whole_set_acc": 0.91} for r in range(3)])
    table = summarise(metrics, {9: truth}, test_over_train=RATIO)
    assert table.loc[0, "bayes_acc"] == pytest.approx(limit["accuracy"])
    assert table.loc[0, "bayes_acc"] != pytest.approx(0.91)
    assert table.loc[0, "bayes_source"] == LABEL_FREE_PARITY


# --------------------------------------------------------------------------- item 3: exact worst case


@pytest.fixture(scope="module")
def fso6():
    """LR with FSO on n = 6 (four informative features), fitted on training rows."""
    dataset = generate(6, seed=3, settings=GeneratorSettings(rows_per_feature=600, hidden_rows=10))
    splits = splits_of(dataset, 6, 3, 1)
    task = FitTask(n=6, X=dataset.X, y=dataset.y, splits=splits, repeats=[0], settings={}, seed=3,
                   informative_by_repeat=[training_informative(dataset.X, splits[0])])
    return model_module("fso_logreg").fit(task)[0], dataset, splits[0]


def brute_force_changeable(model, X: np.ndarray, mask: np.ndarray, eps: float) -> np.ndarray:
    """Try every corner and midpoint of the eps box on the model's in-scope features.

    The decision is multilinear in the features, so its extremes over the box lie at corners.
    """
    movable = [j for j in model.features if mask[j]]
    clean = model.predict(X)
    changed = np.zeros(len(X), dtype=bool)
    for steps in itertools.product([-eps, 0.0, eps], repeat=len(movable)):
        moved = np.asarray(X, dtype=np.float64).copy()
        moved[:, movable] += np.asarray(steps)
        changed |= model.predict(moved) != clean
    return changed


@pytest.mark.parametrize("eps", [0.01, 0.05, 0.2, 0.5])
@pytest.mark.parametrize("scope", ["all", "informative", "irrelevant"])
def test_fso_exact_worst_case_matches_brute_force(fso6, scope, eps):
    model, dataset, split = fso6
    X = dataset.X[split.test[:300]]
    mask = attacks.scope_mask(scope, 6, dataset.truth["informative"])
    exact = model.prediction_changeable(X, mask, eps)
    assert np.array_equal(exact, brute_force_changeable(model, X, mask, eps))
    if scope == "irrelevant":
        assert not exact.any()


def test_fso_exact_is_below_every_attack_and_far_below_fgsm(fso6):
    model, dataset, split = fso6
    rows = split.test[:200]
    settings = attacks.AttackSettings(eps=(0, 0.2, 0.5), points=200, pgd_restarts=1, noise_draws=2)
    table = attacks.evaluate(model, dataset.X[rows], dataset.y[rows], dataset.truth["informative"], settings,
                             seed=1)
    assert set(table["attack"]) == {"fgsm", "bim", "pgd", "uniform", "gaussian", "exact"}
    assert dict(zip(table["attack"], table["bound"], strict=False)) == {
        "fgsm": "upper", "bim": "upper", "pgd": "upper", "uniform": "average", "gaussian": "average",
        "exact": "exact"}
    for (scope, eps), group in table.groupby(["scope", "eps"]):
        exact = group.loc[group["attack"] == "exact", "robust_acc"].item()
        assert (exact <= group["robust_acc"] + 1e-12).all(), (scope, eps)
    at = table[(table["scope"] == "all") & (table["eps"] == 0.5)].set_index("attack")["robust_acc"]
    # FGSM moves every informative value at once and the sign crossings cancel in pairs.
    assert at["exact"] < 0.1 and at["fgsm"] > at["exact"] + 0.3


def test_worst_case_table_takes_the_minimum_of_the_bounds():
    rows = []
    for attack, bound, robust, preserving in [("fgsm", "upper", 0.9, 0.95), ("pgd", "upper", 0.6, 0.7),
                                              ("exact", "exact", 0.4, 0.5), ("uniform", "average", 0.1, 0.1)]:
        rows.append({"model": "fso_logreg", "n": 9, "scope": "all", "attack": attack, "bound": bound,
                     "eps": 0.5, "clean_acc": 0.96, "robust_acc": robust, "label_preserving_acc": preserving,
                     "label_preserving_points": 80, "repeats": 2})
    worst = pages.worst_case_table(pd.DataFrame(rows))
    assert worst == [{"model": "fso_logreg", "label": "LR with FSO", "n": 9, "clean": 0.96, "all": 0.4,
                      "all_attack": "exact", "all_bound": "exact", "all_preserving": 0.5,
                      "all_preserving_points": 80}]
    without_exact = pages.worst_case_table(pd.DataFrame(rows[:2] + rows[3:]))
    assert without_exact[0]["all"] == 0.6 and without_exact[0]["all_bound"] == "upper"


def adversarial_rows(attack_scores: dict[str, list[tuple[float, float, int]]],
                     points: int = 100) -> pd.DataFrame:
    """adversarial.csv rows of LR with FSO at n = 9, scope all, eps 0.5: per attack, per repeat,
    (robust accuracy, label-preserving accuracy, label-preserving points)."""
    bounds = attacks.BOUNDS
    return pd.DataFrame([
        {"model": "fso_logreg", "n": 9, "repeat": repeat, "scope": "all", "attack": attack,
         "bound": bounds[attack], "eps": 0.5, "clean_acc": 0.96, "robust_acc": robust,
         "label_preserving_acc": preserving, "points": points, "label_preserving_points": kept}
        for attack, scores in attack_scores.items()
        for repeat, (robust, preserving, kept) in enumerate(scores)])


def test_an_exact_row_wins_a_tie_in_the_worst_case_table():
    # BIM finds every point (0.0), and the exact worst case is 0.0 too: the worst case is known,
    # not merely bounded, whichever row comes first.
    scores = {"bim": [(0.0, 0.0, 50)] * 2, "exact": [(0.0, 0.0, 50)] * 2, "fgsm": [(0.3, 0.4, 50)] * 2,
              "pgd": [(0.0, 0.0, 50)] * 2, "uniform": [(0.9, 0.9, 50)] * 2}
    summary = tables.attack_summary(adversarial_rows(scores))
    assert list(summary["attack"]) == ["bim", "exact", "fgsm", "pgd", "uniform"]  # BIM first
    for order in (summary, summary.iloc[::-1]):
        (row,) = pages.worst_case_table(order)
        assert (row["all"], row["all_attack"], row["all_bound"]) == (0.0, "exact", "exact")
    # A searched attack strictly below the exact mean is impossible; without an exact row the
    # first upper bound at the minimum is named, as an upper bound.
    (row,) = pages.worst_case_table(summary[summary["attack"] != "exact"])
    assert row["all_bound"] == "upper" and row["all_attack"] in ("bim", "pgd")


def test_label_preserving_accuracy_is_pooled_by_points_and_hidden_below_30():
    # Two repeats: 0 of 3 kept points, then 10 of 30: pooled 10/33, not the mean of ratios (1/6).
    scores = {"pgd": [(0.0, 0.0, 3), (0.0, 1 / 3, 30)], "exact": [(0.0, 0.0, 1), (0.0, 1.0, 3)]}
    summary = tables.attack_summary(adversarial_rows(scores)).set_index("attack")
    assert summary.loc["pgd", "label_preserving_points"] == 33
    assert summary.loc["pgd", "label_preserving_acc"] == pytest.approx(10 / 33)
    assert summary.loc["pgd", "points"] == 200
    # 4 points in all: no number (it would read 0.7500), but the count stays.
    assert summary.loc["exact", "label_preserving_points"] == 4
    assert math.isnan(summary.loc["exact", "label_preserving_acc"])
    (row,) = pages.worst_case_table(summary.reset_index())
    assert row["all_attack"] == "exact" and row["all_preserving"] is None
    assert row["all_preserving_points"] == 4


# --------------------------------------------------------------------------- item 8: training rows only


def test_informative_set_is_inferred_from_training_rows_only(tmp_path):
    n, seed = 9, 6
    dataset = generate(n, seed, GeneratorSettings(rows_per_feature=300, hidden_rows=100))
    split = splits_of(dataset, n, seed, 1)[0]
    irrelevant = next(j for j in range(n) if j not in dataset.truth["informative"])
    # Give one irrelevant feature Laplace noise on the test rows only: with them, its noise
    # looks Laplace (informative); on the training rows it is uniform.
    rng = np.random.default_rng(0)
    rows = split.test
    dataset.X[rows, irrelevant] = (dataset.X[rows, irrelevant] > 0.5) + rng.laplace(0, 0.05, len(rows))
    assert bool(feature_table(dataset.X).loc[irrelevant, "informative"]) is True
    folder = tmp_path / "data"
    files = dataset_files(folder, n, DATASET_KEYS)
    write_dataset(dataset, files)
    split_file = tmp_path / "split.npy"
    write_npy(split_file, make_split(len(dataset.y), FRACTIONS, seed, n, 0))
    out = tmp_path / "fit"
    outputs = {"metrics": [str(out / "metrics.json")], "model": [str(out / "model.npz")],
               "test_predictions": [str(out / "test.npy")], "hidden_predictions": [str(out / "hidden.npy")],
               "table": str(out / "metrics.csv")}
    fit_model("xor_oracle", n, data_files=files, split_files=[str(split_file)],
              outputs=outputs, settings={}, seed=seed, repeats=[0])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["details"]["features"] == dataset.truth["informative"]
    # Chance on this repeat's test rows: the training rows' majority label, answered always.
    majority = int(dataset.y[split.train].mean() > 0.5)
    assert metrics["majority_acc"] == pytest.approx(np.mean(dataset.y[split.test] == majority))
    assert metrics["majority_acc"] != 0.5


# --------------------------------------------------------------------------- item 9: GF(2) learner


def gf2_task(n: int, flip_rate: float, seed: int, *, shuffle_labels: bool = False):
    dataset = generate(n, seed, GeneratorSettings(rows_per_feature=300, hidden_rows=10, flip_rate=flip_rate))
    y = np.random.default_rng(seed).permutation(dataset.y) if shuffle_labels else dataset.y
    splits = splits_of(dataset, n, seed, 1)
    task = FitTask(n=n, X=dataset.X, y=y, splits=splits, repeats=[0],
                   settings={"max_subsets": 2000, "miss_probability": 1e-6, "extra_rows": 4}, seed=seed,
                   informative_by_repeat=[[]])
    return task, dataset


def test_gf2_subset_count_follows_the_observed_disagreement():
    clean_task, clean = gf2_task(12, 0.01, 8)
    noisy_task, noisy = gf2_task(12, 0.25, 8)
    clean_rule = model_module("parity_gf2").fit(clean_task)[0]
    noisy_rule = model_module("parity_gf2").fit(noisy_task)[0]
    assert clean_rule.features == clean.truth["informative"]
    assert noisy_rule.features == noisy.truth["informative"]
    clean_details, noisy_details = clean_rule.details(), noisy_rule.details()
    assert clean_details["better_than_chance"] and noisy_details["better_than_chance"]
    # At p = 0.25 a 17-row subset is clean with probability 0.0075: hundreds are not enough.
    assert noisy_details["subsets"] > 1000 > 200 > clean_details["subsets"]
    assert noisy_details["train_agreement"] == pytest.approx(0.75, abs=0.03)
    assert "warning" not in noisy_details


def test_gf2_says_when_it_finds_nothing(tmp_path):
    task, _ = gf2_task(9, 0.04, 9, shuffle_labels=True)
    details = model_module("parity_gf2").fit(task)[0].details()
    assert details["better_than_chance"] is False
    assert details["subsets"] == 2000
    assert "no solution agrees clearly better than chance" in details["warning"]
    assert details["train_agreement"] < 0.56
    # The warning reaches the summary's note.
    metrics = pd.DataFrame([
        {"model": "parity_gf2", "n": 9, "repeat": 0, "validation_acc": 0.5, "test_acc": 0.5,
         "whole_set_acc": 0.5, "note": details["warning"]},
        {"model": "parity_gf2", "n": 9, "repeat": 1, "validation_acc": 0.95, "test_acc": 0.95,
         "whole_set_acc": 0.95, "note": math.nan}])
    assert summarise(metrics, {}, test_over_train=RATIO).loc[0, "note"] == details["warning"]


# --------------------------------------------------------------------------- item 1: network table


def test_network_table_has_one_row_per_layer():
    rows = []
    for repeat in (0, 1):
        rows.append({"n": 9, "activation": "tanh", "repeat": repeat, "layer": "hidden",
                     "sigma_max": 4.0 + repeat,
                     "condition": 10.0, "zero_grad_share": 0.0, "test_acc": 0.9})
        rows.append({"n": 9, "activation": "tanh", "repeat": repeat, "layer": "output", "sigma_max": 1.0,
                     "condition": 1.0, "zero_grad_share": 0.5, "test_acc": 0.9})
    table = pages.network_table(pd.DataFrame(rows))
    assert [(r["layer"], r["sigma_max"], r["condition"], r["zero_grad_share"]) for r in table] == [
        ("hidden", 4.5, 10.0, 0.0), ("output", 1.0, 1.0, 0.5)]
    assert all(r["repeats"] == 2 for r in table)
