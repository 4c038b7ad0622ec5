"""What one configuration of the study builds: which models run on which n, which are attacked
and analysed, and the files each stage reads. The workflow's rules ask this module (through
``workflow/rules/common.smk``); it is plain Python over ``paths`` and the model specs, so it
can be tested without Snakemake, and it imports no plotting or ML stack (every cluster job
parses the workflow again).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kryptonite_n.plan import paths
from kryptonite_n.plan.catalogue import FAMILIES, FIGURE_FILES, figure_names
from kryptonite_n.plan.config import model_dimensions, model_settings
from kryptonite_n.plan.models import MODELS, spec, specs
from kryptonite_n.plan.scaling import scaled_dimensions
from kryptonite_n.plan.tuning import TUNABLE, searches

#: The network the analysis looks inside: the one model with weight matrices to inspect.
(NETWORK_MODEL,) = (s.name for s in specs() if s.inspected)


def expand(pattern: str, **values: Any) -> list[str]:
    """``pattern`` filled with every combination of the given values (scalars or lists) of the
    wildcards it holds; values of wildcards it does not hold are ignored, and the wildcards not
    given stay as they are."""
    used = {key: value for key, value in values.items() if f"{{{key}}}" in pattern}
    lists = [value if isinstance(value, list | tuple) else [value] for value in used.values()]
    filled = []
    for combination in itertools.product(*lists):
        text = pattern
        for key, value in zip(used, combination, strict=True):
            text = text.replace(f"{{{key}}}", str(value))
        filled.append(text)
    return filled


@dataclass
class StudyPlan:
    """The study a (prepared, validated) configuration asks for."""

    config: Mapping[str, Any]
    dimensions: list[int] = field(init=False)
    repeats: list[int] = field(init=False)
    generated: bool = field(init=False)
    #: model -> the n it is fitted on (empty when disabled).
    fitted: dict[str, list[int]] = field(init=False)
    #: model -> the n it is attacked on.
    attacked: dict[str, list[int]] = field(init=False)
    #: The n whose network is analysed.
    analysed: list[int] = field(init=False)
    #: Searched model -> the n its tuned model is fitted on (one Optuna study each).
    tuned: dict[str, list[int]] = field(init=False)
    #: model -> the n it has a scaling job for.
    scaled: dict[str, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        config = self.config
        self.dimensions = list(config["dimensions"])
        self.repeats = list(range(config["repeats"]))
        self.generated = config["data_dir"] is None
        self.fitted = {model: model_dimensions(config, model) for model in MODELS}
        attacks, network = config["attacks"], config["network_analysis"]
        self.attacked = {m: self.fitted[m] for m in attacks["models"]
                         if attacks["enabled"] and self.fitted[m]}
        self.analysed = ([n for n in network["dimensions"] if n in self.fitted[NETWORK_MODEL]]
                         if network["enabled"] else [])
        self.tuned = searches(self.fitted)
        self.scaled = scaled_dimensions(config)

    # ------------------------------------------------------------------ datasets and fits

    @property
    def dataset(self) -> dict[str, str]:
        """The files ``prepare_dataset`` writes; true hidden labels exist only for generated data."""
        return {key: p for key, p in paths.DATASET.items() if self.generated or key != "hidden_y"}

    def per_repeat(self, pattern: str, **wildcards: Any) -> list[str]:
        return expand(pattern, repeat=self.repeats, **wildcards)

    def model_repeats(self, model: str) -> list[int]:
        """The repeats ``model`` is fitted on: the study's first ``models.<model>.repeats`` where
        its configuration limits them (a cheap baseline), else all of them."""
        wanted = self.config["models"].get(model, {}).get("repeats")
        return self.repeats if wanted is None else self.repeats[:int(wanted)]

    def fits(self, pattern: str, models: Mapping[str, Iterable[int]] | None = None) -> list[str]:
        """``pattern`` for every (model, n) fitted (and every repeat it is fitted on if it has one)."""
        models = self.fitted if models is None else models
        return [path for model, dimensions in models.items() for n in dimensions
                for path in expand(pattern, model=model, n=n, repeat=self.model_repeats(model))]

    def probability_dimensions(self) -> list[int]:
        """The n some model with probabilities is fitted on."""
        return sorted({n for dimensions in self.probability_models().values() for n in dimensions})

    def probability_splits(self) -> list[str]:
        """The split files of the n some model with probabilities is fitted on."""
        return expand(paths.SPLIT, n=self.probability_dimensions(), repeat=self.repeats)

    def probability_models(self) -> dict[str, list[int]]:
        """The fitted models that save probabilities (their spec's ``probabilities``)."""
        return {m: d for m, d in self.fitted.items() if d and spec(m).probabilities}

    def fit_outputs(self, model: str, folder: str = paths.FIT) -> dict[str, list[str] | str]:
        """Per-repeat files of one (model, n) fit job, written under ``folder``, and its table."""
        def moved(pattern: str) -> str:
            return pattern.replace(paths.FIT, folder)

        files = {name: moved(p) for name, p in paths.fit_files(spec(model).probabilities).items()}
        files |= {table: moved(paths.FIT_TABLE).replace("{table}", table) for table in spec(model).tables}
        outputs: dict[str, list[str] | str] = {
            name: expand(p, model=model, repeat=self.model_repeats(model)) for name, p in files.items()}
        outputs["table"] = expand(moved(paths.METRICS_TABLE), model=model)[0]
        return outputs

    @property
    def settings_models(self) -> list[str]:
        """Models fitted from their configured settings (a tuned model's come from its search)."""
        return [model for model in MODELS if model not in TUNABLE.values()]

    @property
    def hidden_dimensions(self) -> list[int]:
        """The n some model is fitted on: only those get submitted hidden labels."""
        return sorted({n for dimensions in self.fitted.values() for n in dimensions})

    def chosen_probabilities(self, choice_csv: str) -> dict[int, str]:
        """Per n whose chosen model (``HIDDEN_CHOICE``) has probabilities, its chosen repeat's
        ``hidden_probabilities.npy``: submitted as ``y_probability_{n}.npy``."""
        with open(choice_csv, newline="") as handle:
            rows = list(csv.DictReader(handle))
        return {int(row["n"]): paths.fill(paths.PROBABILITY_FILES["hidden_probabilities"], model=row["model"],
                                          n=row["n"], repeat=row["repeat"])
                for row in rows if row.get("probabilities") == "true"}

    @property
    def support_models(self) -> dict[str, list[int]]:
        """The fitted models whose rule names a feature set."""
        return {m: d for m, d in self.fitted.items() if spec(m).feature_set_key}

    # ------------------------------------------------------------------ targets by stage

    def data_targets(self) -> list[str]:
        return [p for pattern in paths.EXPLORATION.values() for p in expand(pattern, n=self.dimensions)]

    def summary_targets(self) -> list[str]:
        """The summaries; ``y_probability_{n}.npy`` is not among them: which n get one is known
        only once the hidden labels are chosen (a checkpoint, see summary.smk)."""
        targets = [paths.SUMMARY, paths.SUPPORT]
        if self.hidden_dimensions:
            targets += [*expand(paths.HIDDEN_SUBMISSION, n=self.hidden_dimensions), paths.HIDDEN_CHOICE]
        if self.probability_models():
            targets += [paths.CALIBRATION, paths.RELIABILITY]
        if self.generated and self.hidden_dimensions:
            targets.append(paths.ENSEMBLES)
        return targets

    def attack_targets(self) -> list[str]:
        targets = [paths.ADVERSARIAL] if self.attacked else []
        if self.analysed:
            targets += [paths.NETWORK_LAYERS, paths.ACTIVATION_ROBUSTNESS]
            targets += expand(paths.BOUNDARY, n=self.analysed)
        return targets

    def tuning_targets(self) -> list[str]:
        """Every search's trials.csv and importances.csv."""
        return self.fits(paths.TRIALS, self.tuned) + self.fits(paths.IMPORTANCES, self.tuned)

    def upstream_targets(self) -> list[str]:
        """Everything the study builds before its report."""
        return (self.data_targets() + self.fits(paths.METRICS_TABLE) + self.summary_targets()
                + self.attack_targets() + self.tuning_targets() + [paths.CARBON] + self.scaling_targets())

    def scaling_targets(self) -> list[str]:
        """The scaling map, when some model has a scaling job (kryptonite_n.compute.scaling)."""
        return [paths.SCALING] if any(self.scaled.values()) else []

    def scaling_tables(self) -> list[str]:
        """Every scaling job's rows, gathered into the map."""
        return self.fits(paths.SCALING_PART, self.scaled)

    # ------------------------------------------------------------------ tuning

    def worker_records(self, model: str, n: int | str) -> list[str]:
        """The record of every worker sharing the (model, n) search."""
        return expand(paths.TUNING_WORKER, model=model, n=n,
                      worker=list(range(self.config["tuning"]["workers"])))

    # ------------------------------------------------------------------ the network analysis

    def fitted_activation(self, n: int | str) -> str:
        return model_settings(self.config, NETWORK_MODEL, int(n))["activation"]

    def network_activations(self, n: int | str) -> list[str]:
        """The configured activations, plus the fitted network's own if it is not among them."""
        activations = list(self.config["network_analysis"]["activations"])
        if self.fitted_activation(n) not in activations:
            activations.append(self.fitted_activation(n))
        return activations

    def activation_models(self, n: int | str, activation: str) -> list[str]:
        """Per-repeat model files of the n's network with ``activation`` (the fit itself if it has it)."""
        model_file = paths.FIT_FILES["model"]
        if activation == self.fitted_activation(n):
            return expand(model_file, model=NETWORK_MODEL, n=n, repeat=self.repeats)
        return expand(model_file.replace(paths.FIT, paths.VARIANT), n=n, activation=activation,
                      repeat=self.repeats)

    def boundary_entries(self, n: int | str) -> list[dict[str, str]]:
        """(model, activation, file) of every model drawn on the n's decision-boundary slice (repeat 0)."""
        entries = [{"model": NETWORK_MODEL, "activation": a, "file": self.activation_models(n, a)[0]}
                   for a in self.network_activations(n)]
        entries += [{"model": model, "activation": "none",
                     "file": paths.fill(paths.FIT_FILES["model"], model=model, n=n, repeat=self.repeats[0])}
                    for model, dimensions in self.attacked.items()
                    if model != NETWORK_MODEL and int(n) in dimensions]
        return entries

    def boundary_models(self, n: int | str) -> list[str]:
        """The models drawn on the n's decision-boundary slice."""
        return sorted({entry["model"] for entry in self.boundary_entries(n)})

    # ------------------------------------------------------------------ carbon and report

    def carbon_inputs(self) -> list[str]:
        """Every compute job's carbon CSV but the report's (the report reads carbon.csv)."""
        files = [f for pattern in (paths.CARBON_DATA, paths.CARBON_EXPLORE, paths.CARBON_SPLIT)
                 for f in expand(pattern, n=self.dimensions)] + self.fits(paths.CARBON_FIT)
        files += self.fits(paths.CARBON_ATTACK, self.attacked)
        files += [path for path in self.fits(paths.CARBON_TUNE, self.tuned)
                  for path in expand(path, worker=list(range(self.config["tuning"]["workers"])))]
        files += self.fits(paths.CARBON_SCALE, self.scaled)
        for n in self.analysed:
            files += [paths.fill(paths.CARBON_NETWORK, n=n), paths.fill(paths.CARBON_BOUNDARY, n=n)]
            files += [paths.fill(paths.CARBON_VARIANT, n=n, activation=a)
                      for a in self.network_activations(n) if a != self.fitted_activation(n)]
        return files

    def figure_outputs(self, family: str) -> dict[str, str]:
        """The files of every figure of ``family`` this run draws (none when its sources are not built)."""
        return {f"{name}{suffix}": paths.fill(paths.FIGURE, figure=name, kind=kind)
                for name in figure_names(family, self.report_sources())
                for suffix, kind in FIGURE_FILES.items()}

    @cached_property
    def drawn(self) -> dict[str, dict[str, str]]:
        """Figure family -> its files, for the families with at least one figure to draw."""
        outputs = {family: self.figure_outputs(family) for family in FAMILIES}
        return {family: files for family, files in outputs.items() if files}

    def figure_files(self, kind: str = "js") -> list[str]:
        return [p for files in self.drawn.values() for p in files.values() if p.endswith(f".{kind}")]

    def page_sources(self) -> dict[str, list[str]]:
        """The result files the pages quote. The features are drawn from, never quoted."""
        return {key: files for key, files in self.report_sources().items() if files and key != "X"}

    def report_carbon_parts(self) -> list[str]:
        """The carbon CSVs of the report's jobs (gathered into results/carbon/report.csv)."""
        jobs = [f"draw_{family}_figures" for family in self.drawn]
        jobs += ["prepare_assets", "render_pages", "build_site"]
        return [paths.fill(paths.CARBON_REPORT_JOB, job=job) for job in jobs]

    def report_sources(self) -> dict[str, list[str]]:
        """Every result file the report reads, by key; a stage this run does not build gives []."""
        sources = {key: expand(p, n=self.dimensions) for key, p in paths.EXPLORATION.items()}
        sources |= {key: expand(paths.DATASET[key], n=self.dimensions) for key in ("truth", "X", "y")}
        sources["metrics"] = self.fits(paths.METRICS_TABLE)
        for model in MODELS:
            for table in spec(model).tables:
                sources[table] = self.fits(paths.FIT_TABLE.replace("{table}", table),
                                           {model: self.fitted[model]})
        built = set(self.summary_targets() + self.attack_targets())
        for key, path in [("summary", paths.SUMMARY), ("support", paths.SUPPORT),
                          ("calibration", paths.CALIBRATION), ("reliability", paths.RELIABILITY),
                          ("ensembles", paths.ENSEMBLES),
                          ("adversarial", paths.ADVERSARIAL), ("network", paths.NETWORK_LAYERS),
                          ("activation_robustness", paths.ACTIVATION_ROBUSTNESS)]:
            sources[key] = [path] if path in built else []
        sources["boundary"] = expand(paths.BOUNDARY, n=self.analysed)
        sources["carbon"] = [paths.CARBON]
        sources["scaling"] = self.scaling_targets()
        sources["scaling_breaks"] = [paths.SCALING_BREAKS] if sources["scaling"] else []
        sources["trials"] = self.fits(paths.TRIALS, self.tuned)
        sources["importances"] = self.fits(paths.IMPORTANCES, self.tuned)
        return sources
