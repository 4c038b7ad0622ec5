"""The MLP with the settings an Optuna search chose per n (``kryptonite_n.tuning``), refitted on
every repeat: one or two hidden layers, ReLU/tanh/ELU, SGD with momentum, Adam or AdamW, weight
decay, dropout.

Its settings are not configured: the fit job reads them from the search's trials.csv (the best
completed trial) and passes them here as ``task.settings``. The network and its trainer are the
paper-settings MLP's (``kryptonite_n.nets.perceptron``, ``kryptonite_n.nets.training``), which
also scored the search's trials, seeded per repeat the same way: where the search's best is the
paper's own settings (its warm start), the refit is the paper-settings MLP, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kryptonite_n.models.spec import FitTask, ModelSpec, Resources

if TYPE_CHECKING:
    from kryptonite_n.nets.perceptron import MLPPredictor

SPEC = ModelSpec(
    name="mlp_tuned",
    label="Tuned MLP",
    description="the settings an Optuna search chose per n (see Tuning): one or two hidden layers",
    decision="differentiable",
    uses_validation=True,
    tunes="mlp",
    # Ten repeats of the widest default network (2 x 128 units) at n = 45; the fit job's
    # runtime is sized from tuning.max_epochs (kryptonite_n.tuning.refit_runtime).
    resources=Resources(mem_mb=500, mem_mb_per_feature=20, runtime_min=30),
    imports=("kryptonite_n.nets.perceptron", "kryptonite_n.nets.training", "kryptonite_n.tuning"),
)


def fit(task: FitTask) -> list[MLPPredictor]:
    """One network per repeat of ``task`` with ``task.settings`` (a search's best)."""
    from kryptonite_n.nets.training import fit as train

    predictors = train(task)
    for predictor in predictors:
        # The report's learning curves are the paper-settings MLP's (one "history" table per
        # run); the refit's curves stay in its log, the trials' in trials.csv.
        predictor.history = None
    return predictors


def load(arrays: dict[str, np.ndarray]) -> MLPPredictor:
    from kryptonite_n.nets.perceptron import load as load_network

    return load_network(arrays)


def layers(predictor: MLPPredictor) -> list[tuple[str, np.ndarray]]:
    from kryptonite_n.nets.perceptron import layers as network_layers

    return network_layers(predictor)
