"""What a model declares about itself, and what every model's ``fit`` receives.

A model's ``ModelSpec`` is data, imported when the workflow is planned: it must not pull in
torch or scikit-learn (a model module imports those inside ``fit``/``load``, or keeps its
implementation in a module of its own). Everything the workflow, the summaries and the report
need to know about a model — its label, what it writes, what it costs, whether attacks apply —
is read from here instead of from lists of model names elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from kryptonite_n.data import Split

#: How a model decides, which says how it can be attacked:
#: ``differentiable`` offers ``logit`` (gradient attacks: FGSM, BIM, PGD);
#: ``threshold`` is a parity of thresholded features (its worst case is computed exactly);
#: ``opaque`` offers neither, and is not attacked.
Decision = Literal["differentiable", "threshold", "opaque"]


@dataclass(frozen=True)
class Resources:
    """What one fit job (every repeat of one n) needs, for the scheduler and SLURM."""

    mem_mb: int = 500
    #: Added per feature: memory that grows with n.
    mem_mb_per_feature: int = 0
    runtime_min: int = 5

    def at(self, n: int) -> dict[str, int]:
        return {"mem_mb": self.mem_mb + self.mem_mb_per_feature * int(n), "runtime": self.runtime_min}


@dataclass(frozen=True)
class ModelSpec:
    """A model's description of itself. ``name`` is its module's name and its config key."""

    name: str
    #: How the report names it, and what it is, in one line. ``description`` may name the
    #: model's settings as ``{setting}``; the report fills them from the configuration.
    label: str
    description: str
    decision: Decision
    #: True when the model is handed the informative features chosen by their noise shape,
    #: so its accuracy says nothing about learning the parity from the labelled rows.
    oracle_assisted: bool = False
    #: The ``details`` key under which a fitted model names the feature set it uses, when it
    #: names one (collected into results/support.csv and compared with the truth).
    feature_set_key: str | None = None
    #: Tables the model writes beside each repeat's metrics, as ``{table}.csv``.
    tables: tuple[str, ...] = ()
    resources: Resources = field(default_factory=Resources)
    #: Modules the fit needs, imported by the driver before it starts timing the fit.
    imports: tuple[str, ...] = ()
    #: The network the analysis looks inside (weight matrices, activation variants, robustness
    #: by activation): one model of the registry says so.
    inspected: bool = False
    #: The model whose settings a search (kryptonite_n.tuning) chooses for this one: its settings
    #: are that search's best trial, never configured, so it runs only where the search does.
    tunes: str | None = None
    #: The mock paper's own failing baseline: the claim this study answers.
    claim_baseline: bool = False
    #: True when the fit reads the validation rows (early stopping); others are given none.
    uses_validation: bool = False
    #: The size of the model's feature expansion at n with these settings, when that size is
    #: what limits where it can run (the scaling stage reports it).
    basis_size: Callable[[Mapping[str, Any], int], int] | None = None
    #: Why the model does not run at n with these settings, when it is a reason a reader
    #: should see (e.g. the expansion would be too large); None gives the generic note.
    explain_skip: Callable[[Mapping[str, Any], int], str | None] | None = None
    #: Why the model cannot run at n with these settings (a limit of the model, not of the
    #: configuration, e.g. an expansion past its size limit), or None when it can: the plan
    #: leaves such n out (``config.skip_reason``) and the summary gives this as its note.
    beyond_limits: Callable[[Mapping[str, Any], int], str | None] | None = None
    #: Settings that ``config.model_settings`` takes only from n's own ``by_n`` row, never from
    #: the nearest n's: settings that follow the data's structure rather than carry over.
    own_n_settings: tuple[str, ...] = ()
    #: The published-data reference (``bayes.bayes_source``) made by this model's own rule, if
    #: any: the model agreeing with that reference proves nothing, and the pages never say it
    #: reaches the limit.
    reference_rule: str | None = None

    @property
    def learns_from_labels(self) -> bool:
        return not self.oracle_assisted

    @property
    def attackable(self) -> bool:
        return self.decision != "opaque"


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

    def shape_failure(self, repeat_index: int) -> str | None:
        """Why the shapes separate no family on this repeat's training rows (None: they do)."""
        failures = self.shape_failure_by_repeat
        return failures[repeat_index] if repeat_index < len(failures) else None

    def part(self, repeat_index: int, role: str) -> tuple[np.ndarray, np.ndarray]:
        rows = getattr(self.splits[repeat_index], role)
        return self.X[rows], self.y[rows]
