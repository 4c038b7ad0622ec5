"""The MLP with the settings an Optuna search chose per n (``kryptonite_n.tuning``), refitted on
every repeat: one or two hidden layers, ReLU/tanh/ELU/GELU, SGD with momentum, Adam or AdamW.

Its settings are not configured: the fit job reads them from the search's trials.csv (the best
completed trial) and passes them here as ``task.settings``. The network and its trainer are
``kryptonite_n.nets.tuned``; the same trainer scored the search's trials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kryptonite_n.models.spec import FitTask, ModelSpec, Resources

if TYPE_CHECKING:
    from kryptonite_n.nets.tuned import TunedMLPPredictor

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
    imports=("kryptonite_n.nets.tuned", "kryptonite_n.tuning"),
)


def fit(task: FitTask) -> list[TunedMLPPredictor]:
    """One network per repeat of ``task`` with ``task.settings`` (a search's best)."""
    import torch

    from kryptonite_n.nets.tuned import train_stack

    parts = [(*task.part(i, "train"), *task.part(i, "validation")) for i in range(len(task.splits))]
    seeds = [[task.seed, task.n, repeat, 17] for repeat in task.repeats]
    torch.set_num_threads(max(1, int(task.threads)))
    return train_stack(parts, task.settings, seeds, label=f"mlp_tuned n={task.n}")


def load(arrays: dict[str, np.ndarray]) -> TunedMLPPredictor:
    from kryptonite_n.nets.tuned import load as load_network

    return load_network(arrays)


def layers(predictor: TunedMLPPredictor) -> list[tuple[str, np.ndarray]]:
    from kryptonite_n.nets.tuned import layers as network_layers

    return network_layers(predictor)
