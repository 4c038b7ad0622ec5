"""What each feature looks like: noise family inference and the tables the report draws.

Family inference is maximum likelihood model selection. Every value is a bit plus noise, so
the residual (value minus nearest bit) is a sample of the feature's noise. Each candidate
family (uniform, Laplace, Gaussian; zero-centred, one scale parameter each) is fitted to the
residuals by maximum likelihood, and the family with the highest log-likelihood wins. Equal
parameter counts make this the same choice AIC or BIC would make; it needs no threshold and
is invariant to the noise scale, so it works for any n and any configured scales.

The bit of a value is read against a threshold found per feature from the rows themselves
(``feature_levels``): the two levels of the feature are the centres of a two-means split of
its values (Lloyd's iterations from its lowest and highest values), and the threshold is their
midpoint, about 0.5 for bits 0 and 1, wherever the data put the levels.

The noise shapes *separate* the features (``separation``) only when some feature is inferred
irrelevant (uniform noise) and some is not. When every feature gets the same family (the later
edition, whose features share one noise), the shapes tell no informative feature apart: a rule
that selects by shape has nothing to select, and says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kurtosis

from kryptonite_n import streams
from kryptonite_n.compute.carbon import phase
from kryptonite_n.compute.data import IRRELEVANT_FAMILY, Dataset, load_dataset
from kryptonite_n.io import read_table, write_csv

#: How ``feature_levels`` finds the threshold, in the words the tables and pages use.
THRESHOLD_METHOD = "midpoint of the two levels of a two-means split of the feature's values"
#: Lloyd iterations of the two-means split (it settles in a few for two well-separated bumps).
LEVEL_ITERATIONS = 20


def feature_levels(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per feature: the low level, the high level and the threshold between them.

    A one-dimensional two-means split of each column (Lloyd's iterations started at the
    column's lowest and highest value); the threshold is the midpoint of the two centres.
    A column with one value has both levels at it.
    """
    X = np.asarray(X, dtype=np.float64)
    low, high = X.min(axis=0), X.max(axis=0)
    for _ in range(LEVEL_ITERATIONS):
        threshold = (low + high) / 2
        upper = threshold < X
        counts = upper.sum(axis=0)
        new_high = np.where(counts > 0, np.where(upper, X, 0).sum(axis=0) / np.maximum(counts, 1), high)
        rest = len(X) - counts
        new_low = np.where(rest > 0, np.where(upper, 0, X).sum(axis=0) / np.maximum(rest, 1), low)
        if np.array_equal(new_low, low) and np.array_equal(new_high, high):
            break
        low, high = new_low, new_high
    return low, high, (low + high) / 2


def feature_thresholds(X: np.ndarray) -> np.ndarray:
    """The threshold of every feature, found from the rows ``X`` (``feature_levels``)."""
    return feature_levels(X)[2]


def residuals(X: np.ndarray) -> np.ndarray:
    """Each value minus its nearest level (``feature_levels``; 0 or 1 for Kryptonite-N's bits)."""
    X = np.asarray(X, dtype=np.float64)
    low, high, threshold = feature_levels(X)
    return X - np.where(threshold < X, high, low)


def family_log_likelihoods(residual: np.ndarray) -> dict[str, float]:
    """Mean log-likelihood per value of the residuals under each family's MLE fit."""
    r = np.asarray(residual, dtype=np.float64)
    tiny = np.finfo(np.float64).tiny
    half_width = max(np.abs(r).max(), tiny)
    laplace_scale = max(np.abs(r).mean(), tiny)
    sigma = max(np.sqrt(np.mean(r**2)), tiny)
    return {
        "uniform": -np.log(2.0 * half_width),
        "laplace": -np.log(2.0 * laplace_scale) - 1.0,
        "gaussian": -0.5 * np.log(2.0 * np.pi * np.e) - np.log(sigma),  # sigma**2 may underflow
    }


def infer_family(residual: np.ndarray) -> str:
    scores = family_log_likelihoods(residual)
    return max(scores, key=scores.get)


def feature_table(X: np.ndarray) -> pd.DataFrame:
    """One row per feature: moments of the value and of its residual, inferred family."""
    X = np.asarray(X, dtype=np.float64)
    low, high, threshold = feature_levels(X)
    res = X - np.where(threshold < X, high, low)
    families = [infer_family(res[:, j]) for j in range(X.shape[1])]
    return pd.DataFrame({
        "feature": np.arange(X.shape[1]),
        "mean": X.mean(axis=0),
        "std": X.std(axis=0),
        "low_level": low,
        "high_level": high,
        "threshold": threshold,
        "residual_std": res.std(axis=0),
        # Pearson's kurtosis: 3 for a Gaussian, 1.8 for a uniform, 6 for a Laplace.
        "kurtosis": kurtosis(res, axis=0, fisher=False),
        "family": families,
        "informative": [f != IRRELEVANT_FAMILY for f in families],
    })


