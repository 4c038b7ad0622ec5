"""What the compute stages and the tables agree on: a repeat's split, what a model's ``fit``
receives and returns, and the names of the published-data references.

A low module: it imports nothing of the project, so every layer may import it (models,
networks, attacks and the registry alike) without an import climbing back up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from kryptonite_n.io import DataError

#: Name of the published-data estimate, as written in summary.csv's ``bayes_source``
#: (``compute.bayes``).
LABEL_FREE_PARITY = "label-free parity rule (lower estimate, Wilson 95 %)"
#: The estimate when the noise shapes separate no family (``compute.bayes``).
CROSS_FITTED_PARITY = "cross-fitted GF(2) parity rule (lower estimate, Wilson 95 %)"
#: The reference of generated data: the generator's own Bayes accuracy.
GENERATOR = "generator"


def sample_rows(rng: np.random.Generator, rows: int, cap: int | None) -> np.ndarray:
    """Indices of the rows a capped model trains on: all ``rows``, or a sorted sample of ``cap``
    of them drawn from ``rng`` (the model's own stream)."""
    if cap is None or rows <= int(cap):
        return np.arange(rows)
    return np.sort(rng.choice(rows, size=int(cap), replace=False))


@dataclass
class Split:
    """Index arrays of one repeat's train, validation and test rows."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


class Predictor(Protocol):
    """A fitted model: raw features in, 0/1 labels out, saved as arrays."""

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def arrays(self) -> dict[str, np.ndarray]: ...

    def details(self) -> dict[str, Any]: ...

    def tables(self) -> dict[str, pd.DataFrame]: ...


@dataclass
class FitTask:
    """Everything a model needs to fit every repeat of one n."""

    n: int
    X: np.ndarray
    y: np.ndarray
    splits: list[Split]
    repeats: list[int]
    settings: dict[str, Any]
    seed: int
    #: Per repeat, the features inferred informative from their noise family on that repeat's
    #: training rows only (explore.feature_table): validation and test rows choose nothing.
    informative_by_repeat: list[list[int]] = field(default_factory=list)
    threads: int = 1
    #: Per repeat, why the noise shapes of the training rows separate no family (so a model that
    #: selects by shape is not applicable), or None where they do (``explore.separation``).
    shape_failure_by_repeat: list[str | None] = field(default_factory=list)

    def informative(self, repeat_index: int) -> list[int]:
        return list(self.informative_by_repeat[repeat_index])

    def selected_features(self, repeat_index: int, consequence: str) -> list[int]:
        """The repeat's informative features, sorted, for a model that selects them; DataError
        when there are none, ending with ``consequence`` (what the model cannot do then)."""
        features = sorted(int(j) for j in self.informative(repeat_index))
        if not features:
            raise DataError(f"n={self.n}: no feature was inferred informative on the training rows of "
                            f"repeat {self.repeats[repeat_index]}{consequence}")
        return features

    def shape_failure(self, repeat_index: int) -> str | None:
        """Why the shapes separate no family on this repeat's training rows (None: they do)."""
        failures = self.shape_failure_by_repeat
        return failures[repeat_index] if repeat_index < len(failures) else None

    def part(self, repeat_index: int, role: str) -> tuple[np.ndarray, np.ndarray]:
        rows = getattr(self.splits[repeat_index], role)
        return self.X[rows], self.y[rows]
