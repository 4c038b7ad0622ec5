"""Network analysis: weight-matrix statistics, zero gradients, activation variants, decision boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from kryptonite_n.compute import boundary
from kryptonite_n.compute.data import GeneratorSettings, generate, make_split, write_dataset
from kryptonite_n.compute.models.xor_oracle import ParityRule
from kryptonite_n.compute.nets import inspection
from kryptonite_n.compute.nets.perceptron import MLPPredictor
from kryptonite_n.compute.robustness import analyse_networks, map_decision_boundary
from kryptonite_n.io import DataError
from kryptonite_n.plan import paths


def random_mlp(n: int, hidden: int, activation: str, seed: int = 0, scale: float = 1.0) -> MLPPredictor:
    rng = np.random.default_rng(seed)
    return MLPPredictor(rng.normal(0, scale, (n, hidden)), rng.normal(0, scale, hidden),
                        rng.normal(0, scale, hidden), 0.1, np.full(n, 0.5), np.full(n, 0.5), activation)


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(1)
    X = (rng.integers(0, 2, (300, 6)) + rng.normal(0, 0.1, (300, 6))).astype(np.float32)
    return X, np.bitwise_xor.reduce(X[:, :4] > 0.5, axis=1).astype(np.int64)


# ---------------------------------------------------------------------------- weight matrices


def test_matrix_statistics_of_a_known_spectrum():
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.normal(size=(5, 3)))
    V, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    W = U @ np.diag([3.0, 2.0, 0.5]) @ V.T
    stats = inspection.matrix_statistics(W)
    assert (stats["rows"], stats["columns"]) == (5, 3)
    assert stats["sigma_max"] == pytest.approx(3.0) and stats["sigma_min"] == pytest.approx(0.5)
    assert stats["condition"] == pytest.approx(6.0)
    assert stats["frobenius"] == pytest.approx(np.sqrt(9 + 4 + 0.25))


def test_a_column_has_one_singular_value_its_norm():
    stats = inspection.matrix_statistics(np.array([[3.0], [4.0]]))
    assert stats["sigma_max"] == stats["sigma_min"] == pytest.approx(5.0) == stats["frobenius"]
    assert stats["condition"] == pytest.approx(1.0)


def test_rank_deficient_matrix_is_ill_conditioned():
    assert inspection.matrix_statistics(np.array([[1.0, 2.0], [2.0, 4.0]]))["condition"] > 1e12


# ---------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("activation", ["elu", "tanh", "relu", "sigmoid"])
def test_per_example_gradients_follow_the_models_own_forward_pass(rows, activation):
    X, y = rows
    predictor = random_mlp(6, 8, activation)
    grads = inspection.per_example_gradients(predictor, X[:20], y[:20])
    with torch.no_grad():
        z = predictor.logit(torch.from_numpy(X[:20]))
    residual = torch.sigmoid(z) - torch.from_numpy(y[:20].astype(np.float32))
    assert torch.allclose(grads["b2"], residual, atol=1e-6)
    # Finite difference of one example's loss in one first-layer weight.
    x, target, step = torch.from_numpy(X[3:4]), torch.tensor([float(y[3])]), 1e-3
    losses = []
    for sign in (1, -1):
        shifted = random_mlp(6, 8, activation)
        shifted.W1[2, 5] += sign * step
        losses.append(float(torch.nn.functional.binary_cross_entropy_with_logits(
            shifted.logit(x.double()), target.double())))
    assert float(grads["W1"][3, 2, 5]) == pytest.approx((losses[0] - losses[1]) / (2 * step), abs=1e-4)


def test_relu_zeroes_gradients_and_dead_units_never_move(rows):
    X, y = rows
    predictor = random_mlp(6, 10, "relu")
    predictor.b1[:3] = -100.0  # three hidden units never fire on these inputs
    shares = inspection.zero_gradient_shares(predictor, X, y, chunk=128)
    hidden_parameters = 6 * 10 + 10
    assert shares["hidden"]["dead_share"] >= 3 * 7 / hidden_parameters - 1e-12
    assert shares["hidden"]["zero_grad_share"] > shares["hidden"]["dead_share"]
    assert shares["output"]["dead_share"] == pytest.approx(3 / 11)


def test_elu_keeps_gradients_and_saturated_tanh_loses_them(rows):
    X, y = rows
    elu = inspection.zero_gradient_shares(random_mlp(6, 10, "elu"), X, y)
    assert elu["hidden"]["zero_grad_share"] == 0 and elu["output"]["zero_grad_share"] == 0
    calm = inspection.zero_gradient_shares(random_mlp(6, 10, "tanh", scale=0.3), X, y)
    saturated = inspection.zero_gradient_shares(random_mlp(6, 10, "tanh", scale=30.0), X, y)
    assert calm["hidden"]["zero_grad_share"] == 0
    assert saturated["hidden"]["zero_grad_share"] > 0.5


def test_analyse_mlp_reports_both_layers(rows):
    X, y = rows
    table = inspection.analyse_mlp(random_mlp(6, 8, "tanh"), X, y)
    assert table.layer.tolist() == ["hidden", "output"]
    assert table[["rows", "columns"]].values.tolist() == [[6, 8], [8, 1]]
    assert table.test_acc.nunique() == 1 and 0 <= table.test_acc.iloc[0] <= 1


# ---------------------------------------------------------------------------- decision boundary


def test_boundary_slice_moves_only_two_features():
    anchor = np.array([0.1, 0.9, 1.05, -0.02], dtype=np.float32)
    points, X = boundary.boundary_slice(anchor, 0, 2, size=7)
    assert X.shape == (49, 4) and len(points) == 49
    assert np.all(X[:, [1, 3]] == anchor[[1, 3]])
    assert X[:, 0].min() == pytest.approx(-0.25) and X[:, 2].max() == pytest.approx(1.25)
    assert np.allclose(X[:, 0], points.x) and np.allclose(X[:, 2], points.y)


def test_probability_of_a_rule_is_its_label_and_of_a_network_its_sigmoid():
    _, X = boundary.boundary_slice(np.array([0.0, 1.0, 0.0]), 0, 2, size=9)
    rule = ParityRule([0, 2], np.array([0.5, 0.5]))
    assert np.array_equal(boundary.probability(rule, X), rule.predict(X).astype(float))
    net = random_mlp(3, 4, "elu")
    with torch.no_grad():
        expected = torch.sigmoid(net.logit(torch.from_numpy(X.astype(np.float32)))).numpy()
    assert np.allclose(boundary.probability(net, X), expected, atol=1e-6)


# ---------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A tiny generated n = 6 with two split files, as the workflow lays them out."""
    folder = tmp_path_factory.mktemp("network")
    data = generate(6, 5, GeneratorSettings(rows_per_feature=150, hidden_rows=50))
    write_dataset(data, {
        "X": folder / "kryptonite-6-X.npy", "y": folder / "kryptonite-6-y.npy",
        "hidden_X": folder / "hidden-kryptonite-6-X.npy", "truth": folder / "truth.json",
    })
    splits = []
    for repeat in (0, 1):
        path = folder / f"repeat{repeat}.npy"
        np.save(path, make_split(len(data.y), {"train": 0.6, "validation": 0.2, "test": 0.2}, 5, 6, repeat))
        splits.append(str(path))
    features = folder / "features.csv"
    pd.DataFrame({"feature": range(6), "informative": np.isin(range(6), data.truth["informative"])}) \
        .to_csv(features, index=False)
    return folder, splits, features, data


