"""Adversarial and random-noise robustness of the fitted models, in raw feature units.

Threat model: an L-infinity perturbation of at most ``eps`` per feature, in the units of the
data (bits sit at 0 and 1, so a bit is decided at 0.5), applied to one of three scopes of
features: ``all``, the ``informative`` ones, or the ``irrelevant`` ones. The informative set
is the true one (``truth.json``) when known, else the one inferred from noise shapes.

Attacks
* Differentiable models (``logit``): FGSM, BIM and PGD (Madry: random start, restarts) from the
  adversarial-robustness-toolbox. A single-logit binary model is wrapped as the two logits
  ``[0, z]`` under cross-entropy with the true labels passed explicitly: softmax of ``[0, z]`` is
  the sigmoid of ``z``, so this is exactly the model's own loss, and ART's single-output path
  (which silently weakens attacks) is never used. The loss is summed, and each row's logit is
  rescaled (sign kept, see ``two_logits``) so that confident points keep a gradient. Every
  (scope, eps) pair is stacked into one array with per-row ``eps`` and ``mask``, so one ART
  call attacks them all.
  PGD keeps the worst case over its restarts (ART) and over the eps grid: a point fooled at eps
  stays fooled at every larger eps, by carrying its adversarial point forward (it lies inside
  the larger box), so PGD accuracy is non-increasing in eps by construction.
* Threshold rules (``features``, ``thresholds``): prediction is the parity of
  ``X[:, features] > thresholds``, so the worst case is exact: a point can be flipped iff one
  rule feature in scope can cross its threshold within eps. It is computed, not searched, and
  reported as attack ``exact`` (gradient attacks are meaningless on a step function).
* Models that compute their own worst case (``prediction_changeable``: LR with FSO, whose
  decision is monotone in one product of features) get the gradient attacks and ``exact``
  too; ``exact`` is then at most every searched attack's accuracy.
* Every row says what its number is (``bound``): ``exact`` worst case, ``upper`` bound on it
  (FGSM, BIM and PGD find adversarial points; a miss is not a proof), or ``average`` (noise).
* Random noise for every model, at the same budgets: ``uniform`` in the box, and ``gaussian``
  with sigma = eps clipped to the box (so that noise stays inside the threat model); the mean
  accuracy over ``noise_draws`` draws.

Scoring
* ``robust_acc`` is against the original label. For attacks (gradient and exact) a point counts
  only if it is correct clean and under attack (the attacker may always choose no
  perturbation), so ``robust_acc <= clean_acc``; for noise it is plain accuracy on noisy points.
* A perturbation that moves an informative feature across 0.5 changes the true label too.
  ``label_preserving_acc`` is the same score over the points whose true label cannot change
  within eps: every true informative feature in scope lies further than eps from 0.5. In scope
  ``irrelevant`` that is every point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n import streams
from kryptonite_n.compute.explore import read_informative
from kryptonite_n.io import DataError

log = logging.getLogger(__name__)

SCOPES = ("all", "informative", "irrelevant")
GRADIENT_ATTACKS = ("fgsm", "bim", "pgd")
NOISE_ATTACKS = ("uniform", "gaussian")
EXACT = "exact"
#: What a row's robust accuracy is: the exact worst case, an upper bound on it (an attack
#: searched and may have missed adversarial points), or an average over random draws.
BOUNDS = {EXACT: "exact", **{m: "upper" for m in GRADIENT_ATTACKS}, **{m: "average" for m in NOISE_ATTACKS}}
RESULT_COLUMNS = ["scope", "attack", "bound", "eps", "clean_acc", "robust_acc", "label_preserving_acc",
                  "points",
                  "label_preserving_points"]
COLUMNS = ["model", "n", "repeat", *RESULT_COLUMNS]
#: Total distance a BIM run can travel, in eps: Kurakin et al. run min(eps + 4, 1.25 eps) steps of 1.
BIM_TRAVEL = 1.25
#: Total distance a PGD run can travel, in eps: the usual 2.5 eps of Madry-style evaluations.
PGD_TRAVEL = 2.5


@dataclass(frozen=True)
class AttackSettings:
    """The ``attacks`` section of the config (without ``enabled`` and ``models``)."""

    eps: tuple[float, ...] = (0, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
    scopes: tuple[str, ...] = SCOPES
    methods: tuple[str, ...] = (*GRADIENT_ATTACKS, *NOISE_ATTACKS)
    points: int = 500
    bim_steps: int = 10
    pgd_steps: int = 20
    pgd_restarts: int = 3
    noise_draws: int = 5

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> AttackSettings:
        known = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in section.items() if k in known}
        return cls(**values)

    @property
    def eps_grid(self) -> list[float]:
        """The budgets in increasing order (carrying PGD points forward needs the order)."""
        return sorted({float(e) for e in self.eps})


# --------------------------------------------------------------------------- scopes and labels


def scope_mask(scope: str, n: int, informative: list[int]) -> np.ndarray:
    """Which of the n features an attack in ``scope`` may move."""
    informative_mask = np.zeros(n, dtype=bool)
    informative_mask[list(informative)] = True
    if scope == "all":
        return np.ones(n, dtype=bool)
    if scope == "informative":
        return informative_mask
    if scope == "irrelevant":
        return ~informative_mask
    raise ValueError(f"unknown scope {scope!r}; expected one of {SCOPES}")


def label_fixed(X: np.ndarray, informative: list[int], mask: np.ndarray, eps: float) -> np.ndarray:
    """Rows whose true label cannot change within eps: no in-scope informative bit can cross 0.5."""
    moved = [j for j in informative if mask[j]]
    if not moved:
        return np.ones(len(X), dtype=bool)
    distance = np.abs(np.asarray(X, dtype=np.float64)[:, moved] - 0.5)
    return (distance > eps).all(axis=1)


# --------------------------------------------------------------------------- model kinds


def is_differentiable(predictor: Any) -> bool:
    return callable(getattr(predictor, "logit", None))


def has_exact_worst_case(predictor: Any) -> bool:
    """Models that compute their own exact worst case (``prediction_changeable``), e.g. LR with FSO."""
    return callable(getattr(predictor, "prediction_changeable", None))


def is_threshold_rule(predictor: Any) -> bool:
    has_rule = hasattr(predictor, "features") and hasattr(predictor, "thresholds")
    return has_rule and not is_differentiable(predictor)


def threshold_crossable(predictor: Any, X: np.ndarray, mask: np.ndarray, eps: float) -> np.ndarray:
    """Exact worst case of a parity-of-thresholds rule: can one in-scope rule feature cross?

    The rule reads ``x > t``: a feature above its threshold crosses when it can reach ``t``
    (``x - t <= eps``), one at or below when it can pass it (``t - x < eps``). Flipping one
    bit flips the parity; nothing that crosses no threshold changes the prediction.
    """
    features = np.asarray(predictor.features, dtype=np.int64)
    thresholds = np.asarray(predictor.thresholds, dtype=np.float64).reshape(-1)
    keep = mask[features] if len(features) else np.zeros(0, dtype=bool)
    if not keep.any() or eps <= 0:
        return np.zeros(len(X), dtype=bool)
    values = np.asarray(X, dtype=np.float64)[:, features[keep]]
    limits = thresholds[keep]
    above = values > limits
    crossable = np.where(above, values - limits <= eps, limits - values < eps)
    return crossable.any(axis=1)


# --------------------------------------------------------------------------- ART wrapping


#: Each row's logit is scaled into [-LOGIT_BOUND, LOGIT_BOUND] before the loss (see two_logits).
LOGIT_BOUND = 20.0


def two_logits(predictor: Any):
    """A torch module presenting a single-logit binary predictor as the two logits ``[0, z]``.

    Cross-entropy over ``[0, z]`` is the model's own log loss (softmax of ``[0, z]`` is the
    sigmoid of ``z``); its gradient in x is ``(sigmoid(z) - y) * dz/dx``. A confident model
    saturates the sigmoid (exactly 1 beyond |z| ~ 17 in float32, ~ 37 in float64), the
    gradient becomes exactly zero and sign-gradient attacks stall: gradient masking. Each
    row's logit is therefore divided by a detached factor that keeps it within
    ``LOGIT_BOUND``: a positive rescaling changes neither the predicted class nor the sign of
    any gradient entry, which is all FGSM, BIM and PGD use, so the attacks are unchanged
    where nothing saturates and stay live where something would.
    """
    import torch

    class TwoLogits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.predictor = predictor

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            z = self.predictor.logit(x.to(torch.float32)).reshape(-1).to(torch.float64)
            z = z / torch.clamp(z.detach().abs() / LOGIT_BOUND, min=1.0)
            return torch.stack([torch.zeros_like(z), z], dim=1)

    return TwoLogits()


def art_classifier(predictor: Any, n: int):
    """An ART PyTorchClassifier around ``predictor.logit`` (two classes, cross-entropy, no clipping).

    Its ``predict`` is one tensor pass: ART's own feeds a DataLoader row by row, which costs
    more than the attack on thousands of stacked rows. Nothing here uses ART preprocessing.
    """
    import torch
    from art.estimators.classification import PyTorchClassifier

    class OnePassClassifier(PyTorchClassifier):
        def predict(self, x: np.ndarray, batch_size: int = 128, training_mode: bool = False,
                    **kwargs) -> np.ndarray:
            self._model.train(mode=training_mode)
            with torch.no_grad():
                outputs = self._model(torch.from_numpy(np.asarray(x, dtype=np.float32)))[-1]
            return outputs.numpy()

    return OnePassClassifier(
        model=two_logits(predictor), loss=torch.nn.CrossEntropyLoss(reduction="sum"),
        input_shape=(n,), nb_classes=2, clip_values=None, device_type="cpu",
    )


def _sign_step(attack_class: type) -> type:
    """``attack_class`` with ART's L-infinity gradient step vectorised.

    ART 1.20.1's ``FastGradientMethod._compute_perturbation`` (shared by its numpy PGD) checks
    every row for NaN in a Python loop whenever the gradient has none, which dominates the
    run time on thousands of stacked rows. This step is the same: NaN gradients become 0,
    masked features get 0, and the L-infinity steepest-ascent direction is the sign.
    """

    class SignStep(attack_class):
        def _compute_perturbation(self, x, y, mask, decay=None, momentum=None):
            if decay is not None:
                raise NotImplementedError("momentum is not used here")
            grad = self.estimator.loss_gradient(x, y) * (1 - 2 * int(self.targeted))
            grad = np.where(np.isnan(grad), 0.0, grad)
            if mask is not None:
                grad = np.where(mask == 0.0, 0.0, grad)
            return np.sign(grad).astype(x.dtype)

    SignStep.__name__ = f"{attack_class.__name__}SignStep"
    return SignStep


def art_attack(classifier: Any, method: str, X: np.ndarray, y: np.ndarray, eps: np.ndarray,
               mask: np.ndarray, settings: AttackSettings, seed: int) -> np.ndarray:
    """Run one ART attack on rows ``X`` with per-row budgets ``eps`` (rows,) and masks (rows, n).

    True labels are passed, so the attacks push away from the truth rather than from the
    model's own prediction. All rows form one ART batch: ART slices per-row budgets only when
    they match the whole input, and one batch is also the fastest. The numpy implementations
    are used because ART's PyTorch PGD collates its input one row at a time; BIM is ART's
    PGD without random start, which is exactly what ART's BasicIterativeMethod is.
    """
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescentNumpy

    X = np.ascontiguousarray(X, dtype=np.float32)
    budget = np.repeat(np.asarray(eps, dtype=np.float32)[:, None], X.shape[1], axis=1)
    batch_size = len(X)
    # ART draws PGD's random starts from numpy's global generator.
    np.random.seed(seed % 2**32)
    if method == "fgsm":
        attack = _sign_step(FastGradientMethod)(classifier, norm=np.inf, eps=budget, eps_step=budget,
                                                batch_size=batch_size)
    elif method in ("bim", "pgd"):
        steps = settings.bim_steps if method == "bim" else settings.pgd_steps
        travel = BIM_TRAVEL if method == "bim" else PGD_TRAVEL
        attack = _sign_step(ProjectedGradientDescentNumpy)(
            classifier, norm=np.inf, eps=budget, eps_step=budget * np.float32(travel / steps), max_iter=steps,
            num_random_init=0 if method == "bim" else settings.pgd_restarts, batch_size=batch_size,
            verbose=False,
        )
    else:
        raise ValueError(f"unknown gradient attack {method!r}; expected one of {GRADIENT_ATTACKS}")
    adversarial = attack.generate(X, y=np.asarray(y, dtype=np.int64), mask=mask.astype(np.float32))
    # Guard the threat model against rounding: stay inside the box and the scope.
    limit = budget * mask
    return X + np.clip(adversarial - X, -limit, limit)


# --------------------------------------------------------------------------- evaluation


def _predict(predictor: Any, X: np.ndarray, chunk: int = 8192) -> np.ndarray:
    parts = [np.asarray(predictor.predict(X[start:start + chunk])) for start in range(0, len(X), chunk)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def _row(scope: str, attack: str, eps: float, clean_correct: np.ndarray, robust: np.ndarray,
         fixed: np.ndarray) -> dict[str, Any]:
    """One result row; ``robust`` is (rows,) or (draws, rows) of correct-under-attack flags."""
    robust = np.atleast_2d(robust)
    return {
        "scope": scope, "attack": attack, "bound": BOUNDS[attack], "eps": eps,
        "clean_acc": float(clean_correct.mean()),
        "robust_acc": float(robust.mean()),
        "label_preserving_acc": float(robust[:, fixed].mean()) if fixed.any() else float("nan"),
        "points": len(clean_correct),
        "label_preserving_points": int(fixed.sum()),
    }


def _blocks(scopes: list[str], grid: list[float]) -> list[tuple[str, float]]:
    return [(scope, eps) for scope in scopes for eps in grid if eps > 0]


def gradient_rows(predictor: Any, X: np.ndarray, y: np.ndarray, masks: dict[str, np.ndarray],
                  fixed: dict[tuple[str, float], np.ndarray], clean_correct: np.ndarray,
                  settings: AttackSettings, seed: int, chunk_rows: int | None = None) -> list[dict]:
    """FGSM, BIM and PGD through ART on every (scope, eps) at once.

    ``chunk_rows`` caps the stacked rows per ART call (whole (scope, eps) blocks) for models
    whose logit is memory-hungry; None attacks every block in one call.
    """
    grid = settings.eps_grid
    scopes = list(settings.scopes)
    blocks = _blocks(scopes, grid)
    methods = [m for m in GRADIENT_ATTACKS if m in settings.methods]
    points = len(X)
    per_call = len(blocks) if chunk_rows is None else max(1, chunk_rows // max(points, 1))
    classifier = art_classifier(predictor, X.shape[1]) if blocks and methods else None
    rows = []
    for k, method in enumerate(methods):
        adversarial = {}
        for start in range(0, len(blocks), per_call):
            part = blocks[start:start + per_call]
            attacked = art_attack(
                classifier, method, np.tile(X, (len(part), 1)), np.tile(y, len(part)),
                np.repeat([eps for _, eps in part], points),
                np.repeat(np.stack([masks[scope] for scope, _ in part]), points, axis=0),
                settings, seed + 7919 * k + start,
            )
            adversarial |= {block: attacked[b * points:(b + 1) * points] for b, block in enumerate(part)}
        for scope in scopes:
            previous, previous_fooled = X, ~clean_correct
            for eps in grid:
                if eps == 0:
                    points_now, fooled = X, ~clean_correct
                else:
                    points_now = adversarial[(scope, eps)]
                    fooled = _predict(predictor, points_now) != y
                    if method == "pgd":
                        # A point fooled inside the smaller box is fooled inside this one.
                        carry = previous_fooled & ~fooled
                        points_now = np.where(carry[:, None], previous, points_now)
                        fooled = fooled | carry
                robust = clean_correct & ~fooled
                rows.append(_row(scope, method, eps, clean_correct, robust, fixed[(scope, eps)]))
                previous, previous_fooled = points_now, fooled
    return rows


def exact_rows(predictor: Any, X: np.ndarray, masks: dict[str, np.ndarray],
               fixed: dict[tuple[str, float], np.ndarray], clean_correct: np.ndarray,
               settings: AttackSettings) -> list[dict]:
    """The exact worst case at every (scope, eps): threshold rules, or a model's own computation."""
    rows = []
    for scope in settings.scopes:
        for eps in settings.eps_grid:
            if has_exact_worst_case(predictor):
                changeable = predictor.prediction_changeable(X, masks[scope], eps) if eps > 0 \
                    else np.zeros(len(X), dtype=bool)
            else:
                changeable = threshold_crossable(predictor, X, masks[scope], eps)
            robust = clean_correct & ~changeable
            rows.append(_row(scope, EXACT, eps, clean_correct, robust, fixed[(scope, eps)]))
    return rows