def separation(table: pd.DataFrame) -> str | None:
    """None when the inferred noise shapes separate the features into irrelevant and
    informative ones; else why they do not (the reason a shape-selected rule is not applicable)."""
    families = table["family"].astype(str)
    found = sorted(set(families))
    if (families == IRRELEVANT_FAMILY).all():
        return (f"the noise shapes separate no family: every one of the {len(table)} features has "
                f"noise of the irrelevant ({IRRELEVANT_FAMILY}) shape")
    if not (families == IRRELEVANT_FAMILY).any():
        return (f"the noise shapes separate no family: none of the {len(table)} features has noise of "
                f"the irrelevant ({IRRELEVANT_FAMILY}) shape (found {', '.join(found)}), so the shapes "
                "mark no feature as outside the parity")
    return None


def separation_summary(table: pd.DataFrame) -> dict[str, object]:
    """What the exploration found for one n, for the pages: family counts, whether the shapes
    separate the features (and why not), the thresholds and how they were found."""
    reason = separation(table)
    counts = table["family"].astype(str).value_counts()
    return {
        "families": {family: int(counts.get(family, 0)) for family in ("uniform", "laplace", "gaussian")},
        "separates": reason is None,
        "reason": reason or "",
        "informative": informative_features(table) if reason is None else [],
        "threshold_min": float(table["threshold"].min()) if "threshold" in table else None,
        "threshold_max": float(table["threshold"].max()) if "threshold" in table else None,
        "threshold_method": THRESHOLD_METHOD,
    }


def informative_features(table: pd.DataFrame) -> list[int]:
    """Indices of the features inferred informative (noise not of the irrelevant family).

    The flags may come back from a CSV as booleans or as text.
    """
    flags = table["informative"].astype(str).str.strip().str.lower() == "true"
    return table.loc[flags, "feature"].astype(int).tolist()


def read_informative(features_csv: Path | str) -> list[int]:
    """The informative set a ``features.csv`` (this module's ``feature_table``) names."""
    return informative_features(read_table(features_csv, ["feature", "informative"]))


def histogram_table(X: np.ndarray, families: list[str], bins: int = 60) -> pd.DataFrame:
    """Per-feature probability mass over a shared grid of bins covering every value."""
    low, high = float(np.min(X)), float(np.max(X))
    edges = np.linspace(low, high, bins + 1)
    frames = []
    for j in range(X.shape[1]):
        counts, _ = np.histogram(X[:, j], bins=edges)
        frames.append(pd.DataFrame({
            "feature": j, "family": families[j], "bin_start": edges[:-1], "bin_end": edges[1:],
            "pmf": counts / counts.sum(),
        }))
    return pd.concat(frames, ignore_index=True)


def correlation_table(X: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Long-form Pearson correlation matrix of the features and the label."""
    names = [f"x{j}" for j in range(X.shape[1])] + ["label"]
    matrix = np.corrcoef(np.column_stack([X, y]).astype(np.float64), rowvar=False)
    rows, cols = np.meshgrid(np.arange(len(names)), np.arange(len(names)), indexing="ij")
    return pd.DataFrame({
        "row": np.array(names)[rows.ravel()], "column": np.array(names)[cols.ravel()],
        "correlation": matrix.ravel(),
    })


def pca_table(X: np.ndarray, y: np.ndarray, max_points: int, seed: int) -> pd.DataFrame:
    """The first two principal components of a seeded subsample, with labels."""
    from sklearn.decomposition import PCA

    rng = streams.rng("pca_sample", seed=seed)
    rows = rng.choice(len(X), size=min(max_points, len(X)), replace=False)
    rows.sort()
    pca = PCA(n_components=2, random_state=seed).fit(X)
    projected = pca.transform(X[rows])
    return pd.DataFrame({
        "row": rows, "pc1": projected[:, 0], "pc2": projected[:, 1], "label": y[rows],
        "explained_pc1": pca.explained_variance_ratio_[0],
        "explained_pc2": pca.explained_variance_ratio_[1],
    })


def explore_dataset(data_files: Mapping[str, Path | str], n: int, out: Mapping[str, Path | str], *,
                    histogram_bins: int, pca_points: int, seed: int) -> None:
    """Write features.csv, histograms.csv, correlation.csv and pca.csv for one n."""
    with phase("explore"):
        _explore(load_dataset(data_files, n), out, histogram_bins=histogram_bins, pca_points=pca_points,
                 seed=seed)


def _explore(dataset: Dataset, out: Mapping[str, Path | str], *, histogram_bins: int, pca_points: int,
             seed: int) -> None:
    table = feature_table(dataset.X)
    if dataset.truth is not None:
        table["true_family"] = dataset.truth["families"]
    write_csv(out["features"], table)
    write_csv(out["histograms"], histogram_table(dataset.X, table["family"].tolist(), histogram_bins))
    write_csv(out["correlation"], correlation_table(dataset.X, dataset.y))
    write_csv(out["pca"], pca_table(dataset.X, dataset.y, pca_points, seed))
