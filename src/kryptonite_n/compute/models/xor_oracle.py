"""The XOR oracle: the parity of the informative features, each thresholded at its mean.

The informative set comes from the noise family of each feature (``FitTask.informative``,
inferred on each repeat's training rows only; the response paper used the whole labelled
set, test rows included); the thresholds are the training split's means. It is
*oracle-assisted*: the noise shapes, not the labels, pick its features. When the training
rows' noise shapes separate no family (``explore.separation``: e.g. every feature shares one
noise), it has nothing to select: its fit returns a rule marked ``not_applicable`` with the
reason, which the driver writes as the ``note`` instead of any accuracy. The rule has no
trainable weights, so its accuracy is the data's own ceiling up to the label flips. Its exact
L-infinity robustness at a point is the distance of the nearest selected feature to its
threshold (``ParityRule.margin``): attacks on it can be computed rather than searched.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.contract import FitTask
from kryptonite_n.io import DataError


class ParityRule:
    """Predict the parity of ``X[:, features] > thresholds``, flipped when ``flip`` is 1."""

    def __init__(self, features: list[int], thresholds: np.ndarray, flip: int = 0,
                 extra: dict[str, Any] | None = None) -> None:
        self.features = [int(j) for j in features]
        self.thresholds = np.asarray(thresholds, dtype=np.float64).reshape(-1)
        if len(self.thresholds) != len(self.features):
            raise ValueError(f"{len(self.features)} features but {len(self.thresholds)} thresholds")
        self.flip = int(flip)
        self.extra = dict(extra or {})

    def bits(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X)[:, self.features] > self.thresholds

    def predict(self, X: np.ndarray) -> np.ndarray:
        ones = self.bits(X).sum(axis=1, dtype=np.int64)
        return (ones + self.flip) & 1

    def margin(self, X: np.ndarray) -> np.ndarray:
        """Smallest L-infinity perturbation that changes the prediction at each row.

        Moving one selected feature across its threshold flips the parity, and nothing
        smaller changes any bit. A rule with no features never changes (infinite margin).
        """
        X = np.asarray(X, dtype=np.float64)
        if not self.features:
            return np.full(len(X), np.inf)
        return np.abs(X[:, self.features] - self.thresholds).min(axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        reason = self.extra.get("not_applicable")
        return {
            "features": np.asarray(self.features, dtype=np.int64),
            "thresholds": self.thresholds,
            "flip": np.asarray(self.flip, dtype=np.int64),
            # A text array (no pickle): a loaded rule still says it does not apply.
            **({"not_applicable": np.asarray(str(reason))} if reason else {}),
        }

    def details(self) -> dict[str, Any]:
        return {"features": self.features, "thresholds": self.thresholds.tolist(), "flip": self.flip,
                **self.extra}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}


def load_rule(arrays: dict[str, np.ndarray]) -> ParityRule:
    missing = {"features", "thresholds"} - set(arrays)
    if missing:
        raise DataError(f"model.npz: missing arrays {sorted(missing)} of a parity rule")
    flip = int(arrays["flip"]) if "flip" in arrays else 0
    extra = {"not_applicable": str(arrays["not_applicable"])} if "not_applicable" in arrays else {}
    return ParityRule(arrays["features"].astype(int).tolist(), arrays["thresholds"], flip, extra=extra)


def not_applicable(reason: str) -> ParityRule:
    """A rule that selects nothing, marked so that no accuracy is presented as the model's."""
    return ParityRule([], np.zeros(0), extra={"not_applicable": reason})


def fit(task: FitTask) -> list[ParityRule]:
    """One rule per repeat: the inferred informative features at their training means."""
    rules = []
    for i in range(len(task.repeats)):
        reason = task.shape_failure(i)
        if reason:
            # One wording for every repeat it holds on, so that the summary's note says it once.
            rules.append(not_applicable(f"{reason} on the training rows"))
            continue
        features = task.selected_features(i, "; the XOR oracle has none to select")
        X_train, _ = task.part(i, "train")
        thresholds = np.asarray(X_train[:, features], dtype=np.float64).mean(axis=0)
        rules.append(ParityRule(features, thresholds))
    return rules


def load(arrays: dict[str, np.ndarray]) -> ParityRule:
    return load_rule(arrays)
