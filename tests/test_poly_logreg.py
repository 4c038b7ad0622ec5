"""poly_logreg: the streamed monomial expansion is exact, and the model finds the parity term."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.preprocessing import PolynomialFeatures

from kryptonite_n.compute import polynomial
from kryptonite_n.compute.data import SPLIT_CODES, make_split
from kryptonite_n.compute.models import load_predictor, poly_logreg
from kryptonite_n.compute.monomial_basis import MonomialBasis
from kryptonite_n.compute.monomials import check_monomials, enumerate_monomials, monomial_features
from kryptonite_n.contract import FitTask, Split
from kryptonite_n.io import DataError, write_npz
from kryptonite_n.plan.limits import (
    monomial_count,
    poly_basis_size,
    poly_beyond_limits,
)

# The paper's n = 9 row with our SGD, batch scaled to the small training set.
SETTINGS = {"min_degree": 5, "max_degree": 7, "penalty": "l2", "alpha": 0.01, "epochs": 10,
            "batch_size": 512, "learning_rate": 0.4, "max_monomials": 100000}


@pytest.fixture(autouse=True)
def one_thread():
    # Small products gain nothing from a second thread and suffer badly on a busy machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_task(dataset, settings: dict, repeats: int = 1, seed: int = 5) -> FitTask:
    splits = []
    for repeat in range(repeats):
        roles = make_split(len(dataset.y), {"train": 0.6, "validation": 0.2, "test": 0.2}, seed,
                           dataset.n, repeat)
        splits.append(Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
    return FitTask(n=dataset.n, X=dataset.X, y=dataset.y, splits=splits, repeats=list(range(repeats)),
                   settings=settings, seed=seed)


@pytest.fixture(scope="module")
def l1_fit(small_dataset):
    torch.set_num_threads(1)
    # Larger batches keep the SGD noise per coefficient below alpha, so zeros stay zero.
    task = make_task(small_dataset, {**SETTINGS, "penalty": "l1", "alpha": 0.015, "batch_size": 1024,
                                     "epochs": 20})
    return task, poly_logreg.fit(task)[0]


@pytest.mark.parametrize(("n", "low", "high"), [(8, 3, 5), (9, 5, 7), (7, 1, 7), (6, 2, 2)])
def test_streamed_monomials_equal_sklearn_interaction_features(n, low, high):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(40, n))
    expansion = PolynomialFeatures(degree=(low, high), interaction_only=True, include_bias=False).fit(X)
    incidence = enumerate_monomials(n, low, high)
    # Same columns in the same order as scikit-learn, and the same values.
    np.testing.assert_array_equal(expansion.powers_.astype(bool), incidence)
    assert len(incidence) == monomial_count(n, low, high)
    features = monomial_features(X, incidence)
    np.testing.assert_allclose(features, expansion.transform(X), rtol=1e-12, atol=1e-12)
    # The factorised decision and gradient equal those of the expanded matrix, for every
    # monomial and for a sparse subset (as a saved L1 model keeps).
    for keep in (np.ones(len(incidence), bool), rng.random(len(incidence)) < 0.3):
        basis = MonomialBasis(incidence[keep])
        weights = rng.normal(size=int(keep.sum()))
        residual = rng.normal(size=len(X))
        left, right = basis.halves(torch.from_numpy(X))
        decision = basis.decision(left, right, basis.to_matrix(weights, dtype=torch.float64))
        np.testing.assert_allclose(decision.numpy(), features[:, keep] @ weights, rtol=1e-10, atol=1e-10)
        gradient = basis.coefficients(basis.gradient(left, right, torch.from_numpy(residual)))
        np.testing.assert_allclose(gradient, features[:, keep].T @ residual, rtol=1e-10, atol=1e-10)


def test_too_many_monomials_is_a_clear_error(small_dataset):
    assert check_monomials(18, 12, 18, 31180) == 31180
    with pytest.raises(DataError, match=r"n=24 .* 12\.\.18 gives \d+ monomials, more than max_monomials="):
        check_monomials(24, 12, 18, 100000)
    with pytest.raises(DataError, match="max_monomials=100"):
        poly_logreg.fit(make_task(small_dataset, {**SETTINGS, "max_monomials": 100}))
    with pytest.raises(DataError, match="min_degree=10 exceeds n=9"):
        check_monomials(9, 10, 12, 100000)


def test_fit_is_deterministic(small_dataset):
    task = make_task(small_dataset, {**SETTINGS, "epochs": 3})
    first, second = poly_logreg.fit(task)[0].arrays(), poly_logreg.fit(task)[0].arrays()
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_l2_accuracy_is_near_bayes(small_dataset):
    task = make_task(small_dataset, SETTINGS, repeats=2)
    informative = small_dataset.truth["informative"]
    for i, predictor in enumerate(poly_logreg.fit(task)):
        X, y = task.part(i, "test")
        oracle = np.bitwise_xor.reduce((X[:, informative] > 0.5).astype(int), axis=1)
        accuracy = np.mean(predictor.predict(X) == y)
        # The XOR of the true bits is Bayes-optimal; 900 test rows give it about ±0.007.
        assert accuracy >= np.mean(oracle == y) - 0.015
        assert accuracy > 1 - small_dataset.truth["flip_rate"] - 0.03
        assert predictor.details()["nonzero_coefficients"] == monomial_count(9, 5, 7)  # L2: dense


def test_l1_puts_the_largest_weight_on_the_parity_monomial(l1_fit, small_dataset):
    _, predictor = l1_fit
    informative = small_dataset.truth["informative"]
    details = predictor.details()
    assert details["top_monomial"] == informative
    assert details["nonzero_coefficients"] < details["monomials"] // 4  # L1 gives true zeros
    assert details["top_share"] > 0.95
    table = predictor.tables()["coefficients"]
    assert list(table.columns) == ["rank", "monomial", "degree", "coefficient"]
    assert table.iloc[0]["monomial"] == " ".join(map(str, informative))
    assert table.iloc[0]["degree"] == len(informative)
    assert np.all(np.diff(table["coefficient"].abs()) <= 0)
    assert len(table) == min(polynomial.TOP_COEFFICIENTS, details["nonzero_coefficients"])


def test_save_and_load_round_trip(l1_fit, small_dataset, tmp_path):
    _, predictor = l1_fit
    write_npz(tmp_path / "model.npz", predictor.arrays())
    loaded = load_predictor("poly_logreg", tmp_path / "model.npz")
    X = small_dataset.hidden_X
    np.testing.assert_array_equal(loaded.predict(X), predictor.predict(X))
    np.testing.assert_array_equal(loaded.decision_function(X), predictor.decision_function(X))
    assert loaded.details() == predictor.details()
    assert loaded.tables()["coefficients"].equals(predictor.tables()["coefficients"])


def test_logit_is_the_decision_function_and_differentiable(l1_fit, small_dataset):
    _, predictor = l1_fit
    X = small_dataset.hidden_X[:200]
    logit = predictor.logit(torch.from_numpy(X))
    assert logit.shape == (200,) and logit.dtype == torch.float32
    np.testing.assert_array_equal((logit > 0).numpy().astype(np.int64), predictor.predict(X))
    # Exact gradients in float64: compare with central differences of the same function.
    X64 = torch.from_numpy(X[:5].astype(np.float64)).requires_grad_(True)
    predictor.logit(X64).sum().backward()
    step = 1e-6
    numeric = np.zeros((5, X.shape[1]))
    with torch.no_grad():
        for j in range(X.shape[1]):
            shift = torch.zeros_like(X64)
            shift[:, j] = step
            difference = predictor.logit(X64 + shift) - predictor.logit(X64 - shift)
            numeric[:, j] = (difference / (2 * step)).numpy()
    np.testing.assert_allclose(X64.grad.numpy(), numeric, rtol=1e-5, atol=1e-5)
    # A parity model moves with the informative features only (L1 left the others ~nothing).
    informative = small_dataset.truth["informative"]
    irrelevant = [j for j in range(X.shape[1]) if j not in informative]
    grad = np.abs(X64.grad.numpy())
    assert grad[:, irrelevant].mean() < 0.05 * grad[:, informative].mean()


def test_a_penalty_that_zeroes_every_monomial_leaves_a_constant_model(small_dataset, tmp_path):
    task = make_task(small_dataset, {**SETTINGS, "penalty": "l1", "alpha": 10.0, "epochs": 2})
    predictor = poly_logreg.fit(task)[0]
    assert predictor.details()["nonzero_coefficients"] == 0
    assert predictor.details()["top_monomial"] == []
    assert predictor.tables()["coefficients"].empty
    X = small_dataset.hidden_X[:50]
    predicted = predictor.predict(X)
    assert len(set(predicted.tolist())) == 1
    write_npz(tmp_path / "model.npz", predictor.arrays())
    np.testing.assert_array_equal(load_predictor("poly_logreg", tmp_path / "model.npz").predict(X), predicted)
    X64 = torch.from_numpy(X.astype(np.float64)).requires_grad_(True)
    predictor.logit(X64).sum().backward()
    assert X64.grad is not None and not X64.grad.any()


def test_degrees_of_an_n_without_its_own_row_come_from_the_training_rows():
    # The later edition's layout at n = 10 with 4 features in the parity: no paper row, no
    # noise families; the degree range is found around the parity size on the training rows.
    from kryptonite_n.compute.data import GeneratorSettings, generate

    data = generate(10, 6, GeneratorSettings(rows_per_feature=300, hidden_rows=100, layout="shared",
                                             parity_share=0.4))
    truth = data.truth["informative"]
    assert len(truth) == 4
    settings = {**SETTINGS, "min_degree": None, "max_degree": None, "penalty": "l1", "alpha": 0.01,
                "batch_size": 256, "epochs": 10}
    predictor = poly_logreg.fit(make_task(data, settings))[0]
    assert (predictor.min_degree, predictor.max_degree) == (3, 5)
    assert predictor.details()["degree_source"].startswith("training rows: GF(2) parity of 4 features")
    assert "warning" not in predictor.details()
    assert predictor.details()["top_monomial"] == truth
    # The plan's bound, before any row is seen: the widest window the fit may pick at n.
    assert poly_basis_size({"min_degree": None, "max_degree": None}, 10) == monomial_count(10, 4, 6)
    assert poly_basis_size({"min_degree": 3, "max_degree": 5}, 10) == monomial_count(10, 3, 5)
    assert poly_beyond_limits({"min_degree": None, "max_degree": None, "max_monomials": 100000}, 20)