DATA_KEYS = ("X", "y", "hidden_X", "truth")
SETTINGS = {"hidden_units": 8, "optimizer": "adam", "lr": 0.05, "batch_size": 64, "max_epochs": 30,
            "patience": 30, "dropout": 0.0, "activation": "elu", "momentum": 0.9}


def fit_variant(study, folder, activation: str, settings: dict = SETTINGS) -> list[str]:
    """The n = 6 network retrained with ``activation``, as the workflow does: the fit driver."""
    from kryptonite_n.compute.models.driver import fit_model

    data_folder, splits, _, _ = study
    outputs = {key: [str(folder / f"{activation}{r}.{key}") for r in (0, 1)]
               for key in ("model", "metrics", "test_predictions", "hidden_predictions", "history")}
    fit_model("mlp", 6, data_files=paths.dataset_files(data_folder, 6, DATA_KEYS),
              split_files=splits,
              outputs={**outputs, "table": str(folder / f"{activation}.csv")},
              settings={**settings, "activation": activation}, seed=5, repeats=[0, 1])
    return outputs["model"]


def test_activation_variants_share_everything_but_the_activation(study, tmp_path):
    from kryptonite_n.compute.data import load_split
    from kryptonite_n.compute.models import load_predictor, mlp
    from kryptonite_n.contract import FitTask
    _, splits, _, data = study
    files = {activation: fit_variant(study, tmp_path, activation) for activation in ("elu", "relu")}
    # The variant with the fitted activation is the fit itself: same seeds, same settings.
    task = FitTask(n=6, X=data.X, y=data.y, splits=[load_split(p) for p in splits], repeats=[0, 1],
                   settings=SETTINGS, seed=5)
    reference = mlp.fit(task)
    for r in (0, 1):
        elu = load_predictor("mlp", files["elu"][r])
        assert np.allclose(elu.W1, reference[r].W1) and elu.activation == "elu"
        relu = load_predictor("mlp", files["relu"][r])
        assert relu.activation == "relu" and not np.allclose(relu.W1, elu.W1)


