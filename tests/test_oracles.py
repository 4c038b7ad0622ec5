"""The rule-like models: XOR oracle, logistic regression on the FSO product, GF(2) parity learner."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from kryptonite_n.compute.bayes import estimate_bayes
from kryptonite_n.compute.data import SPLIT_CODES, GeneratorSettings, generate, make_split, target_accuracy
from kryptonite_n.compute.explore import feature_thresholds
from kryptonite_n.compute.gf2 import learn_parity, parity_predictions, solve_gf2, solve_gf2_batch
from kryptonite_n.compute.models import accuracy, load_predictor, model_module
from kryptonite_n.compute.models.driver import NOT_APPLICABLE, _score, training_shapes
from kryptonite_n.compute.models.xor_oracle import ParityRule
from kryptonite_n.contract import CROSS_FITTED_PARITY, LABEL_FREE_PARITY, FitTask, Split
from kryptonite_n.io import write_npz

RULE_MODELS = ("xor_oracle", "fso_logreg", "parity_gf2")
FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}


def make_task(n: int, *, rows_per_feature: int, repeats: int = 2, seed: int = 5,
              flip_rate: float | None = None, layout: str = "families",
              parity_share: float = 2 / 3) -> tuple[FitTask, object]:
    """A FitTask as the driver builds it: splits by make_split, informative set by noise family
    on each repeat's training rows (and why the shapes separate nothing, where they do not)."""
    dataset = generate(n, seed, GeneratorSettings(rows_per_feature=rows_per_feature, hidden_rows=2000,
                                                  flip_rate=flip_rate, layout=layout,
                                                  parity_share=parity_share))
    splits = []
    for repeat in range(repeats):
        roles = make_split(len(dataset.y), FRACTIONS, seed, n, repeat)
        splits.append(Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
    shapes = [training_shapes(dataset.X, split) for split in splits]
    task = FitTask(n=n, X=dataset.X, y=dataset.y, splits=splits, repeats=list(range(repeats)),
                   settings={"max_subsets": 2000, "miss_probability": 1e-6, "extra_rows": 4}, seed=seed,
                   informative_by_repeat=[informative for informative, _ in shapes],
                   shape_failure_by_repeat=[failure for _, failure in shapes])
    return task, dataset


@pytest.fixture(scope="module")
def task9():
    return make_task(9, rows_per_feature=500)


def within_sampling_error(acc: float, bayes: float, rows: int) -> bool:
    """Accuracy within four standard errors of the Bayes rate on ``rows`` points."""
    return abs(acc - bayes) <= 4 * math.sqrt(bayes * (1 - bayes) / rows)


# --------------------------------------------------------------------------- GF(2) solver


def test_solver_recovers_a_noiseless_system():
    rng = np.random.default_rng(0)
    for unknowns in (1, 7, 31, 46):
        # Full column rank over GF(2) by construction: shuffled [identity; random rows] times an
        # invertible (unit upper-triangular) mixing matrix, so the solution is unique.
        B = np.vstack([np.eye(unknowns, dtype=np.int64), rng.integers(0, 2, (5, unknowns))])
        U = np.triu(rng.integers(0, 2, (unknowns, unknowns)), 1) + np.eye(unknowns, dtype=np.int64)
        A = ((B[rng.permutation(len(B))] @ U) % 2).astype(np.uint8)
        w = rng.integers(0, 2, unknowns, dtype=np.uint8)
        b = (A.astype(np.int64) @ w) % 2
        assert np.array_equal(solve_gf2(A, b), w)


def test_solver_agrees_with_brute_force_on_small_systems():
    rng = np.random.default_rng(1)
    unknowns = 5
    candidates = np.array(list(itertools.product([0, 1], repeat=unknowns)), dtype=np.int64)
    for _ in range(200):
        rows = int(rng.integers(1, 9))
        A = rng.integers(0, 2, (rows, unknowns), dtype=np.uint8)
        b = rng.integers(0, 2, rows, dtype=np.uint8)
        solvable = ((candidates @ A.T.astype(np.int64)) % 2 == b).all(axis=1)
        solved = solve_gf2(A, b)
        assert (solved is not None) == bool(solvable.any())
        if solved is not None:
            assert np.array_equal((A.astype(np.int64) @ solved) % 2, b)


def test_batch_solver_handles_systems_of_every_rank_at_once():
    # Sparse random systems: within one batch, ranks and consistency differ from system to system.
    rng = np.random.default_rng(2)
    unknowns, rows = 6, 7
    candidates = np.array(list(itertools.product([0, 1], repeat=unknowns)), dtype=np.int64)
    A = (rng.random((300, rows, unknowns)) < rng.uniform(0.05, 0.6, (300, 1, 1))).astype(np.uint8)
    b = rng.integers(0, 2, (300, rows), dtype=np.uint8)
    solutions, consistent = solve_gf2_batch(A, b)
    for s in range(300):
        solvable = ((candidates @ A[s].T.astype(np.int64)) % 2 == b[s]).all(axis=1).any()
        assert consistent[s] == solvable
        if solvable:
            assert np.array_equal((A[s].astype(np.int64) @ solutions[s]) % 2, b[s])
            assert np.array_equal(solve_gf2(A[s], b[s]), solutions[s])
    assert 0 < consistent.sum() < 300


@pytest.mark.parametrize("unknowns", [1, 8, 9, 46, 64, 65, 130])
def test_packed_parity_equals_matrix_product(unknowns):
    rng = np.random.default_rng(unknowns)
    bits, w = rng.integers(0, 2, (500, unknowns)), rng.integers(0, 2, unknowns)
    assert np.array_equal(parity_predictions(bits, w), (bits @ w) % 2)


def test_solver_unique_solution_is_exact():
    # A full-rank square system over GF(2) has exactly one solution; check it against brute force.
    A = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]], dtype=np.uint8)
    for w in itertools.product([0, 1], repeat=3):
        b = (A.astype(np.int64) @ np.array(w)) % 2
        assert solve_gf2(A, b).tolist() == list(w)


