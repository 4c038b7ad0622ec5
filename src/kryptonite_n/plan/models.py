"""Every model of the study as data: what it is, what it writes and costs, where it can run.

The plan, the summaries and the report read a model from here, never from a list of names
elsewhere; its implementation (``fit``/``load``) is ``kryptonite_n.compute.models.<name>``.
This module is planning data: it imports nothing of the compute stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kryptonite_n.contract import CROSS_FITTED_PARITY, LABEL_FREE_PARITY
from kryptonite_n.plan import limits

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
class Limits:
    """The largest n and training-rows multiple the scaling stage fits a model at (None: no
    limit); ``scaling.models.<model>`` overrides a spec's own."""

    max_n: int | None = None
    max_rows_factor: float | None = None
    #: Where each limit comes from: the configuration ("config") or the model's spec ("spec").
    set_in: tuple[str, str] = ("spec", "spec")

    def _key(self, model: str, which: int) -> str:
        name = ("max_n", "max_rows_factor")[which]
        if self.set_in[which] == "config":
            return f"scaling.models.{model}.{name}"
        return f"{model}'s spec's {name}"

    def note(self, model: str, n: int, factor: float) -> str | None:
        """Why the cell is not fitted, or None when it is within the limits."""
        if self.max_n is not None and n > self.max_n:
            return f"not fitted: n = {n} is beyond {self._key(model, 0)} = {self.max_n}"
        if self.max_rows_factor is not None and factor > self.max_rows_factor:
            return (f"not fitted: {factor:g}x the published rows is beyond "
                    f"{self._key(model, 1)} = {self.max_rows_factor:g}")
        return None


@dataclass(frozen=True)
class ModelSpec:
    """A model's description of itself. ``name`` is its config key and the name of its
    implementation, ``kryptonite_n.compute.models.<name>``."""

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
    #: True when the predictor offers ``probability(X)``, its probability of label 1 per row:
    #: the fit saves it for the test and hidden rows (calibration, ensembles, the submitted
    #: probabilities). A model that outputs a label only says so by leaving it False.
    probabilities: bool = False
    #: Tables the model writes beside each repeat's metrics, as ``{table}.csv``.
    tables: tuple[str, ...] = ()
    resources: Resources = field(default_factory=Resources)
    #: Where the scaling stage stops fitting it (every n up to 90 and 4x the published rows
    #: otherwise, the default grid); ``scaling.models.<name>`` may set others.
    scaling: Limits = field(default_factory=Limits)
    #: Third-party modules the fit needs, imported by the driver (with the model's own module)
    #: before it starts timing the fit.
    imports: tuple[str, ...] = ()
    #: The network the analysis looks inside (weight matrices, activation variants, robustness
    #: by activation): one model of the registry says so.
    inspected: bool = False
    #: The model whose settings a search (kryptonite_n.compute.tuning) chooses for this one: its settings
    #: are that search's best trial, never configured, so it runs only where the search does.
    tunes: str | None = None
    #: The mock paper's own failing baseline: the claim this study answers.
    claim_baseline: bool = False
    #: A classic baseline of the usual toolbox (issue: "what does an off-the-shelf model do"):
    #: not attacked unless ``attacks.models`` names it (it sits at chance past n = 9).
    classic_baseline: bool = False
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


MLP = ModelSpec(
    name="mlp",
    probabilities=True,
    label="MLP",
    description="one hidden layer of {hidden_units} units, the response paper's settings per n",
    decision="differentiable",
    uses_validation=True,
    inspected=True,
    tables=("history",),
    # The full run's peaks (benchmarks/bench_workflow.py --full): 884 MB and 132 s at n = 45.
    resources=Resources(mem_mb=400, mem_mb_per_feature=22, runtime_min=15),
)

MLP_TUNED = ModelSpec(
    name="mlp_tuned",
    probabilities=True,
    label="Tuned MLP",
    description="the settings an Optuna search chose per n (see Tuning): one or two hidden layers",
    decision="differentiable",
    uses_validation=True,
    tunes="mlp",
    # Ten repeats of the widest default network (2 x 128 units) at n = 45; the fit job's
    # runtime is sized from tuning.max_epochs (kryptonite_n.compute.tuning.refit_runtime).
    resources=Resources(mem_mb=500, mem_mb_per_feature=20, runtime_min=30),
)

POLY_LOGREG = ModelSpec(
    name="poly_logreg",
    probabilities=True,
    label="Polynomial LR",
    description="interaction-only polynomial features, logistic regression trained by SGD",
    decision="differentiable",
    feature_set_key="top_monomial",
    tables=("coefficients",),
    # The full run's peak: 504 MB and 32 s at n = 18.
    resources=Resources(mem_mb=800, runtime_min=5),
    explain_skip=limits.poly_explain_skip,
    beyond_limits=limits.poly_beyond_limits,
    basis_size=limits.poly_basis_size,
    # The degrees follow the parity's size: an n without its own row takes them from its
    # training rows (polynomial.support_degrees), not from another n's.
    own_n_settings=("min_degree", "max_degree"),
)