def test_analyse_networks_and_boundary_write_their_tables(study, tmp_path):
    folder, splits, features, data = study
    data_files = paths.dataset_files(folder, 6, DATA_KEYS)
    model_files = {activation: fit_variant(study, tmp_path, activation) for activation in ("elu", "relu")}
    out = {"layers": tmp_path / "layers.csv", "robustness": tmp_path / "robustness.csv"}
    attack_settings = {"points": 50, "pgd_restarts": 1, "pgd_steps": 5, "noise_draws": 2}
    robustness = {"eps": [0, 0.1], "scopes": ["irrelevant"], "methods": ["fgsm", "pgd"]}
    analyse_networks(6, model="mlp", model_files=model_files, split_files=splits,
                                data_files=data_files, features_csv=features, outputs=out,
                                attack_settings=attack_settings, robustness=robustness, seed=5,
                                repeats=[0, 1])
    layers = pd.read_csv(out["layers"])
    assert list(layers.columns) == inspection.LAYER_COLUMNS
    assert len(layers) == 2 * 2 * 2  # activations x repeats x layers
    assert (layers[layers.activation == "relu"].zero_grad_share.min()
            > layers[layers.activation == "elu"].zero_grad_share.max())
    robustness = pd.read_csv(out["robustness"])
    assert list(robustness.columns) == inspection.ROBUSTNESS_COLUMNS
    assert set(robustness.attack) == {"fgsm", "pgd"} and set(robustness.scope) == {"irrelevant"}
    at_zero = robustness[robustness.eps == 0]
    assert np.allclose(at_zero.robust_acc, at_zero.clean_acc)

    table_path = tmp_path / "boundary.csv"
    entries = [{"model": "mlp", "activation": a, "file": model_files[a][0]} for a in model_files]
    map_decision_boundary(6, entries=entries, split_file=splits[0], repeat=0, data_files=data_files,
                                   features_csv=features, outputs={"table": table_path}, grid=11)
    table = pd.read_csv(table_path)
    assert list(table.columns) == boundary.BOUNDARY_COLUMNS
    assert len(table) == 2 * 11 * 11
    assert table.probability.between(0, 1).all()
    informative = sorted(data.truth["informative"])
    assert (table.feature_x == informative[0]).all() and (table.feature_y == informative[1]).all()


def test_a_network_file_with_the_wrong_activation_is_refused(study, tmp_path):
    folder, splits, features, _ = study
    files = fit_variant(study, tmp_path, "tanh", {**SETTINGS, "max_epochs": 2})
    with pytest.raises(DataError, match="a tanh network, expected relu"):
        analyse_networks(6, model="mlp", model_files={"relu": files}, split_files=splits,
                                    data_files=paths.dataset_files(folder, 6, DATA_KEYS),
                                    features_csv=features,
                                    outputs={k: tmp_path / f"{k}.csv" for k in ("layers", "robustness")},
                                    attack_settings={}, robustness={"eps": [0], "methods": ["uniform"]},
                                    seed=5, repeats=[0, 1])


# ---------------------------------------------------------------------------- the quick study


@pytest.mark.workflow
def test_quick_run_analyses_the_networks(quick_run):
    results = quick_run.directory / "results"
    layers = pd.read_csv(results / "network_analysis.csv")
    assert list(layers.columns) == inspection.LAYER_COLUMNS
    assert set(layers.n) == {9} and set(layers.activation) == {"relu", "tanh", "elu"}
    assert len(layers) == 3 * 2 * 2  # activations x repeats x layers
    robustness = pd.read_csv(results / "activation_robustness.csv")
    assert set(robustness.activation) == {"relu", "tanh", "elu"}
    boundary = pd.read_csv(results / "decision_boundary" / "n9.csv")
    per_model = boundary.groupby(["model", "activation"]).size()
    assert (per_model == 21 * 21).all() and per_model.sum() == len(boundary)
    assert {"xor_oracle", "fso_logreg", "mlp"} <= set(boundary.model)
    assert set(boundary[boundary.model != "mlp"].activation) == {"none"}