def noise_rows(predictor: Any, X: np.ndarray, y: np.ndarray, masks: dict[str, np.ndarray],
               fixed: dict[tuple[str, float], np.ndarray], clean_correct: np.ndarray,
               settings: AttackSettings, seed: int) -> list[dict]:
    """Random noise in the box: every (scope, eps, draw) predicted in one stacked call."""
    grid = settings.eps_grid
    scopes = list(settings.scopes)
    blocks = _blocks(scopes, grid)
    draws = settings.noise_draws
    rows = []
    for k, method in enumerate(m for m in NOISE_ATTACKS if m in settings.methods):
        rng = streams.rng("noise_attack", seed=seed, method=k)
        correct = {}
        if blocks:
            shape = (len(blocks), draws, *X.shape)
            budget = np.array([eps for _, eps in blocks])[:, None, None, None]
            scope_masks = np.stack([masks[scope] for scope, _ in blocks])[:, None, None, :]
            if method == "uniform":
                noise = rng.uniform(-1.0, 1.0, shape) * budget
            else:
                noise = np.clip(rng.normal(0.0, 1.0, shape) * budget, -budget, budget)
            noisy = (X[None, None] + noise * scope_masks).astype(np.float32)
            predicted = _predict(predictor, noisy.reshape(-1, X.shape[1])).reshape(shape[:3])
            correct = {block: predicted[b] == y for b, block in enumerate(blocks)}
        for scope in scopes:
            for eps in grid:
                robust = clean_correct if eps == 0 else correct[(scope, eps)]
                rows.append(_row(scope, method, eps, clean_correct, robust, fixed[(scope, eps)]))
    return rows