def test_solver_reports_inconsistency():
    A = np.array([[1, 0, 1], [1, 0, 1]], dtype=np.uint8)
    assert solve_gf2(A, np.array([0, 1], dtype=np.uint8)) is None


def test_learn_parity_finds_the_constant_term():
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, (3000, 20), dtype=np.uint8)
    support = [2, 5, 11, 17]
    y = bits[:, support].sum(axis=1) % 2 ^ 1
    y = np.where(rng.random(len(y)) < 0.03, 1 - y, y)
    w, summary = learn_parity(bits, y, subsets=100, extra_rows=4, rng=np.random.default_rng(0))
    assert np.flatnonzero(w[:20]).tolist() == support
    assert w[20] == 1
    assert summary["train_agreement"] > 0.95


# --------------------------------------------------------------------------- models on data


@pytest.mark.parametrize("model", RULE_MODELS)
def test_model_is_near_bayes_on_every_split(task9, model):
    task, dataset = task9
    bayes = 1 - dataset.truth["flip_rate"]
    predictors = model_module(model).fit(task)
    assert len(predictors) == len(task.repeats)
    for i, predictor in enumerate(predictors):
        X_test, y_test = task.part(i, "test")
        assert within_sampling_error(accuracy(predictor.predict(X_test), y_test), bayes, len(y_test))
    assert within_sampling_error(accuracy(predictors[0].predict(dataset.hidden_X), dataset.hidden_y), bayes,
                                 len(dataset.hidden_y))
    json.dumps(predictors[0].details())  # metrics.json must be able to hold the details


@pytest.mark.parametrize("n", [9, 12, 24, 45])
def test_threshold_rules_recover_the_informative_set(n):
    task, dataset = make_task(n, rows_per_feature=300, repeats=1, seed=n)
    truth = dataset.truth["informative"]
    for model in ("xor_oracle", "parity_gf2"):
        rule = model_module(model).fit(task)[0]
        assert rule.features == truth, model
        assert rule.predict(dataset.X[:50]).dtype == np.int64
    gf2 = model_module("parity_gf2").fit(task)[0]
    assert gf2.flip == 0
    assert gf2.details()["support"] == truth
    # Thresholds found on the training rows, between the two levels (about 0.5 for bits 0, 1).
    X_train, _ = task.part(0, "train")
    assert np.array_equal(gf2.thresholds, feature_thresholds(X_train)[truth])
    assert np.all(np.abs(gf2.thresholds - 0.5) < 0.01)


