"""The response paper's network: one hidden layer, sigmoid output, trained with early stopping.

Its settings per n are the paper's table (``models.mlp.by_n``: n = 9, 12, 15, 18); an n the
paper never had takes the nearest n's row, ties to the smaller n (``config.model_settings``),
and the Models page says which row each such n used.

The predictor is ``kryptonite_n.compute.nets.perceptron``, its trainer ``kryptonite_n.compute.nets.training``
(all repeats of one n train together, stacked; see there).
"""

from __future__ import annotations

import numpy as np

from kryptonite_n.compute.nets.perceptron import MLPPredictor
from kryptonite_n.compute.nets.perceptron import load as load_network
from kryptonite_n.compute.nets.training import fit as train
from kryptonite_n.contract import FitTask


def fit(task: FitTask) -> list[MLPPredictor]:

    return train(task)


def load(arrays: dict[str, np.ndarray]) -> MLPPredictor:

    return load_network(arrays)