def evaluate(predictor: Any, X: np.ndarray, y: np.ndarray, informative: list[int],
             settings: AttackSettings, seed: int, chunk_rows: int | None = None) -> pd.DataFrame:
    """Every configured attack, scope and eps on the points ``X`` with labels ``y``."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    n = X.shape[1]
    masks = {scope: scope_mask(scope, n, informative) for scope in settings.scopes}
    fixed = {(scope, eps): label_fixed(X, informative, masks[scope], eps)
             for scope in settings.scopes for eps in settings.eps_grid}
    clean_correct = _predict(predictor, X) == y
    rows = []
    if any(m in settings.methods for m in GRADIENT_ATTACKS):
        if is_differentiable(predictor):
            rows += gradient_rows(predictor, X, y, masks, fixed, clean_correct, settings, seed, chunk_rows)
            if has_exact_worst_case(predictor):
                rows += exact_rows(predictor, X, masks, fixed, clean_correct, settings)
        elif is_threshold_rule(predictor):
            rows += exact_rows(predictor, X, masks, fixed, clean_correct, settings)
        else:
            raise DataError(f"{type(predictor).__name__}: neither a logit nor a threshold rule to attack")
    rows += noise_rows(predictor, X, y, masks, fixed, clean_correct, settings, seed)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


# --------------------------------------------------------------------------- jobs


def attack_points(test_rows: np.ndarray, points: int, seed: int, n: int, repeat: int) -> np.ndarray:
    """A seeded subsample of a repeat's test rows, the same for every model of that (n, repeat)."""
    rng = streams.rng("attack_points", seed=seed, n=n, repeat=repeat)
    if points >= len(test_rows):
        return np.asarray(test_rows)
    return np.sort(rng.choice(test_rows, size=points, replace=False))


def informative_set(truth: dict | None, features_csv: Path | str) -> list[int]:
    """The true informative set when the data was generated, else the inferred one."""
    if truth and truth.get("informative") is not None:
        return [int(j) for j in truth["informative"]]
    return read_informative(features_csv)


