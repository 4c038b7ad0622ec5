"""The response paper's network: one hidden layer, sigmoid output, trained with early stopping.

Its settings per n are the paper's table (``models.mlp.by_n``: n = 9, 12, 15, 18); an n the
paper never had takes the nearest n's row, ties to the smaller n (``config.model_settings``),
and the Models page says which row each such n used.

The predictor is ``kryptonite_n.nets.perceptron``, its trainer ``kryptonite_n.nets.training``
(all repeats of one n train together, stacked; see there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kryptonite_n.models.spec import FitTask, ModelSpec, Resources

if TYPE_CHECKING:
    from kryptonite_n.nets.perceptron import MLPPredictor

SPEC = ModelSpec(
    name="mlp",
    label="MLP",
    description="one hidden layer of {hidden_units} units, the response paper's settings per n",
    decision="differentiable",
    uses_validation=True,
    inspected=True,
    tables=("history",),
    # The full run's peaks (benchmarks/bench_workflow.py --full): 884 MB and 132 s at n = 45.
    resources=Resources(mem_mb=400, mem_mb_per_feature=22, runtime_min=15),
    imports=("kryptonite_n.nets.perceptron", "kryptonite_n.nets.training"),
)


def fit(task: FitTask) -> list[MLPPredictor]:
    from kryptonite_n.nets.training import fit as train

    return train(task)


def load(arrays: dict[str, np.ndarray]) -> MLPPredictor:
    from kryptonite_n.nets.perceptron import load as load_network

    return load_network(arrays)
