"""The repeats of a model as an ensemble: does averaging networks help on a parity?

Each repeat trained on its own split of the labelled rows, so no labelled row is unseen by every
member. The ensembles are scored on the **hidden rows** instead: drawn by the generator with the
labelled rows but in no split, never trained on, validated or tested by any repeat, and with
their true labels known (generated data only: the published hidden labels are secret, so a run
on published files has no ensemble table).

Per (model, n) and ensemble size k (1, 2, 5 and every repeat, as far as the repeats go), over
the R cyclic windows of k consecutive repeats (each repeat in k windows; one window when k = R):

* ``member_acc``: the members' own accuracy, averaged;
* ``vote_acc``: the majority vote's accuracy (a tie, possible when k is even, goes to the
  mean probability's side where the model has probabilities, else to label 1);
* ``probability_acc``: the accuracy of the mean probability thresholded at 0.5 (models with
  probabilities only);
* ``disagreement``: the share of member pairs that disagree on a row, averaged over rows;
* ``probability_variance``: the variance of the members' probabilities on a row, averaged over
  rows: the members' epistemic uncertainty (zero for one member).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from kryptonite_n.io import DataError, read_npy, read_probabilities, read_vector, write_csv
from kryptonite_n.plan.paths import fit_key, n_of
from kryptonite_n.tables.results import in_model_order, inapplicable_repeats

log = logging.getLogger(__name__)

#: Ensemble sizes reported (each capped at the repeats fitted; the full ensemble always).
SIZES = (1, 2, 5, 10)
ENSEMBLE_COLUMNS = ["model", "n", "members", "windows", "rows", "member_acc", "vote_acc",
                    "probability_acc", "gain", "disagreement", "probability_variance"]


def ensemble_sizes(repeats: int, sizes: Iterable[int] = SIZES) -> list[int]:
    return sorted({min(int(k), repeats) for k in sizes} | {repeats})


def windows(repeats: int, k: int) -> list[list[int]]:
    """The cyclic windows of k consecutive members among ``repeats`` (one when k = repeats)."""
    if k >= repeats:
        return [list(range(repeats))]
    return [[(start + j) % repeats for j in range(k)] for start in range(repeats)]


def combine(labels: np.ndarray, probabilities: np.ndarray | None) -> dict[str, np.ndarray]:
    """The ensemble of members (rows of ``labels``, and of ``probabilities`` when given): its
    majority vote and, with probabilities, its mean-probability labels."""
    votes = labels.mean(axis=0)
    mean = probabilities.mean(axis=0) if probabilities is not None else None
    tie_break = (mean > 0.5) if mean is not None else np.ones(labels.shape[1], dtype=bool)
    vote = np.where(votes == 0.5, tie_break, votes > 0.5).astype(np.int64)
    return {"vote": vote, **({"mean_probability": (mean > 0.5).astype(np.int64)} if mean is not None else {})}


def pair_disagreement(labels: np.ndarray) -> float:
    """The share of member pairs that disagree, averaged over rows (0 for one member)."""
    k = labels.shape[0]
    if k < 2:
        return 0.0
    ones = labels.sum(axis=0)
    return float(np.mean(ones * (k - ones) / (k * (k - 1) / 2)))


def ensemble_rows(model: str, n: int, labels: np.ndarray, probabilities: np.ndarray | None,
                  truth: np.ndarray, sizes: Iterable[int] = SIZES) -> list[dict]:
    """The table's rows of one (model, n): ``labels`` (members x rows) of the hidden rows."""
    rows = []
    for k in ensemble_sizes(len(labels), sizes):
        records = []
        for window in windows(len(labels), k):
            members = labels[window]
            chances = probabilities[window] if probabilities is not None else None
            combined = combine(members, chances)
            records.append({
                "member_acc": float(np.mean(members == truth)),
                "vote_acc": float(np.mean(combined["vote"] == truth)),
                "probability_acc": (float(np.mean(combined["mean_probability"] == truth))
                                    if chances is not None else np.nan),
                "disagreement": pair_disagreement(members),
                "probability_variance": (float(np.mean(chances.var(axis=0))) if chances is not None
                                         else np.nan),
            })
        means = pd.DataFrame(records).mean()
        best = means["probability_acc"] if probabilities is not None else means["vote_acc"]
        rows.append({"model": model, "n": n, "members": k, "windows": len(records), "rows": len(truth),
                     **means.to_dict(), "gain": best - means["member_acc"]})
    return rows


def ensemble_table(prediction_files: Iterable[Path | str], probability_files: Iterable[Path | str],
                   hidden_label_files: Iterable[Path | str], skipped: Iterable[tuple[str, int, int]] = (),
                   sizes: Iterable[int] = SIZES) -> pd.DataFrame:
    """``ensembles.csv`` from every repeat's ``hidden_predictions.npy`` (and
    ``hidden_probabilities.npy`` where the model has them) and the true hidden labels
    (``hidden-kryptonite-{n}-y.npy``); the (model, n, repeat) in ``skipped`` did not apply."""
    truths = {n_of(path): read_npy(path).astype(np.int64) for path in hidden_label_files}
    skipped = set(skipped)
    grouped: dict[tuple[str, int], dict[str, dict[int, Path]]] = {}
    for kind, files in (("labels", prediction_files), ("probabilities", probability_files)):
        for path in files:
            model, n, repeat = fit_key(path)
            if (model, n, repeat) not in skipped:
                grouped.setdefault((model, n), {}).setdefault(kind, {})[repeat] = Path(path)
    rows = []
    for (model, n), kinds in grouped.items():
        if n not in truths:
            raise DataError(f"no true hidden labels for n = {n}: the ensembles need them")
        repeats, hidden_rows = sorted(kinds["labels"]), len(truths[n])
        labels = np.stack([read_vector(kinds["labels"][r], hidden_rows, "labels (the hidden rows)")
                           for r in repeats])
        probabilities = None
        if "probabilities" in kinds:
            probabilities = np.stack([read_probabilities(kinds["probabilities"][r], hidden_rows,
                                                         "the hidden rows") for r in repeats])
        rows += ensemble_rows(model, n, labels, probabilities, truths[n], sizes)
    if not rows:
        return pd.DataFrame(columns=ENSEMBLE_COLUMNS)
    return in_model_order(pd.DataFrame(rows), "n", "members")[ENSEMBLE_COLUMNS]


def summarise_ensembles(prediction_files: Iterable[Path | str], probability_files: Iterable[Path | str],
                        hidden_label_files: Iterable[Path | str], metrics_tables: Iterable[Path | str],
                        ensembles_csv: Path | str) -> None:
    """Write ``ensembles.csv`` (``ensemble_table``), leaving out repeats whose model did not apply."""
    skipped = inapplicable_repeats(metrics_tables)
    table = ensemble_table(prediction_files, probability_files, hidden_label_files, skipped)
    log.info("ensembles of %d (model, n) pairs", table[["model", "n"]].drop_duplicates().shape[0])
    write_csv(ensembles_csv, table)
