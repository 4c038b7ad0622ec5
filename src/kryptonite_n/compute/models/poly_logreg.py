"""Polynomial-basis logistic regression: interaction-only monomials of the standardised
features, L1 or L2 penalty, trained by minibatch SGD (implementation: ``kryptonite_n.compute.polynomial``).
"""

from __future__ import annotations

import numpy as np

from kryptonite_n.compute.polynomial import PolyLogregPredictor
from kryptonite_n.compute.polynomial import fit as train
from kryptonite_n.compute.polynomial import load as load_predictor
from kryptonite_n.contract import FitTask


def fit(task: FitTask) -> list[PolyLogregPredictor]:

    return train(task)


def load(arrays: dict[str, np.ndarray]) -> PolyLogregPredictor:

    return load_predictor(arrays)
