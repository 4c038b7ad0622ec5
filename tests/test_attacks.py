"""Attacks: threat model, ART wrapping, exact worst case of threshold rules, and the acceptance rules."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch

from kryptonite_n.compute import attacks
from kryptonite_n.compute.data import GeneratorSettings, generate

# ---------------------------------------------------------------------------- tiny predictors


class TinyNet:
    """A one-hidden-layer torch network on standardised raw features (the Predictor protocol)."""

    def __init__(self, net: torch.nn.Module, mean: np.ndarray, std: np.ndarray) -> None:
        self.net = net.eval()
        self.mean, self.std = mean, std

    def logit(self, X: torch.Tensor) -> torch.Tensor:
        mean = torch.as_tensor(self.mean, dtype=X.dtype)
        std = torch.as_tensor(self.std, dtype=X.dtype)
        return self.net(((X - mean) / std).to(torch.float32)).reshape(-1).to(X.dtype)

    def predict(self, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.logit(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
        return (logits > 0).numpy().astype(np.int64)


class Rule:
    """Parity of X[:, features] > thresholds, optionally flipped (the threshold-rule protocol)."""

    def __init__(self, features: list[int], thresholds: np.ndarray, flip: int = 0) -> None:
        self.features, self.thresholds, self.flip = features, np.asarray(thresholds, dtype=np.float64), flip

    def predict(self, X: np.ndarray) -> np.ndarray:
        bits = np.asarray(X, dtype=np.float64)[:, self.features] > self.thresholds
        return (bits.sum(axis=1) + self.flip) & 1


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks: one torch thread avoids contention (and is what the attack jobs use)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    """n = 6: four informative features (parity of 4 bits), two irrelevant ones."""
    return generate(6, seed=3, settings=GeneratorSettings(rows_per_feature=600, hidden_rows=10))


@pytest.fixture(scope="module")
def net(data) -> TinyNet:
    torch.manual_seed(0)
    X = torch.from_numpy(data.X)
    y = torch.from_numpy(data.y.astype(np.float32))
    mean, std = X.mean(0), X.std(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(400):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model((X - mean) / std).reshape(-1), y)
        loss.backward()
        optimiser.step()
    return TinyNet(model, mean.numpy(), std.numpy())


SETTINGS = attacks.AttackSettings(eps=(0, 0.05, 0.1, 0.2, 0.3, 0.5), points=400, bim_steps=10, pgd_steps=20,
                                  pgd_restarts=2, noise_draws=3)


@pytest.fixture(scope="module")
def points(data):
    rows = np.random.default_rng(0).choice(len(data.y), size=SETTINGS.points, replace=False)
    return data.X[rows], data.y[rows]


@pytest.fixture(scope="module")
def table(net, data, points) -> pd.DataFrame:
    X, y = points
    return attacks.evaluate(net, X, y, data.truth["informative"], SETTINGS, seed=5)


def _curve(table: pd.DataFrame, attack: str, scope: str) -> pd.Series:
    rows = table[(table.attack == attack) & (table.scope == scope)]
    return rows.set_index("eps")["robust_acc"].sort_index()


# ---------------------------------------------------------------------------- scopes and labels


def test_scopes_partition_the_features():
    informative = [0, 2, 3]
    masks = {scope: attacks.scope_mask(scope, 5, informative) for scope in attacks.SCOPES}
    assert masks["all"].all()
    assert np.flatnonzero(masks["informative"]).tolist() == informative
    assert np.array_equal(masks["informative"] ^ masks["irrelevant"], masks["all"])
    with pytest.raises(ValueError, match="unknown scope"):
        attacks.scope_mask("some", 5, informative)


def test_label_can_change_only_through_informative_features_near_half():
    X = np.array([[0.1, 0.45, 0.9], [0.3, 1.0, 0.52]])
    informative = [0, 2]
    all_features = attacks.scope_mask("all", 3, informative)
    # Row 0: informative values 0.1 and 0.9 sit 0.4 from 0.5; row 1: 0.52 sits 0.02 away.
    assert attacks.label_fixed(X, informative, all_features, 0.01).tolist() == [True, True]
    assert attacks.label_fixed(X, informative, all_features, 0.1).tolist() == [True, False]
    assert attacks.label_fixed(X, informative, all_features, 0.4).tolist() == [False, False]
    irrelevant = attacks.scope_mask("irrelevant", 3, informative)
    assert attacks.label_fixed(X, informative, irrelevant, 0.5).all()


# ---------------------------------------------------------------------------- acceptance on a network


def test_net_learned_the_parity(table):
    assert table.clean_acc.iloc[0] > 0.85


def test_pgd_is_at_least_as_strong_as_fgsm_and_bim(table):
    # Sampling noise of a difference of two accuracies on the same points: at most one
    # standard error of a proportion at p = 1/2.
    noise = 0.5 / math.sqrt(SETTINGS.points)
    largest = max(SETTINGS.eps)
    # Random noise, one signed step, iterated steps, iterated steps from random starts.
    chain = ("uniform", "fgsm", "bim", "pgd")
    for scope in attacks.SCOPES:
        curves = {attack: _curve(table, attack, scope) for attack in chain}
        # Each at least as strong as the one before it: an attack that does nothing stays at the
        # clean accuracy, above the one-step attack, so it fails here and not only PGD's side.
        for weaker, stronger in itertools.pairwise(chain):
            assert (curves[stronger] <= curves[weaker] + noise).all(), (scope, weaker, stronger)
        # And each gradient attack does something: at the largest budget it is well below noise.
        for attack in chain[1:]:
            assert curves[attack][largest] < curves["uniform"][largest] - 4 * noise, (scope, attack)


def test_gradient_attacks_fool_the_network_where_noise_does_not(table):
    pgd = _curve(table, "pgd", "all")
    uniform = _curve(table, "uniform", "all")
    assert pgd[0.2] < 0.5 < uniform[0.2]


def test_evaluate_twice_with_one_seed_gives_equal_tables(net, data, points, table):
    X, y = points
    again = attacks.evaluate(net, X, y, data.truth["informative"], SETTINGS, seed=5)
    pd.testing.assert_frame_equal(again, table)
    # The seed is used: random starts and noise draws change with it.
    other = attacks.evaluate(net, X, y, data.truth["informative"], SETTINGS, seed=6)
    assert not other.robust_acc.equals(table.robust_acc)


# ---------------------------------------------------------------------------- a linear model: exact answers


class Linear:
    """A logistic model z = w.x + b: FGSM, BIM and PGD all reach its exact L-infinity worst case.

    The loss gradient in x is a positive multiple of -(2y - 1) w for every point, so each
    sign step moves every in-scope feature by its full step against the label, and the
    attacks end at the corner ``x - eps (2y - 1) sign(w)`` of the box: a correct point is
    fooled iff its margin ``(2y - 1) z`` is at most ``eps * ||w_scope||_1``.
    """

    def __init__(self, w: np.ndarray, b: float) -> None:
        self.w, self.b = np.asarray(w, dtype=np.float64), float(b)

    def logit(self, X: torch.Tensor) -> torch.Tensor:
        return X @ torch.as_tensor(self.w, dtype=X.dtype) + self.b

    def decision(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.w + self.b

    def predict(self, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.logit(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
        return (logits > 0).numpy().astype(np.int64)


LINEAR_N = 6
LINEAR_INFORMATIVE = [0, 2, 3]
LINEAR_SETTINGS = attacks.AttackSettings(eps=(0, 0.02, 0.05, 0.1, 0.2), points=600, bim_steps=10,
                                         pgd_steps=20, pgd_restarts=2, noise_draws=4)


@pytest.fixture(scope="module")
def linear():
    """A linear model, points around its boundary, and labels that it gets right 9 times in 10."""
    rng = np.random.default_rng(12)
    model = Linear(w=[1.0, -0.5, 0.8, 0.3, -0.2, 0.6], b=-0.1)
    X = rng.normal(0.5, 0.4, (LINEAR_SETTINGS.points, LINEAR_N)).astype(np.float32)
    y = model.predict(X)
    flipped = rng.random(len(y)) < 0.1
    return model, X, np.where(flipped, 1 - y, y)


def exact_linear_robust(model: Linear, X: np.ndarray, y: np.ndarray, mask: np.ndarray, eps: float):
    """Correct clean and still correct at the box's worst corner; and each margin's distance to the edge."""
    margin = (2 * y - 1) * model.decision(X)
    reach = eps * np.abs(model.w[mask]).sum()
    return (margin > 0) & (margin > reach), np.abs(margin - reach)


@pytest.mark.parametrize("method", attacks.GRADIENT_ATTACKS)
@pytest.mark.parametrize("scope", attacks.SCOPES)
def test_attacks_move_points_to_the_worst_corner_of_the_box(linear, method, scope):
    model, X, y = linear
    eps = 0.1
    mask = attacks.scope_mask(scope, LINEAR_N, LINEAR_INFORMATIVE)
    masks = np.repeat(mask[None].astype(np.float32), len(X), axis=0)
    adversarial = attacks.art_attack(attacks.art_classifier(model, LINEAR_N), method, X, y,
                                     np.full(len(X), eps), masks, LINEAR_SETTINGS, seed=4)
    moved = adversarial.astype(np.float64) - X
    # Inside the box, nothing out of scope moved.
    assert np.all(np.abs(moved) <= eps + 1e-6)
    assert np.all(moved[:, ~mask] == 0)
    # Every in-scope feature moved by the full eps, against the label: the corner.
    corner = -eps * (2 * y - 1)[:, None] * np.sign(model.w)[None, mask]
    assert np.allclose(moved[:, mask], corner, atol=1e-6)


@pytest.mark.parametrize("method", attacks.GRADIENT_ATTACKS)
def test_each_gradient_attack_scores_the_exact_robust_accuracy_of_a_linear_model(linear, method):
    model, X, y = linear
    settings = dataclasses.replace(LINEAR_SETTINGS, methods=(method,))
    table = attacks.evaluate(model, X, y, LINEAR_INFORMATIVE, settings, seed=8)
    clean = float(np.mean(model.predict(X) == y))
    assert 0.85 < clean < 0.95
    for scope in attacks.SCOPES:
        mask = attacks.scope_mask(scope, LINEAR_N, LINEAR_INFORMATIVE)
        for eps in settings.eps_grid:
            row = table[(table.attack == method) & (table.scope == scope) & (table.eps == eps)].iloc[0]
            robust, distance = exact_linear_robust(model, X, y, mask, eps)
            # Float32 rounding can tip points within 1e-5 of the edge either way; there are few.
            ties = int((distance < 1e-5).sum())
            assert abs(round(row.robust_acc * len(X)) - robust.sum()) <= ties, (scope, eps, row.robust_acc)
            assert row.clean_acc == pytest.approx(clean)
            fixed = np.ones(len(X), dtype=bool)
            in_scope = [j for j in LINEAR_INFORMATIVE if mask[j]]
            if in_scope:
                fixed = (np.abs(X[:, in_scope].astype(np.float64) - 0.5) > eps).all(axis=1)
            assert row.label_preserving_points == fixed.sum()
            if fixed.any():
                survivors = round(row.label_preserving_acc * fixed.sum())
                assert abs(survivors - robust[fixed].sum()) <= ties, (scope, eps)
    # The attack does lower the accuracy, the more the larger the box.
    curve = _curve(table, method, "all")
    assert curve[0.0] == pytest.approx(clean)
    assert curve[0.2] < curve[0.1] < curve[0.05] < clean
    assert curve[0.1] < clean - 0.1


def test_noise_lowers_a_linear_models_accuracy_less_than_the_attacks(linear):
    model, X, y = linear
    table = attacks.evaluate(model, X, y, LINEAR_INFORMATIVE, LINEAR_SETTINGS, seed=8)
    clean = float(np.mean(model.predict(X) == y))
    for noise in attacks.NOISE_ATTACKS:
        curve = _curve(table, noise, "all")
        assert curve[0.0] == pytest.approx(clean)
        # Noise at eps = 0.2 moves some points across the boundary, but far fewer than the attack.
        assert _curve(table, "pgd", "all")[0.2] < curve[0.2] < clean
    # Irrelevant-scope noise moves only features with small weights: a smaller loss.
    uniform_all = _curve(table, "uniform", "all")[0.2]
    uniform_irrelevant = _curve(table, "uniform", "irrelevant")[0.2]
    assert uniform_all < uniform_irrelevant <= clean


# ---------------------------------------------------------------------------- ART wrapping


def test_two_logit_loss_gradient_is_the_binary_cross_entropy_gradient(net, points):
    X, y = points
    with torch.no_grad():
        calm = np.abs(net.logit(torch.from_numpy(X)).numpy()) <= attacks.LOGIT_BOUND
    X, y = X[calm][:50], y[calm][:50]
    classifier = attacks.art_classifier(net, X.shape[1])
    art_gradient = classifier.loss_gradient(X, np.eye(2, dtype=np.float32)[y])
    x = torch.from_numpy(X.astype(np.float64)).requires_grad_(True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        net.logit(x), torch.from_numpy(y.astype(np.float64)), reduction="sum")
    loss.backward()
    assert np.allclose(art_gradient, x.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", attacks.GRADIENT_ATTACKS)
def test_art_attacks_stay_inside_the_box_and_the_scope(net, points, data, method):
    X, y = points
    mask = attacks.scope_mask("irrelevant", 6, data.truth["informative"])
    eps = np.full(len(X), 0.3)
    masks = np.repeat(mask[None].astype(np.float32), len(X), axis=0)
    classifier = attacks.art_classifier(net, 6)
    adversarial = attacks.art_attack(classifier, method, X, y, eps, masks, SETTINGS, seed=1)
    moved = adversarial - X
    assert np.all(np.abs(moved) <= 0.3 + 1e-6)
    assert np.all(moved[:, ~mask] == 0)
    assert np.abs(moved[:, mask]).max() > 0.25  # the attack does use its budget


def hand_pgd(net: TinyNet, X: np.ndarray, y: np.ndarray, eps: float, mask: np.ndarray, steps: int,
             restarts: int, seed: int) -> np.ndarray:
    """Madry's L-infinity PGD, written out: random start, signed steps, projection, worst restart.

    The random starts are drawn exactly as ART draws them (numpy's global generator, uniform
    in the box, then masked), so with the same seed both start from the same points.
    """
    np.random.seed(seed)
    x0 = torch.from_numpy(X.astype(np.float64))
    target = torch.from_numpy(y.astype(np.float64))
    scope = torch.from_numpy(mask.astype(np.float64))
    radius = np.full(X.shape, eps, dtype=np.float32)
    step = attacks.PGD_TRAVEL * eps / steps
    fooled = torch.zeros(len(X), dtype=torch.bool)
    for _ in range(restarts):
        start = np.random.uniform(-radius, radius, X.shape).astype(np.float32) * mask
        x = (x0 + torch.from_numpy(start.astype(np.float64))).requires_grad_(True)
        for _ in range(steps):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net.logit(x), target, reduction="sum")
            (gradient,) = torch.autograd.grad(loss, x)
            with torch.no_grad():
                x = x0 + torch.clamp(x + step * gradient.sign() * scope - x0, -eps, eps)
            x.requires_grad_(True)
        with torch.no_grad():
            fooled |= (net.logit(x) > 0).long() != target.long()
    return ~fooled.numpy()


@pytest.mark.parametrize(("scope", "eps"), [("all", 0.1), ("all", 0.2), ("irrelevant", 0.3)])
def test_hand_written_pgd_and_art_pgd_agree_within_one_point(net, points, data, table, scope, eps):
    X, y = points
    mask = attacks.scope_mask(scope, 6, data.truth["informative"])
    clean = net.predict(X) == y
    hand = (clean & hand_pgd(net, X, y, eps, mask, SETTINGS.pgd_steps, SETTINGS.pgd_restarts, seed=9)).mean()
    masks = np.repeat(mask[None].astype(np.float32), len(X), axis=0)
    adversarial = attacks.art_attack(attacks.art_classifier(net, 6), "pgd", X, y, np.full(len(X), eps), masks,
                                     SETTINGS, seed=9)
    art = (clean & (net.predict(adversarial) == y)).mean()
    assert abs(hand - art) <= 0.01
    # The table's PGD also keeps what smaller budgets fooled: never weaker than one run.
    carried = table[(table.attack == "pgd") & (table.scope == scope) & (table.eps == eps)].robust_acc.item()
    assert carried <= art + 0.5 / math.sqrt(len(X))


# ---------------------------------------------------------------------------- threshold rules


def brute_force_fooled(rule: Rule, X: np.ndarray, mask: np.ndarray, eps: float) -> np.ndarray:
    """Try every corner of the L-infinity box over the in-scope features (bits move monotonically)."""
    scoped = np.flatnonzero(mask)
    clean = rule.predict(X)
    fooled = np.zeros(len(X), dtype=bool)
    for signs in itertools.product((-1.0, 1.0), repeat=len(scoped)):
        corner = np.asarray(X, dtype=np.float64).copy()
        corner[:, scoped] += eps * np.asarray(signs)
        fooled |= rule.predict(corner) != clean
    return fooled


@pytest.mark.parametrize("flip", [0, 1])
def test_exact_worst_case_of_a_rule_matches_brute_force(flip):
    rng = np.random.default_rng(4)
    n = 6
    X = rng.integers(0, 2, (300, n)) + rng.normal(0, 0.15, (300, n))
    rule = Rule([0, 2, 3, 5], rng.uniform(0.4, 0.6, 4), flip)
    informative = [0, 2, 3, 5]
    for scope in attacks.SCOPES:
        mask = attacks.scope_mask(scope, n, informative)
        for eps in (0.0, 0.05, 0.2, 0.35, 0.5):
            exact = attacks.threshold_crossable(rule, X, mask, eps)
            assert np.array_equal(exact, brute_force_fooled(rule, X, mask, eps)), (scope, eps)


def test_rules_get_exact_rows_and_ignore_their_irrelevant_features(data, points):
    X, y = points
    informative = data.truth["informative"]
    rule = Rule(informative, np.full(len(informative), 0.5))
    table = attacks.evaluate(rule, X, y, informative, SETTINGS, seed=2)
    assert set(table.attack) == {attacks.EXACT, *attacks.NOISE_ATTACKS}
    irrelevant = table[table.scope == "irrelevant"]
    assert np.allclose(irrelevant.robust_acc, irrelevant.clean_acc)
    exact = _curve(table, attacks.EXACT, "all")
    assert exact.diff().dropna().le(0).all()
    # eps = 0.5 reaches the threshold from any value in [0, 1]: only noise-pushed points survive.
    inside = ((X[:, informative] >= 0) & (X[:, informative] <= 1)).all(axis=1)
    assert exact[0.5] <= 1 - inside.mean() + 1e-12


def test_a_model_with_neither_logit_nor_rule_is_refused(points):
    class Opaque:
        def predict(self, X):
            return np.zeros(len(X), dtype=np.int64)

    X, y = points
    with pytest.raises(attacks.DataError, match="Opaque"):
        attacks.evaluate(Opaque(), X, y, [0, 1], SETTINGS, seed=0)


def test_attack_points_are_a_seeded_subsample():
    rows = np.arange(100, 300)
    first = attacks.attack_points(rows, 50, seed=1, n=9, repeat=0)
    assert np.array_equal(first, attacks.attack_points(rows, 50, seed=1, n=9, repeat=0))
    assert len(np.unique(first)) == 50 and np.isin(first, rows).all()
    assert not np.array_equal(first, attacks.attack_points(rows, 50, seed=1, n=9, repeat=1))
    assert np.array_equal(attacks.attack_points(rows, 500, seed=1, n=9, repeat=0), rows)


# ---------------------------------------------------------------------------- the quick study


@pytest.mark.workflow
def test_quick_run_attacks_every_fitted_model(quick_run):
    results = quick_run.directory / "results"
    table = pd.read_csv(results / "adversarial.csv")
    assert list(table.columns) == attacks.COLUMNS
    assert set(table.model) == {"mlp", "mlp_tuned", "poly_logreg", "fso_logreg", "xor_oracle", "parity_gf2"}
    rules = table.model.isin(["xor_oracle", "parity_gf2"])
    assert set(table[rules].attack) == {attacks.EXACT, *attacks.NOISE_ATTACKS}
    # LR with FSO is differentiable and also computes its exact worst case.
    fso = table.model == "fso_logreg"
    assert set(table[fso].attack) == {attacks.EXACT, *attacks.GRADIENT_ATTACKS, *attacks.NOISE_ATTACKS}
    assert set(table[~rules & ~fso].attack) == {*attacks.GRADIENT_ATTACKS, *attacks.NOISE_ATTACKS}
    assert (table.bound == table.attack.map(attacks.BOUNDS)).all()
    at_zero = table[table.eps == 0]
    assert np.allclose(at_zero.robust_acc, at_zero.clean_acc)
    strongest = table[table.attack.isin(["pgd", attacks.EXACT])]
    for _, curve in strongest.groupby(["model", "n", "repeat", "scope", "attack"]):
        assert curve.sort_values("eps").robust_acc.diff().dropna().le(0).all()
    # The rules read only informative features (which they found): irrelevant noise cannot move them.
    irrelevant = table[rules & (table.scope == "irrelevant")]
    assert np.allclose(irrelevant.robust_acc, irrelevant.clean_acc)
    carbon = pd.read_csv(results / "carbon.csv")
    attacked = carbon[carbon.stage == "attack"]
    assert set(attacked.model) >= set(table.model)


class Confident(TinyNet):
    """The same network with its logit multiplied by 10^4: same decisions, saturated sigmoid."""

    def logit(self, X: torch.Tensor) -> torch.Tensor:
        return super().logit(X) * 1e4


def test_a_confident_model_is_attacked_as_hard_no_gradient_masking(net, points, data):
    X, y = points
    confident = Confident(net.net, net.mean, net.std)
    assert np.array_equal(confident.predict(X), net.predict(X))
    settings = attacks.AttackSettings(eps=(0, 0.1, 0.2), points=len(X), pgd_restarts=1, noise_draws=1,
                                      methods=attacks.GRADIENT_ATTACKS)
    plain = attacks.evaluate(net, X, y, data.truth["informative"], settings, seed=3)
    scaled = attacks.evaluate(confident, X, y, data.truth["informative"], settings, seed=3)
    assert plain.robust_acc.min() < 0.5
    assert np.allclose(plain.robust_acc, scaled.robust_acc, atol=2 / len(X))
