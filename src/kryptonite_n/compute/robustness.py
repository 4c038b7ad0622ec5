"""The robustness jobs: load each fitted model of one n from its files and attack it
(``attack_model``), look inside the network under each activation (``analyse_networks``), or
draw every model's decision on one slice (``map_decision_boundary``). The attacks themselves
are ``attacks``, the network statistics ``nets.inspection``, the slice ``boundary``; this
module is the one of them that loads models by name (the registry).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from kryptonite_n import streams
from kryptonite_n.compute.attacks import (
    COLUMNS,
    AttackSettings,
    attack_points,
    evaluate,
    informative_set,
)
from kryptonite_n.compute.boundary import BOUNDARY_COLUMNS, boundary_slice, probability
from kryptonite_n.compute.carbon import phase
from kryptonite_n.compute.data import load_dataset, load_split
from kryptonite_n.compute.models import load_predictor
from kryptonite_n.compute.nets.inspection import LAYER_COLUMNS, ROBUSTNESS_COLUMNS, analyse_mlp
from kryptonite_n.io import DataError, write_csv

log = logging.getLogger(__name__)


def attack_model(model: str, n: int, *, model_files: list[str], split_files: list[str],
                 data_files: Mapping[str, Path | str], features_csv: Path | str, outputs: Mapping[str, str],
                 settings: dict[str, Any], seed: int, repeats: list[int],
                 chunk_rows: int | None = None) -> None:
    """Attack every repeat of one fitted (model, n); write one table."""

    attack_settings = AttackSettings.from_config(settings)
    dataset = load_dataset(data_files, n)
    informative = informative_set(dataset.truth, features_csv)
    tables = []
    with phase("attack"):
        for repeat, model_file, split_file in tqdm(list(zip(repeats, model_files, split_files, strict=True)),
                                                   desc=f"attack {model} n={n}"):
            predictor = load_predictor(model, model_file)
            reason = predictor.details().get("not_applicable")
            if reason:
                # It answers no row of its own (the summary says why): nothing to attack.
                log.info("%s n=%d repeat %d: not applicable (%s), not attacked", model, n, repeat, reason)
                continue
            rows = attack_points(load_split(split_file).test, attack_settings.points, seed, n, repeat)
            started = time.perf_counter()
            table = evaluate(predictor, dataset.X[rows], dataset.y[rows], informative, attack_settings,
                             seed=streams.seed("attack", seed=seed, n=n, repeat=repeat),
                             chunk_rows=chunk_rows)
            log.info("%s n=%d repeat %d: %d rows in %.1f s", model, n, repeat, len(table),
                     time.perf_counter() - started)
            tables.append(table.assign(model=model, n=n, repeat=repeat))
    write_csv(outputs["table"], pd.concat(tables, ignore_index=True)[COLUMNS] if tables
              else pd.DataFrame(columns=COLUMNS))


def map_decision_boundary(n: int, *, entries: list[dict[str, str]], split_file: str, repeat: int,
                          data_files: Mapping[str, Path | str], features_csv: Path | str,
                          outputs: Mapping[str, str], grid: int) -> None:
    """Every entry's (model, activation, file) P(y = 1) on one 2-D slice through two informative features.

    The slice goes through the first test row of ``split_file``; the two features are the
    first two (true, else inferred) informative ones. Models without an activation get
    ``activation = none``.
    """

    dataset = load_dataset(data_files, n)
    informative = sorted(informative_set(dataset.truth, features_csv))
    if len(informative) < 2:
        raise DataError(f"{features_csv}: fewer than two informative features, no slice to draw")
    feature_x, feature_y = informative[:2]
    anchor = dataset.X[load_split(split_file).test[0]]
    points, X = boundary_slice(anchor, feature_x, feature_y, grid)
    tables = []
    with phase("decision_boundary"):
        for entry in entries:
            predictor = load_predictor(entry["model"], entry["file"])
            activation = entry.get("activation") or "none"
            tables.append(points.assign(n=n, model=entry["model"], activation=activation, repeat=repeat,
                                        feature_x=feature_x, feature_y=feature_y,
                                        probability=probability(predictor, X)))
    write_csv(outputs["table"], pd.concat(tables, ignore_index=True)[BOUNDARY_COLUMNS])


def analyse_networks(n: int, *, model: str, model_files: dict[str, list[str]], split_files: list[str],
                     data_files: Mapping[str, Path | str], features_csv: Path | str,
                     outputs: Mapping[str, str], attack_settings: dict[str, Any],
                     robustness: dict[str, Any], seed: int, repeats: list[int]) -> None:
    """Layer statistics and robustness of the n's network (``model``) under every activation, every repeat.

    ``model_files`` maps an activation to its per-repeat model.npz files; ``robustness``
    holds the eps, scopes and methods of the comparison (the rest from ``attack_settings``).
    """

    dataset = load_dataset(data_files, n)
    informative = informative_set(dataset.truth, features_csv)
    settings = AttackSettings.from_config({**attack_settings, **robustness})
    splits = [load_split(path) for path in split_files]
    layer_tables, robustness_tables = [], []
    jobs = [(activation, i, repeat) for activation in model_files for i, repeat in enumerate(repeats)]
    with phase("network_analysis"):
        for activation, i, repeat in tqdm(jobs, desc=f"network analysis n={n}"):
            predictor = load_predictor(model, model_files[activation][i])
            if predictor.activation != activation:
                raise DataError(f"{model_files[activation][i]}: a {predictor.activation} network, "
                                f"expected {activation}")
            test = splits[i].test
            labels = {"n": n, "activation": activation, "repeat": repeat}
            layer_tables.append(analyse_mlp(predictor, dataset.X[test], dataset.y[test]).assign(**labels))
            rows = attack_points(test, settings.points, seed, n, repeat)
            attacked = evaluate(predictor, dataset.X[rows], dataset.y[rows], informative, settings,
                                seed=streams.seed("network_attack", seed=seed, n=n, repeat=repeat))
            robustness_tables.append(attacked.assign(**labels))
    write_csv(outputs["layers"], pd.concat(layer_tables, ignore_index=True)[LAYER_COLUMNS])
    write_csv(outputs["robustness"], pd.concat(robustness_tables, ignore_index=True)[ROBUSTNESS_COLUMNS])
