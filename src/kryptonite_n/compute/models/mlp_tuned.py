"""The MLP with the settings an Optuna search chose per n (``kryptonite_n.compute.tuning``), refitted on
every repeat: one or two hidden layers, ReLU/tanh/ELU, SGD with momentum, Adam or AdamW, weight
decay, dropout.

Its settings are not configured: the fit job reads them from the search's trials.csv (the best
completed trial) and passes them here as ``task.settings``. The network and its trainer are the
paper-settings MLP's (``kryptonite_n.compute.nets.perceptron``, ``kryptonite_n.compute.nets.training``), which
also scored the search's trials, seeded per repeat the same way: where the search's best is the
paper's own settings (its warm start), the refit is the paper-settings MLP, bit for bit.
"""

from __future__ import annotations

import numpy as np

from kryptonite_n.compute.nets.perceptron import MLPPredictor
from kryptonite_n.compute.nets.perceptron import layers as network_layers
from kryptonite_n.compute.nets.perceptron import load as load_network
from kryptonite_n.compute.nets.training import fit as train
from kryptonite_n.contract import FitTask


def fit(task: FitTask) -> list[MLPPredictor]:
    """One network per repeat of ``task`` with ``task.settings`` (a search's best)."""

    predictors = train(task)
    for predictor in predictors:
        # The report's learning curves are the paper-settings MLP's (one "history" table per
        # run); the refit's curves stay in its log, the trials' in trials.csv.
        predictor.history = None
    return predictors


def load(arrays: dict[str, np.ndarray]) -> MLPPredictor:

    return load_network(arrays)


def layers(predictor: MLPPredictor) -> list[tuple[str, np.ndarray]]:

    return network_layers(predictor)
