"""The MLP: it learns parity, trains its repeats together exactly as one by one, keeps its best weights."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from kryptonite_n.compute.data import SPLIT_CODES, GeneratorSettings, generate, make_split
from kryptonite_n.compute.models import load_predictor, mlp
from kryptonite_n.compute.nets import perceptron, training
from kryptonite_n.contract import FitTask, Split
from kryptonite_n.io import write_npz

FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}
SEED = 5
N = 6  # parity of 4 informative bits: learnable in seconds, same noise families as the study
EASY = {"optimizer": "sgd", "activation": "elu", "lr": 0.1, "batch_size": 64, "dropout": 0.0,
        "max_epochs": 150, "patience": 25}


@pytest.fixture(scope="module")
def dataset():
    return generate(N, seed=SEED, settings=GeneratorSettings(rows_per_feature=400, hidden_rows=1000))


def splits_for(rows: int, repeats: list[int]) -> list[Split]:
    splits = []
    for repeat in repeats:
        roles = make_split(rows, FRACTIONS, SEED, N, repeat)
        splits.append(Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
    return splits


def make_task(dataset, repeats: list[int], settings: dict, splits: list[Split] | None = None) -> FitTask:
    return FitTask(n=N, X=dataset.X, y=dataset.y, splits=splits or splits_for(len(dataset.y), repeats),
                   repeats=repeats, settings=settings, seed=SEED, threads=1)


def validation_loss(predictor: perceptron.MLPPredictor, X: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        logits = predictor.logit(torch.from_numpy(X).double())
    return float(torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y).double()))


def test_learns_parity_close_to_bayes(dataset):
    task = make_task(dataset, [0, 1, 2], EASY)
    predictors = mlp.fit(task)
    bayes = 1 - dataset.truth["flip_rate"]
    test_acc = [np.mean(p.predict(task.part(i, "test")[0]) == task.part(i, "test")[1])
                for i, p in enumerate(predictors)]
    hidden_acc = [np.mean(p.predict(dataset.hidden_X) == dataset.hidden_y) for p in predictors]
    # Standard errors: 0.006 for the mean over 3 x 480 test rows, 0.007 per 1000 hidden rows.
    assert np.mean(test_acc) > bayes - 0.02, (test_acc, bayes)
    assert min(hidden_acc) > bayes - 0.02, (hidden_acc, bayes)
    for p in predictors:
        history = p.tables()["history"]
        assert list(history.columns) == ["epoch", "train_loss", "validation_loss", "train_acc",
                                         "validation_acc"]
        assert history["epoch"].tolist() == list(range(1, p.details()["epochs_trained"] + 1))
        assert history["validation_acc"].iloc[0] < 0.7 < history["validation_acc"].max()


def test_same_task_gives_identical_networks_whatever_the_threads(dataset):
    settings = {**EASY, "dropout": 0.05, "max_epochs": 6}
    first = mlp.fit(make_task(dataset, [0, 1, 2], settings))
    second = mlp.fit(dataclasses.replace(make_task(dataset, [0, 1, 2], settings), threads=2))
    for a, b in zip(first, second, strict=True):
        for key, array in a.arrays().items():
            assert np.array_equal(array, b.arrays()[key]), key
        pd.testing.assert_frame_equal(a.tables()["history"], b.tables()["history"])
    assert not np.array_equal(first[0].W1, first[1].W1)  # repeats are seeded apart


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_repeats_together_equal_repeats_one_by_one(dataset, optimizer):
    """With unequal split sizes (a batch less per epoch), dropout, and early stops at different epochs."""
    repeats = [0, 3, 4]
    splits = splits_for(len(dataset.y), repeats)
    # 1440 training rows = 17 batches of 84 + 12; without 12 rows repeat 3 has one batch less per epoch.
    splits[1] = dataclasses.replace(splits[1], train=splits[1].train[:-12],
                                    test=np.sort(np.concatenate([splits[1].test, splits[1].train[-12:]])))
    settings = {**EASY, "optimizer": optimizer, "lr": 0.01 if optimizer == "adam" else 0.1,
                "activation": "tanh", "dropout": 0.05, "batch_size": 84, "max_epochs": 30, "patience": 4}
    together = mlp.fit(make_task(dataset, repeats, settings, splits))
    alone = [mlp.fit(make_task(dataset, [repeat], settings, [split]))[0]
             for repeat, split in zip(repeats, splits, strict=True)]
    assert len({p.details()["epochs_trained"] for p in together}) > 1  # stops differ: the stack shrinks
    for a, b in zip(together, alone, strict=True):
        assert a.details()["epochs_trained"] == b.details()["epochs_trained"]
        assert a.details()["best_epoch"] == b.details()["best_epoch"]
        for key in ("W1", "b1", "W2", "b2", "mean", "std"):
            np.testing.assert_allclose(a.arrays()[key], b.arrays()[key], rtol=0, atol=1e-6, err_msg=key)
        pd.testing.assert_frame_equal(a.tables()["history"], b.tables()["history"], atol=1e-6)


def test_early_stopping_keeps_the_best_validation_weights(dataset):
    settings = {**EASY, "lr": 0.3, "batch_size": 32, "max_epochs": 200, "patience": 8}
    task = make_task(dataset, [0, 1], settings)
    for i, predictor in enumerate(mlp.fit(task)):
        details, history = predictor.details(), predictor.tables()["history"]
        assert details["stopped_early"]
        assert details["epochs_trained"] == details["best_epoch"] + settings["patience"]
        assert details["epochs_trained"] < settings["max_epochs"]
        assert history["validation_loss"].idxmin() + 1 == details["best_epoch"]
        recomputed = validation_loss(predictor, *task.part(i, "validation"))
        assert recomputed == pytest.approx(history["validation_loss"].min(), abs=1e-5)
        # and not the weights of the last epoch, which were worse
        assert history["validation_loss"].iloc[-1] > recomputed + 1e-4


def test_logit_is_differentiable_in_raw_input(dataset):
    predictor = mlp.fit(make_task(dataset, [0], {**EASY, "max_epochs": 3}))[0]
    X = torch.from_numpy(dataset.hidden_X[:50]).double().requires_grad_(True)
    logits = predictor.logit(X)
    assert logits.shape == (50,) and logits.dtype == torch.float64
    logits.sum().backward()
    assert X.grad is not None and torch.isfinite(X.grad).all() and X.grad.abs().sum() > 0
    # against a central difference on one row and feature
    step = 1e-6
    bumped = X.detach().clone()
    bumped[7, 2] += step
    lowered = X.detach().clone()
    lowered[7, 2] -= step
    numeric = (predictor.logit(bumped)[7] - predictor.logit(lowered)[7]) / (2 * step)
    assert float(X.grad[7, 2]) == pytest.approx(float(numeric), rel=1e-4, abs=1e-6)
    assert predictor.logit(X.detach().float()).dtype == torch.float32
    assert np.array_equal(predictor.predict(dataset.hidden_X[:50]), (logits > 0).numpy().astype(np.int64))


def test_saved_arrays_load_to_the_same_predictor(dataset, tmp_path):
    predictor = mlp.fit(make_task(dataset, [0], {**EASY, "activation": "tanh", "max_epochs": 3}))[0]
    arrays = predictor.arrays()
    assert arrays["W1"].shape == (N, 72) and arrays["b1"].shape == (72,) and arrays["W2"].shape == (72,)
    assert arrays["b2"].shape == () and arrays["activation"].dtype.kind == "U"
    write_npz(tmp_path / "model.npz", arrays)
    loaded = load_predictor("mlp", tmp_path / "model.npz")
    assert loaded.activation == "tanh"
    assert np.array_equal(loaded.predict(dataset.hidden_X), predictor.predict(dataset.hidden_X))
    X = torch.from_numpy(dataset.hidden_X[:20])
    assert torch.equal(loaded.logit(X), predictor.logit(X))
    shapes = [(name, w.shape) for name, w in perceptron.layers(loaded)]
    assert shapes == [("hidden", (N, 72)), ("output", (72, 1))]


@pytest.mark.parametrize("activation", perceptron.ACTIVATIONS)
def test_hand_written_gradient_matches_autograd(activation):
    torch.manual_seed(0)
    R, B, n, H = 3, 10, 5, 7
    layout = training._Layout(n, H)
    theta = torch.randn(R, n * H + 2 * H + 1, dtype=torch.float64)
    X, y = torch.randn(R, B, n, dtype=torch.float64), (torch.rand(R, B) > 0.5).double()
    with_ones = torch.cat([X, torch.ones(R, B, 1, dtype=torch.float64)], dim=2)
    weight = torch.rand(R, B, dtype=torch.float64)
    masks = (torch.rand(R, B, H) > 0.2).double() / 0.8
    logits, grad = training._gradient(activation, layout, theta.clone(), with_ones, y, weight, masks)

    leaf = theta.clone().requires_grad_(True)
    W1, b1, W2, b2 = layout.views(leaf)
    z = ((perceptron.activate(activation, torch.baddbmm(b1, X, W1)) * masks) * W2).sum(-1) + b2
    loss = (torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none") * weight).sum()
    loss.backward()
    torch.testing.assert_close(logits, z.detach())
    torch.testing.assert_close(grad, leaf.grad)


@pytest.mark.parametrize("activation", perceptron.ACTIVATIONS)
def test_hand_written_gradient_of_two_hidden_layers_matches_autograd(activation):
    torch.manual_seed(0)
    R, B, n, H = 3, 10, 5, 7
    layout = training._Layout(n, H, layers=2)
    theta = torch.randn(R, layout.size, dtype=torch.float64)
    X, y = torch.randn(R, B, n, dtype=torch.float64), (torch.rand(R, B) > 0.5).double()
    with_ones = torch.cat([X, torch.ones(R, B, 1, dtype=torch.float64)], dim=2)
    weight = torch.rand(R, B, dtype=torch.float64)
    masks = (torch.rand(2, R, B, H) > 0.2).double() / 0.8
    logits, grad = training._gradient_deep(activation, layout, theta.clone(), with_ones, y, weight, masks)

    leaf = theta.clone().requires_grad_(True)
    W1, b1, W2, b2 = layout.views(leaf)
    V, c = layout.second(leaf)
    h1 = perceptron.activate(activation, torch.baddbmm(b1, X, W1)) * masks[0]
    h2 = perceptron.activate(activation, torch.baddbmm(c, h1, V)) * masks[1]
    z = (h2 * W2).sum(-1) + b2
    loss = (torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none") * weight).sum()
    loss.backward()
    torch.testing.assert_close(logits, z.detach())
    torch.testing.assert_close(grad, leaf.grad)


def test_two_hidden_layers_learn_parity_and_the_predictor_is_the_trained_network(dataset):
    settings = {**EASY, "layers": 2, "hidden_units": 24, "optimizer": "adamw", "lr": 0.01,
                "weight_decay": 1e-3, "dropout": 0.02, "batch_size": 32, "max_epochs": 60, "patience": 15}
    task = make_task(dataset, [0], settings)
    predictor = mlp.fit(task)[0]
    X_val, y_val = task.part(0, "validation")
    assert predictor.layers == 2 and np.mean(predictor.predict(X_val) == y_val) > 0.9
    # The predictor's eval-mode forward pass is the trainer's: its validation loss is the kept one.
    kept = predictor.details()["best_validation_loss"]
    assert validation_loss(predictor, X_val, y_val) == pytest.approx(kept, abs=1e-5)
    shapes = [(name, w.shape) for name, w in perceptron.layers(predictor)]
    assert shapes == [("hidden1", (N, 24)), ("hidden2", (24, 24)), ("output", (24, 1))]


@pytest.mark.parametrize("activation", perceptron.ACTIVATIONS)
def test_fast_activations_match_torch(activation):
    a = torch.linspace(-8, 8, 2001)
    reference = {"elu": torch.nn.functional.elu, "tanh": torch.tanh, "relu": torch.relu,
                 "sigmoid": torch.sigmoid}[activation](a)
    torch.testing.assert_close(perceptron.activate(activation, a), reference, atol=3e-7, rtol=0)
    for derivative in (None, torch.empty_like(a)):
        fast = training.activate_(activation, a.clone(), torch.empty_like(a), derivative)
        assert torch.equal(fast, perceptron.activate(activation, a))
    if activation == "elu":
        torch.testing.assert_close(derivative, torch.where(a > 0, 1.0, torch.exp(a)))


@pytest.mark.parametrize(("kind", "decay"), [("sgd", 0.0), ("adam", 0.0), ("sgd", 0.01), ("adam", 0.01),
                                             ("adamw", 0.01)])
def test_optimizer_matches_torch_optim_and_skips_inactive_repeats(kind, decay):
    torch.manual_seed(1)
    theta = torch.randn(3, 11)
    reference = theta.clone().requires_grad_(True)
    ours = training._Optimizer(kind, 0.05, 0.9, tuple(theta.shape), decay)
    theirs = {"sgd": lambda: torch.optim.SGD([reference], lr=0.05, momentum=0.9, weight_decay=decay),
              "adam": lambda: torch.optim.Adam([reference], lr=0.05, weight_decay=decay),
              "adamw": lambda: torch.optim.AdamW([reference], lr=0.05, weight_decay=decay)}[kind]()
    for _ in range(5):
        grad = torch.randn(3, 11)
        ours.step(theta, grad, None)
        reference.grad = grad.clone()
        theirs.step()
    torch.testing.assert_close(theta, reference.detach())
    before = theta.clone()
    ours.step(theta, torch.randn(3, 11), torch.tensor([True, False, True]))
    assert torch.equal(theta[1], before[1]) and not torch.equal(theta[0], before[0])


def test_dropout_draws_each_unit_with_probability_p():
    rng = np.random.default_rng(3)
    size, p = 200_000, 0.07
    dropped = training.dropped_positions(rng, size, p)
    assert np.all(np.diff(dropped) > 0) and dropped[0] >= 0 and dropped[-1] < size
    assert abs(len(dropped) - p * size) < 5 * np.sqrt(size * p * (1 - p))
    assert len(training.dropped_positions(rng, size, 0.0)) == 0


def test_bad_settings_are_named(dataset):
    with pytest.raises(ValueError, match="activation"):
        mlp.fit(make_task(dataset, [0], {**EASY, "activation": "swish"}))
    with pytest.raises(ValueError, match="optimizer"):
        mlp.fit(make_task(dataset, [0], {**EASY, "optimizer": "lbfgs"}))
    with pytest.raises(ValueError, match="weight_decay"):
        mlp.fit(make_task(dataset, [0], {**EASY, "weight_decay": -1.0}))


def test_every_activation_list_is_the_networks_own():
    # One table of activations (perceptron.ACTIVATIONS): the schema's enums, the forward pass
    # and the in-place training pass accept exactly its members.
    schema_file = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
    schema = yaml.safe_load(schema_file.read_text())

    def enums(node, key=""):
        if isinstance(node, dict):
            if "enum" in node and "activation" in key:
                yield node["enum"]
            for name, child in node.items():
                yield from enums(child, name if name != "items" else key)
        elif isinstance(node, list):
            for child in node:
                yield from enums(child, key)

    found = list(enums(schema))
    assert len(found) >= 3 and all(sorted(e) == sorted(perceptron.ACTIVATIONS) for e in found), found
    a = torch.linspace(-2, 2, 9)
    for name in perceptron.ACTIVATIONS:
        torch.testing.assert_close(training.activate_(name, a.clone()), perceptron.activate(name, a),
                                   atol=3e-7, rtol=0)
    for activate in (perceptron.activate, training.activate_):
        with pytest.raises(ValueError, match="unknown MLP activation 'gelu'"):
            activate("gelu", a.clone())