@pytest.mark.parametrize("n", [24, 45])
def test_fso_logreg_meets_the_target_at_large_n(n):
    task, dataset = make_task(n, rows_per_feature=300, repeats=1, seed=n)
    model = model_module("fso_logreg").fit(task)[0]
    X_test, y_test = task.part(0, "test")
    acc = accuracy(model.predict(X_test), y_test)
    assert acc >= target_accuracy(n)
    assert within_sampling_error(acc, 1 - dataset.truth["flip_rate"], len(y_test))


def test_xor_oracle_thresholds_are_training_means(task9):
    task, _ = task9
    rule = model_module("xor_oracle").fit(task)[1]
    X_train, _ = task.part(1, "train")
    assert rule.features == sorted(task.informative(1))
    assert np.allclose(rule.thresholds, X_train[:, rule.features].astype(np.float64).mean(axis=0))


def test_parity_gf2_uses_no_noise_hint(task9):
    task, dataset = task9
    task.informative_by_repeat, kept = [[] for _ in task.repeats], task.informative_by_repeat
    try:
        rule = model_module("parity_gf2").fit(task)[0]
    finally:
        task.informative_by_repeat = kept
    assert rule.features == dataset.truth["informative"]


@pytest.mark.parametrize("model", RULE_MODELS)
def test_fit_is_deterministic(task9, model):
    task, _ = task9
    first, second = model_module(model).fit(task), model_module(model).fit(task)
    for a, b in zip(first, second, strict=True):
        arrays_a, arrays_b = a.arrays(), b.arrays()
        assert arrays_a.keys() == arrays_b.keys()
        for key in arrays_a:
            assert np.array_equal(arrays_a[key], arrays_b[key]), key


@pytest.mark.parametrize("model", RULE_MODELS)
def test_save_load_round_trip(task9, model, tmp_path):
    task, dataset = task9
    predictor = model_module(model).fit(task)[0]
    write_npz(tmp_path / "model.npz", predictor.arrays())
    loaded = load_predictor(model, tmp_path / "model.npz")
    assert np.array_equal(loaded.predict(dataset.X), predictor.predict(dataset.X))
    assert loaded.details() == {k: v for k, v in predictor.details().items() if k in loaded.details()}


def test_fso_logit_matches_predict_and_has_gradients(task9):
    task, dataset = task9
    model = model_module("fso_logreg").fit(task)[0]
    for dtype in (torch.float32, torch.float64):
        X = torch.tensor(dataset.X[:400], dtype=dtype, requires_grad=True)
        logit = model.logit(X)
        assert logit.shape == (400,) and logit.dtype == dtype
        decided = (logit.detach().numpy() > 0).astype(np.int64)
        confident = np.abs(model.decision(dataset.X[:400])) > 1e-3
        assert np.array_equal(decided[confident], model.predict(dataset.X[:400])[confident])
        logit.sum().backward()
        informative = sorted(task.informative(0))
        assert torch.all(X.grad[:, informative].abs().sum(dim=0) > 0)
        irrelevant = [j for j in range(task.n) if j not in informative]
        assert torch.all(X.grad[:, irrelevant] == 0)
    # The product's sign is the parity: the weight that reads it must be large and negative.
    assert model.coefficient < 0


def test_rule_margin_is_the_exact_robustness():
    rng = np.random.default_rng(4)
    rule = ParityRule([0, 2, 3], np.array([0.5, 0.4, 0.6]))
    X = rng.uniform(0, 1, (200, 5))
    margin = rule.margin(X)
    nearest = np.argmin(np.abs(X[:, rule.features] - rule.thresholds), axis=1)
    columns = np.array(rule.features)[nearest]
    direction = np.sign(rule.thresholds[nearest] - X[np.arange(200), columns])
    pushed, short = X.copy(), X.copy()
    pushed[np.arange(200), columns] += direction * (margin + 1e-9)
    short[np.arange(200), columns] += direction * margin * 0.999
    assert np.all(rule.predict(pushed) != rule.predict(X))
    assert np.all(rule.predict(short) == rule.predict(X))


# --------------------------------------------------------------------------- the later edition


@pytest.fixture(scope="module")
def shared10():
    """The later edition's layout: n = 10, one noise for every feature, half of them in the parity."""
    return make_task(10, rows_per_feature=300, repeats=2, seed=4, layout="shared", parity_share=0.5)


