"""The classic baselines: RBF SVM, random forest, kNN, gradient boosting, 1-D CNN.

Each is saved as plain arrays and predicts from them: the arrays round trip through model.npz
(read without pickle), equal the scikit-learn estimator they came from, are deterministic, and
honour the row cap. kNN learns the parity of n = 9 given enough rows (and is anti-correlated with
it given too few); the others are not asserted to fail or succeed on parity.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from kryptonite_n import streams
from kryptonite_n.compute.data import SPLIT_CODES, GeneratorSettings, generate, make_split
from kryptonite_n.compute.models import cnn, gradient_boosting, knn, random_forest, svm_rbf
from kryptonite_n.contract import FitTask, Split
from kryptonite_n.io import write_npz
from kryptonite_n.plan.config import model_settings, prepare_config

MODULES = {"svm_rbf": svm_rbf, "random_forest": random_forest, "knn": knn,
           "gradient_boosting": gradient_boosting, "cnn": cnn}
#: Small settings, with a row cap below the 1620 training rows of ``data``.
SMALL = {
    "svm_rbf": {"C": 1.0, "gamma": None, "max_train_rows": 1000},
    "random_forest": {"trees": 8, "min_samples_leaf": 3, "max_train_rows": 1000},
    "knn": {"neighbours": 15, "max_train_rows": 1000},
    "gradient_boosting": {"max_iter": 30, "learning_rate": 0.1, "max_leaf_nodes": 15, "patience": 5},
    "cnn": {"channels": 4, "kernel_size": 3, "epochs": 3, "batch_size": 128, "lr": 0.003, "patience": 2,
            "max_train_rows": 1000},
}
CAPPED = ("svm_rbf", "random_forest", "knn", "cnn")
SEED = 7


def make_task(n: int, rows_per_feature: int, settings: dict, hidden_rows: int = 600,
              repeats: int = 1) -> tuple[FitTask, object]:
    dataset = generate(n, SEED, GeneratorSettings(rows_per_feature=rows_per_feature, hidden_rows=hidden_rows))
    splits = []
    for repeat in range(repeats):
        roles = make_split(len(dataset.y), {"train": 0.6, "validation": 0.2, "test": 0.2}, SEED, n, repeat)
        splits.append(Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
    task = FitTask(n=n, X=dataset.X, y=dataset.y, splits=splits, repeats=list(range(repeats)),
                   settings=settings, seed=SEED)
    return task, dataset


@pytest.fixture(scope="module")
def data():
    """n = 9, 2700 labelled rows (1620 train, 540 validation, 540 test) and 600 hidden rows."""
    return make_task(9, 300, {})


@pytest.fixture(scope="module")
def fitted(data):
    """Every model fitted twice on the same task (small settings, two repeats)."""
    task, _ = data
    two = FitTask(n=task.n, X=task.X, y=task.y, splits=task.splits * 2, repeats=[0, 1], settings={},
                  seed=SEED)
    out = {}
    for name, module in MODULES.items():
        model_task = FitTask(**{**two.__dict__, "settings": SMALL[name]})
        out[name] = (module.fit(model_task), module.fit(model_task))
    return out


def reloaded(module, predictor, tmp_path):
    write_npz(tmp_path / "model.npz", predictor.arrays())
    with np.load(tmp_path / "model.npz", allow_pickle=False) as arrays:
        return module.load(dict(arrays))


# --------------------------------------------------------------------------- every model


def schema_settings(model: str, n: int = 9) -> dict:
    """The model's settings at n as the configuration gives them by default (the schema's)."""
    return model_settings(prepare_config({"dimensions": [n]}), model, n)


def test_the_small_settings_name_the_schemas_keys():
    assert {name: sorted(settings) for name, settings in SMALL.items()} == {
        name: sorted(schema_settings(name)) for name in MODULES}


@pytest.mark.parametrize("name", MODULES)
def test_arrays_round_trip_without_pickle(name, fitted, data, tmp_path):
    _, dataset = data
    predictor = fitted[name][0][0]
    arrays = predictor.arrays()
    assert all(isinstance(a, np.ndarray | np.generic) for a in arrays.values())
    assert [k for k, a in arrays.items() if not (np.issubdtype(np.asarray(a).dtype, np.number)
                                                 or np.asarray(a).dtype == np.bool_)] == []
    loaded = reloaded(MODULES[name], predictor, tmp_path)
    X = np.concatenate([dataset.X, dataset.hidden_X])
    np.testing.assert_array_equal(loaded.predict(X), predictor.predict(X))
    if hasattr(predictor, "probability"):
        np.testing.assert_array_equal(loaded.probability(X), predictor.probability(X))
    assert loaded.details() == predictor.details()
    assert loaded.tables() == {}
    json.dumps(predictor.details())


@pytest.mark.parametrize("name", MODULES)
def test_same_task_same_arrays(name, fitted):
    first, second = fitted[name]
    assert len(first) == len(second) == 2
    for a, b in zip(first, second, strict=True):
        arrays_a, arrays_b = a.arrays(), b.arrays()
        assert arrays_a.keys() == arrays_b.keys()
        for key in arrays_a:
            np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)


@pytest.mark.parametrize("name", MODULES)
def test_labels_and_probabilities(name, fitted, data):
    _, dataset = data
    predictor = fitted[name][0][0]
    labels = predictor.predict(dataset.hidden_X)
    assert labels.dtype == np.int64 and set(np.unique(labels).tolist()) <= {0, 1}
    if name == "svm_rbf":
        # A margin is no probability, and no Platt scaling is fitted.
        assert not hasattr(predictor, "probability")
        return
    probability = predictor.probability(dataset.hidden_X)
    assert probability.dtype == np.float64 and probability.shape == labels.shape
    assert np.all((probability >= 0) & (probability <= 1))
    if name == "random_forest":
        # The larger of the two classes' mean fractions, which add up to 1 only up to rounding.
        fractions = predictor.class_fractions(dataset.hidden_X)
        np.testing.assert_array_equal(labels, (fractions[:, 1] > fractions[:, 0]).astype(np.int64))
        clear = np.abs(probability - 0.5) > 1e-12
        np.testing.assert_array_equal(labels[clear], (probability[clear] > 0.5).astype(np.int64))
    else:
        np.testing.assert_array_equal(labels, (probability > 0.5).astype(np.int64))


@pytest.mark.parametrize("name", CAPPED)
def test_the_row_cap_is_honoured(name, fitted, data):
    task, _ = data
    for predictor in fitted[name][0]:
        assert predictor.details()["rows"] == SMALL[name]["max_train_rows"] < len(task.splits[0].train)
    # The two repeats share their split but not their stream: different rows are drawn.
    first, second = (p.arrays() for p in fitted[name][0])
    assert any(not np.array_equal(first[key], second[key]) for key in first)


@pytest.mark.parametrize("name", CAPPED)
def test_no_cap_uses_every_training_row(name, data):
    task, _ = data
    settings = {**SMALL[name], "max_train_rows": None}
    if name == "random_forest":
        settings["trees"] = 2
    (predictor,) = MODULES[name].fit(FitTask(**{**task.__dict__, "settings": settings}))
    assert predictor.details()["rows"] == len(task.splits[0].train)


# --------------------------------------------------------------------------- each model's estimator


def test_svm_predicts_as_svc(data):
    from sklearn.svm import SVC

    task, dataset = data
    settings = {**SMALL["svm_rbf"], "max_train_rows": None, "C": 2.0}
    (predictor,) = svm_rbf.fit(FitTask(**{**task.__dict__, "settings": settings}))
    X, y = task.part(0, "train")
    svc = SVC(C=2.0, gamma="scale").fit(X.astype(np.float64), y)
    held_out = np.concatenate([task.part(0, "test")[0], dataset.hidden_X]).astype(np.float64)
    assert predictor.gamma == pytest.approx(1.0 / (task.n * X.astype(np.float64).var()))
    np.testing.assert_allclose(predictor.decision_function(held_out), svc.decision_function(held_out),
                               rtol=0, atol=1e-9)
    np.testing.assert_array_equal(predictor.predict(held_out), svc.predict(held_out))
    # A numeric gamma is used as given.
    (fixed,) = svm_rbf.fit(FitTask(**{**task.__dict__, "settings": {**settings, "gamma": 0.5}}))
    assert fixed.gamma == 0.5 and fixed.details()["gamma"] == 0.5


def test_forest_equals_random_forest_classifier(data):
    from sklearn.ensemble import RandomForestClassifier

    task, dataset = data
    X, y = task.part(0, "train")
    forest = RandomForestClassifier(n_estimators=7, min_samples_leaf=2, random_state=3, n_jobs=1).fit(X, y)
    predictor = random_forest.from_forest(forest, len(y), 2)
    held_out = np.concatenate([task.part(0, "test")[0], dataset.hidden_X])
    np.testing.assert_allclose(predictor.probability(held_out), forest.predict_proba(held_out)[:, 1],
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(predictor.predict(held_out), forest.predict(held_out))
    assert predictor.details()["trees"] == 7
    assert predictor.details()["max_depth"] == max(tree.tree_.max_depth for tree in forest.estimators_)
    assert predictor.details()["nodes"] == sum(tree.tree_.node_count for tree in forest.estimators_)


def test_knn_equals_kneighbors_classifier(data):
    from sklearn.neighbors import KNeighborsClassifier

    task, dataset = data
    settings = {"neighbours": 7, "max_train_rows": None}
    (predictor,) = knn.fit(FitTask(**{**task.__dict__, "settings": settings}))
    X, y = task.part(0, "train")
    classifier = KNeighborsClassifier(n_neighbors=7, algorithm="brute").fit(X, y)
    held_out = np.concatenate([task.part(0, "test")[0], dataset.hidden_X])
    np.testing.assert_array_equal(predictor.probability(held_out), classifier.predict_proba(held_out)[:, 1])
    np.testing.assert_array_equal(predictor.predict(held_out), classifier.predict(held_out))


def test_knn_even_k_breaks_ties_towards_zero():
    X = np.array([[0.0], [1.0]], dtype=np.float32)
    predictor = knn.Knn(X, np.array([0, 1]), neighbours=2)
    assert predictor.probability(np.array([[0.5]], dtype=np.float32)).tolist() == [0.5]
    assert predictor.predict(np.array([[0.5]], dtype=np.float32)).tolist() == [0]


def test_gradient_boosting_equals_the_classifier_early_stopped_on_validation(data):
    from sklearn.ensemble import HistGradientBoostingClassifier

    task, dataset = data
    settings = {**SMALL["gradient_boosting"], "patience": 3, "max_iter": 40}
    (predictor,) = gradient_boosting.fit(FitTask(**{**task.__dict__, "settings": settings}))
    X, y = task.part(0, "train")
    X_val, y_val = task.part(0, "validation")
    classifier = HistGradientBoostingClassifier(
        max_iter=40, learning_rate=0.1, max_leaf_nodes=15, early_stopping=True, n_iter_no_change=3,
        random_state=streams.seed("gradient_boosting", seed=SEED, n=task.n, repeat=0),
    ).fit(X, y, X_val=X_val, y_val=y_val)
    held_out = np.concatenate([task.part(0, "test")[0], dataset.hidden_X])
    np.testing.assert_allclose(predictor.probability(held_out), classifier.predict_proba(held_out)[:, 1],
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(predictor.predict(held_out), classifier.predict(held_out))
    details = predictor.details()
    assert details["iterations"] == classifier.n_iter_ and details["rows"] == len(y)
    assert details["validation_rows"] == len(y_val)
    # The validation loss is the one on our validation rows: the first is the baseline's.
    baseline = np.mean(y)
    start = -np.mean(y_val * np.log(baseline) + (1 - y_val) * np.log(1 - baseline))
    assert details["validation_loss_start"] == pytest.approx(start, rel=1e-6)


def test_gradient_boosting_without_trees_predicts_its_baseline():
    empty = [np.zeros(0) for _ in range(7)]
    predictor = gradient_boosting.GradientBoosting(*empty, baseline=0.2, rows=10, validation_rows=5,
                                                   learning_rate=0.1)
    np.testing.assert_allclose(predictor.probability(np.zeros((3, 4))), 1 / (1 + np.exp(-0.2)))


def test_cnn_logit_is_differentiable_and_agrees(fitted, data, tmp_path):
    _, dataset = data
    predictor = fitted["cnn"][0][0]
    loaded = reloaded(cnn, predictor, tmp_path)
    X = torch.from_numpy(dataset.hidden_X[:50].copy()).requires_grad_()
    logits = predictor.logit(X)
    assert torch.equal(logits.detach(), loaded.logit(X).detach())
    logits.sum().backward()
    assert X.grad is not None and torch.count_nonzero(X.grad) > 0
    np.testing.assert_allclose(predictor.probability(dataset.hidden_X[:50]),
                               torch.sigmoid(logits.detach().double()).numpy(), rtol=1e-6)
    in_double = predictor.logit(torch.from_numpy(dataset.hidden_X[:50].astype(np.float64)))
    np.testing.assert_allclose(in_double.numpy(), logits.detach().numpy(), atol=1e-4)
    assert all(a.dtype == np.float32 for k, a in predictor.arrays().items() if k in cnn.PARAMETERS)


def test_cnn_keeps_the_best_validation_epoch(data):
    task, _ = data
    settings = {**SMALL["cnn"], "epochs": 6, "patience": 1}
    (predictor,) = cnn.fit(FitTask(**{**task.__dict__, "settings": settings}))
    details = predictor.details()
    assert 1 <= details["best_epoch"] <= details["epochs"] <= 6
    assert details["epochs"] == 6 or details["epochs"] - details["best_epoch"] == 1
    X_val, y_val = task.part(0, "validation")
    logits = torch.from_numpy(predictor._logits(X_val).astype(np.float32))
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y_val).float())
    assert float(loss) == pytest.approx(details["best_validation_loss"], rel=1e-5)


# --------------------------------------------------------------------------- behaviour on parity


def test_knn_learns_the_parity_of_nine_given_enough_rows():
    # 9000 rows: 5400 train, of which 5000 are kept (k = 15), ~10 per cell of the 2^9.
    task, dataset = make_task(9, 1000, {"neighbours": 15, "max_train_rows": 5000}, hidden_rows=2000)
    (predictor,) = knn.fit(task)
    X_test, y_test = task.part(0, "test")
    assert predictor.details()["rows"] == 5000
    assert np.mean(predictor.predict(X_test) == y_test) > 0.65
    assert np.mean(predictor.predict(dataset.hidden_X) == dataset.hidden_y) > 0.65


def test_knn_given_too_few_rows_is_anti_correlated_with_the_parity(data):
    # ~3 training rows per cell: most of the 15 neighbours lie one bit away, and of the 9 bits
    # 6 make the parity, so a neighbour one bit away mostly has the opposite label.
    task, dataset = data
    settings = {"neighbours": 15, "max_train_rows": None}
    (predictor,) = knn.fit(FitTask(**{**task.__dict__, "settings": settings}))
    assert np.mean(predictor.predict(dataset.hidden_X) == dataset.hidden_y) < 0.45


def test_svm_learns_the_parity_of_nine_with_a_kernel_local_at_one_bit(data):
    # gamma 10: a row one bit away weighs exp(-10); scikit-learn's "scale" (≈ 0.44 here) spans
    # several bits and stays near chance.
    task, dataset = data
    X = np.concatenate([task.part(0, "test")[0], dataset.hidden_X])
    y = np.concatenate([task.part(0, "test")[1], dataset.hidden_y])
    accuracy = {}
    for gamma in (10.0, None):
        settings = {"C": 1.0, "gamma": gamma, "max_train_rows": None}
        (predictor,) = svm_rbf.fit(FitTask(**{**task.__dict__, "settings": settings}))
        accuracy[gamma] = np.mean(predictor.predict(X) == y)
    assert accuracy[10.0] > 0.85 and accuracy[None] < 0.62


def test_cnn_learns_the_parity_of_nine_when_a_window_spans_the_row():
    # Kernel 9: windows of 17 positions hold all 9; kernel 3: windows of 5 hold no 6-bit parity.
    task, dataset = make_task(9, 600, {}, hidden_rows=2000)
    accuracy = {}
    for kernel in (9, 3):
        settings = {**schema_settings("cnn"), "kernel_size": kernel, "epochs": 30, "patience": 10}
        (predictor,) = cnn.fit(FitTask(**{**task.__dict__, "settings": settings}))
        accuracy[kernel] = np.mean(predictor.predict(dataset.hidden_X) == dataset.hidden_y)
    assert accuracy[9] > 0.85 and 0.45 < accuracy[3] < 0.55