MOCK_BASELINE = ModelSpec(
    name="mock_baseline",
    probabilities=True,
    label="Mock baseline",
    description="the mock paper's own baseline: polynomial logistic regression on raw features",
    decision="opaque",
    claim_baseline=True,
    imports=("sklearn.linear_model", "sklearn.pipeline", "sklearn.preprocessing"),
)

XOR_ORACLE = ModelSpec(
    name="xor_oracle",
    label="XOR oracle",
    description="informative features chosen by noise shape, each thresholded, then XOR",
    decision="threshold",
    oracle_assisted=True,
    feature_set_key="features",
    reference_rule=LABEL_FREE_PARITY,
)

FSO_LOGREG = ModelSpec(
    name="fso_logreg",
    probabilities=True,
    label="LR with FSO",
    description="logistic regression on the single product of the standardised informative features",
    decision="differentiable",
    oracle_assisted=True,
    # Imported before the driver starts timing the fit: the import takes seconds.
    imports=("sklearn.linear_model",),
)

PARITY_GF2 = ModelSpec(
    name="parity_gf2",
    label="GF(2) parity",
    description="the parity found by solving the bits-to-label system over GF(2), no noise-shape hint",
    decision="threshold",
    feature_set_key="features",
    reference_rule=CROSS_FITTED_PARITY,
)


# The classic baselines: what an off-the-shelf model of the usual toolbox does with the labelled
# rows. They are references, so the default configuration fits them on n = 9 to 18 with three
# repeats and their own row caps (models.<name>), and the scaling stage maps them at n = 9 only,
# where some of them are off chance: past it they sit at chance (the Models page).
BASELINE_SCALING = Limits(max_n=9, max_rows_factor=1)

SVM_RBF = ModelSpec(
    name="svm_rbf",
    classic_baseline=True,
    label="RBF SVM",
    description="support-vector machine with an RBF kernel on a capped sample of the training rows",
    # Its decision value is no probability (Platt scaling would cost five more fits): a label only.
    decision="opaque",
    imports=("sklearn.svm",),
    scaling=BASELINE_SCALING,
)

RANDOM_FOREST = ModelSpec(
    name="random_forest",
    classic_baseline=True,
    label="Random forest",
    description="{trees} trees of scikit-learn's random forest on a capped sample of the training rows",
    decision="opaque",
    probabilities=True,
    imports=("sklearn.ensemble",),
    scaling=BASELINE_SCALING,
)

KNN = ModelSpec(
    name="knn",
    classic_baseline=True,
    label="k-NN",
    description="k-nearest neighbours (k = {neighbours}) among a capped sample of the training rows",
    decision="opaque",
    probabilities=True,
    imports=("sklearn.neighbors",),
    scaling=BASELINE_SCALING,
)

GRADIENT_BOOSTING = ModelSpec(
    name="gradient_boosting",
    classic_baseline=True,
    label="Gradient boosting",
    description="scikit-learn's histogram gradient-boosted trees, early stopping on the validation rows",
    decision="opaque",
    probabilities=True,
    uses_validation=True,
    imports=("sklearn.ensemble", "scipy.special"),
    scaling=BASELINE_SCALING,
)

CNN = ModelSpec(
    name="cnn",
    classic_baseline=True,
    label="1-D CNN",
    description="two 1-D convolutions ({channels} channels, width {kernel_size}) over the features in order",
    decision="differentiable",
    probabilities=True,
    uses_validation=True,
    scaling=BASELINE_SCALING,
)

#: Every model, in the order the report lists them.
SPECS = (MLP, MLP_TUNED, POLY_LOGREG, MOCK_BASELINE, XOR_ORACLE, FSO_LOGREG, PARITY_GF2,
         SVM_RBF, RANDOM_FOREST, KNN, GRADIENT_BOOSTING, CNN)
MODELS = tuple(s.name for s in SPECS)
_BY_NAME = {s.name: s for s in SPECS}


def spec(model: str) -> ModelSpec:
    if model not in _BY_NAME:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    return _BY_NAME[model]


def specs() -> tuple[ModelSpec, ...]:
    return SPECS


def model_rank(model: str) -> int:
    """A model's place in the report's order; unknown names go last."""
    return MODELS.index(model) if model in MODELS else len(MODELS)


def mappable_models() -> list[str]:
    """The models the scaling stage maps: every one but the mock paper's baseline (the claim the
    study answers, not a learner whose limits are in question) and a tuned model (its settings
    exist only where its search ran: the searched model is mapped)."""
    return [s.name for s in SPECS if not s.claim_baseline and not s.tunes]