@pytest.mark.parametrize("model", ["xor_oracle", "fso_logreg"])
def test_shape_selected_models_say_they_are_not_applicable(shared10, model):
    task, dataset = shared10
    assert all(task.shape_failure(i) for i in range(len(task.repeats)))
    predictors = model_module(model).fit(task)
    for i, predictor in enumerate(predictors):
        reason = predictor.details()["not_applicable"]
        assert "separate no family" in reason and reason.endswith("on the training rows")
        record = _score(task, dataset, i, task.repeats[i], predictor,
                        predictor.predict(task.part(i, "test")[0]), predictor.predict(dataset.hidden_X))
        # No accuracy is presented as the model's; the note says why.
        for key in ("train_acc", "validation_acc", "test_acc", "whole_set_acc", "hidden_acc"):
            assert record[key] is None, key
        assert record["note"].startswith(f"{NOT_APPLICABLE}: the noise shapes separate no family")
        json.dumps(record)
    # The same words on every repeat: the summary's note (distinct notes joined) says it once.
    assert len({p.details()["not_applicable"] for p in predictors}) == 1
    # On the first edition's layout the same models apply: no such mark.
    task9_, _ = make_task(9, rows_per_feature=200, repeats=1, seed=2)
    assert "not_applicable" not in model_module(model).fit(task9_)[0].details()


@pytest.mark.parametrize("model", ["xor_oracle", "fso_logreg"])
def test_a_saved_not_applicable_model_says_so_and_is_not_attacked(shared10, model, tmp_path):
    """The mark survives model.npz (a text array, no pickle), and the attack stage skips it:
    an attack on a rule of no feature would report robustness the model does not have."""
    from kryptonite_n.compute import attacks, robustness
    from kryptonite_n.compute.data import write_dataset
    from kryptonite_n.plan import paths

    task, dataset = shared10
    predictors = model_module(model).fit(task)
    files = paths.dataset_files(tmp_path, 10, ("X", "y", "hidden_X", "hidden_y", "truth"))
    write_dataset(dataset, files)
    model_files, split_files = [], []
    for i, predictor in enumerate(predictors):
        model_files.append(tmp_path / f"model{i}.npz")
        write_npz(model_files[-1], predictor.arrays())
        loaded = load_predictor(model, model_files[-1])
        assert loaded.details()["not_applicable"] == predictor.details()["not_applicable"]
        roles = np.empty(len(dataset.y), dtype=np.int8)
        for role, code in SPLIT_CODES.items():
            roles[getattr(task.splits[i], role)] = code
        split_files.append(tmp_path / f"split{i}.npy")
        np.save(split_files[-1], roles)
    out = tmp_path / "attacks.csv"
    robustness.attack_model(model, 10, model_files=model_files, split_files=split_files, data_files=files,
                         features_csv=tmp_path / "unused.csv", outputs={"table": out},
                         settings={"eps": [0.0, 0.2], "points": 50}, seed=3, repeats=task.repeats)
    table = pd.read_csv(out)
    assert table.empty and list(table.columns) == attacks.COLUMNS


def test_parity_gf2_finds_the_parity_without_noise_families(shared10):
    task, dataset = shared10
    truth = dataset.truth["informative"]
    bayes = dataset.truth["bayes"]["accuracy"]
    for i, rule in enumerate(model_module("parity_gf2").fit(task)):
        assert rule.features == truth and "warning" not in rule.details()
        X_test, y_test = task.part(i, "test")
        assert within_sampling_error(accuracy(rule.predict(X_test), y_test), bayes, len(y_test))


def test_reference_is_cross_fitted_where_no_rule_is_label_free(shared10, task9):
    _, shared = shared10
    estimate = estimate_bayes(shared.X, shared.y)
    assert estimate["source"] == CROSS_FITTED_PARITY
    assert "separate no family" in estimate["label_free_failed"]
    # Both halves' rules found the true parity, and the pooled accuracy is the generator's Bayes
    # within sampling error: a reference, not the chance level the label-free rule would give.
    assert estimate["half_supports"] == [shared.truth["informative"]] * 2
    assert within_sampling_error(estimate["accuracy"], shared.truth["bayes"]["accuracy"], len(shared.y))
    assert estimate["ci_low"] < estimate["accuracy"] < estimate["ci_high"]
    # The first edition keeps its label-free reference.
    _, first = task9
    assert estimate_bayes(first.X, first.y)["source"] == LABEL_FREE_PARITY
