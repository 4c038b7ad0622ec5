"""Kryptonite-N datasets: generate them faithfully, read published ones safely, split them.

A Kryptonite-N row holds n values, each a fair bit plus noise. The label is the parity of the
bits of the informative features (``parity_share`` of them, 2/3 in the first edition), flipped
at random with a small probability. Two layouts of the noise (``GeneratorSettings.layout``):

* ``families`` (the first edition, n = 9, 12, ..., 45): one of three families per feature,
  uniform on the irrelevant features, Laplace and Gaussian on the informative ones, so the
  noise shape gives each feature's role away;
* ``shared`` (the later edition, n = 10, 12, ..., 20): every feature has the same Gaussian
  noise (``scales.gaussian``), so no noise shape tells an informative feature from another.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from kryptonite_n import streams
from kryptonite_n.compute.carbon import phase
from kryptonite_n.contract import GENERATOR, Split
from kryptonite_n.io import DataError, read_npy, write_json, write_npy
from kryptonite_n.plan import paths

FAMILIES = ("uniform", "laplace", "gaussian")
IRRELEVANT_FAMILY = "uniform"
#: The noise layouts the generator draws (module docstring).
LAYOUTS = ("families", "shared")
#: The one family of every feature in the ``shared`` layout.
SHARED_FAMILY = "gaussian"
#: Share of the features in the parity, as measured on the first edition's files (2n/3).
FIRST_EDITION_PARITY_SHARE = 2 / 3

#: The mock paper's accuracy targets, which it claimed no model would reach.
TARGETS = {9: 0.95, 12: 0.925, 15: 0.90, 18: 0.875, 24: 0.80, 30: 0.75, 45: 0.70}


def target_accuracy(n: int) -> float | None:
    """The published target for n, or None for an n the challenge never published."""
    return TARGETS.get(n)


def default_flip_rate(n: int) -> float:
    """Label-flip rate measured on the published files: p(n) = 1 / (8 sqrt n)."""
    return 1.0 / (8.0 * math.sqrt(n))


def crossing_probability(family: str, scale: float, threshold: float = 0.5) -> float:
    """Chance that one family's noise carries a bit across ``threshold`` (either way).

    The noise is symmetric around 0, so a bit 0 crosses when noise > threshold and a bit 1
    when noise < -threshold, with the same probability.
    """
    if family == "uniform":
        return max(0.0, (scale - threshold) / (2.0 * scale))
    if family == "laplace":
        return 0.5 * math.exp(-threshold / scale)
    if family == "gaussian":
        return 0.5 * math.erfc(threshold / (scale * math.sqrt(2.0)))
    raise ValueError(f"unknown noise family {family!r}; expected one of {FAMILIES}")


def odd_parity_probability(probabilities: list[float]) -> float:
    """P(an odd number of independent events happen), events with the given probabilities.

    E[(-1)^count] = prod(1 - 2 q), so P(odd) = (1 - prod(1 - 2 q)) / 2.
    """
    return (1.0 - math.prod(1.0 - 2.0 * q for q in probabilities)) / 2.0


def generator_bayes_accuracy(families: list[str], informative: list[int], scales: dict[str, float],
                             flip_rate: float) -> float:
    """Exact Bayes-optimal accuracy of the generator: not 1 - p, a little below it.

    For symmetric noise whose density falls with distance (Laplace, Gaussian) the most likely
    bit of a value is its nearest one, so the Bayes rule is the parity of the informative
    values thresholded at 0.5. It errs when an odd number of (bit errors, label flip) happen;
    the bits are independent, so the error is the odd-parity probability of those events.
    """
    errors = [crossing_probability(families[j], float(scales[families[j]])) for j in informative]
    return 1.0 - odd_parity_probability([*errors, float(flip_rate)])


@dataclass(frozen=True)
class GeneratorSettings:
    """How one Kryptonite-N dataset is drawn. ``None`` means the published default."""

    rows_per_feature: int = 2000
    hidden_rows: int = 10000
    scales: dict[str, float] = field(
        default_factory=lambda: {"uniform": 0.025, "laplace": 0.05, "gaussian": 0.1}
    )
    flip_rate: float | None = None
    #: Share of the n features whose bits make the parity (rounded to a count, at least 1).
    parity_share: float = FIRST_EDITION_PARITY_SHARE
    #: ``families`` or ``shared`` (module docstring).
    layout: str = "families"

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise DataError(f"generator.layout={self.layout!r}: expected one of {LAYOUTS}")
        if not 0 < self.parity_share <= 1:
            raise DataError(f"generator.parity_share={self.parity_share}: expected a share in (0, 1]")

    def flip_rate_for(self, n: int) -> float:
        return default_flip_rate(n) if self.flip_rate is None else self.flip_rate


@dataclass
class Dataset:
    """A labelled set, its hidden set, and (for generated data) the truth behind them."""

    X: np.ndarray
    y: np.ndarray
    hidden_X: np.ndarray
    hidden_y: np.ndarray | None = None
    truth: dict | None = None

    @property
    def n(self) -> int:
        return int(self.X.shape[1])


def parity_size(n: int, parity_share: float) -> int:
    """How many features make the parity: ``parity_share`` of n, rounded, at least 1."""
    return min(n, max(1, round(n * parity_share)))


def family_counts(n: int, parity_share: float) -> dict[str, int]:
    """How many features each family gets in the ``families`` layout; the informative ones
    split evenly between Laplace and Gaussian."""
    informative = parity_size(n, parity_share)
    laplace = informative // 2
    return {"uniform": n - informative, "laplace": laplace, "gaussian": informative - laplace}


def _noise(rng: np.random.Generator, family: str, scale: float, size: int) -> np.ndarray:
    if family == "uniform":
        return rng.uniform(-scale, scale, size)
    if family == "laplace":
        return rng.laplace(0.0, scale, size)
    return rng.normal(0.0, scale, size)


def _draw(rng: np.random.Generator, rows: int, families: list[str], scales: dict[str, float],
          informative: np.ndarray, flip_rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    bits = rng.integers(0, 2, size=(rows, len(families)), dtype=np.int64)
    X = bits.astype(np.float64)
    for j, family in enumerate(families):
        X[:, j] += _noise(rng, family, scales[family], rows)
    clean = np.bitwise_xor.reduce(bits[:, informative], axis=1)
    flips = rng.random(rows) < flip_rate
    return X.astype(np.float32), (clean ^ flips).astype(np.int64), flips


def draw_rows(rng: np.random.Generator, rows: int, families: list[str], scales: dict[str, float],
              informative: np.ndarray, flip_rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` rows of one feature layout: features, labels, and which labels were flipped.

    For drawing more rows of a layout than ``generate`` made (the scaling stage).
    """
    return _draw(rng, rows, families, scales, informative, flip_rate)


def generate(n: int, seed: int, settings: GeneratorSettings | None = None) -> Dataset:
    """Draw the labelled and hidden Kryptonite-n sets, sharing one feature layout.

    The same (n, seed, settings) always gives byte-identical arrays.
    """
    settings = settings or GeneratorSettings()
    if n < 2:
        raise DataError(f"n={n}: generated Kryptonite-N needs at least 2 features")
    rng = streams.rng("generator", seed=seed, n=n)
    if settings.layout == "families":
        counts = family_counts(n, settings.parity_share)
        families = [f for f in FAMILIES for _ in range(counts[f])]
        families = [families[i] for i in rng.permutation(n)]
        informative = np.array([j for j, f in enumerate(families) if f != IRRELEVANT_FAMILY])
    else:
        # One noise for every feature: the parity's features are a seeded draw, nothing marks them.
        families = [SHARED_FAMILY] * n
        informative = np.sort(rng.permutation(n)[:parity_size(n, settings.parity_share)])
    flip_rate = settings.flip_rate_for(n)
    X, y, flips = _draw(rng, settings.rows_per_feature * n, families, settings.scales,
                        informative, flip_rate)
    hidden_X, hidden_y, _ = _draw(rng, settings.hidden_rows, families, settings.scales,
                                  informative, flip_rate)
    truth = {
        "n": n,
        "seed": seed,
        "informative": informative.tolist(),
        "families": families,
        "flip_rate": flip_rate,
        "flipped_rows": int(flips.sum()),
        "scales": dict(settings.scales),
        "layout": settings.layout,
        "parity_share": settings.parity_share,
        "hidden_labels_file": paths.HIDDEN_LABELS.format(n=n),
        "settings": asdict(settings),
        "source": "generated",
        "bayes": {"accuracy": generator_bayes_accuracy(families, informative.tolist(), settings.scales,
                                                       flip_rate),
                  "ci_low": None, "ci_high": None, "source": GENERATOR},
    }
    return Dataset(X=X, y=y, hidden_X=hidden_X, hidden_y=hidden_y, truth=truth)


# --------------------------------------------------------------------------- files


#: The files of one dataset, by key (names in ``paths.DATASET``).
DATASET_KEYS = ("X", "y", "hidden_X", "hidden_y", "truth")


def _check_features(path: Path, X: np.ndarray, n: int) -> np.ndarray:
    if X.ndim != 2 or X.shape[1] != n:
        raise DataError(f"{path}: expected shape (rows, {n}), found {X.shape}")
    if X.shape[0] == 0:
        raise DataError(f"{path}: has no rows")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise DataError(f"{path}: dtype {X.dtype} cannot be read as float32 features")
    X = X.astype(np.float32)
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(f"{path}: {int(bad.sum())} non-finite values (first at row {row}, column {col})")
    return X


def _check_labels(path: Path, y: np.ndarray, rows: int, x_path: Path) -> np.ndarray:
    if y.ndim != 1:
        raise DataError(f"{path}: expected a 1-D label vector, found shape {y.shape}")
    if len(y) != rows:
        raise DataError(f"{path}: {len(y)} labels but {x_path.name} has {rows} rows")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)
            or y.dtype == np.bool_):
        raise DataError(f"{path}: dtype {y.dtype} cannot be read as 0/1 labels")
    values = np.unique(y)
    if not np.isin(values, [0, 1]).all():
        strays = values[~np.isin(values, [0, 1])][:5].tolist()
        raise DataError(f"{path}: labels must be exactly 0 or 1, found {strays}")
    return y.astype(np.int64)


def read_labelled(files: Mapping[str, Path | str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The labelled set's features and labels (``files['X']``, ``files['y']``), validated;
    nothing else is opened. Raise DataError naming the bad file."""
    x_path, y_path = Path(files["X"]), Path(files["y"])
    X = _check_features(x_path, read_npy(x_path), n)
    return X, _check_labels(y_path, read_npy(y_path), X.shape[0], x_path)


def read_dataset(files: Mapping[str, Path | str], n: int) -> Dataset:
    """Read and validate exactly the files named (``X``, ``y``, ``hidden_X``; ``hidden_y`` and
    ``truth`` when given); raise DataError naming the bad file."""
    files = {key: Path(path) for key, path in files.items() if key in DATASET_KEYS}
    X, y = read_labelled(files, n)
    hidden_X = _check_features(files["hidden_X"], read_npy(files["hidden_X"]), n)
    hidden_y = None
    if "hidden_y" in files:
        hidden_y = _check_labels(files["hidden_y"], read_npy(files["hidden_y"]),
                                 hidden_X.shape[0], files["hidden_X"])
    truth = _read_truth(files["truth"]) if "truth" in files else None
    return Dataset(X=X, y=y, hidden_X=hidden_X, hidden_y=hidden_y, truth=truth)


def read_published(folder: Path | str, n: int) -> Dataset:
    """Read and validate the published files of one n in ``folder``."""
    return read_dataset(paths.dataset_files(folder, n), n)


def _read_truth(path: Path | str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: not a readable truth file ({error})") from error


def read_truths(paths_: Iterable[Path | str]) -> dict[int, dict]:
    """n -> the truth.json written beside each dataset, in order of n."""
    truths = {}
    for path in paths_:
        truth = _read_truth(path)
        truths[int(truth["n"]) if "n" in truth else paths.n_of(path)] = truth
    return dict(sorted(truths.items()))


def write_dataset(dataset: Dataset, files: dict[str, Path | str]) -> None:
    """Write a dataset to ``files`` (keys as in ``paths.DATASET``), each file atomically."""
    arrays = {"X": dataset.X, "y": dataset.y, "hidden_X": dataset.hidden_X}
    if dataset.hidden_y is not None and "hidden_y" in files:
        arrays["hidden_y"] = dataset.hidden_y
    for key, array in arrays.items():
        write_npy(files[key], array)
    write_json(files["truth"], dataset.truth)


def load_dataset(files: Mapping[str, Path | str], n: int) -> Dataset:
    """Read a dataset that ``prepare_dataset`` wrote, from the files a job declares as inputs.

    ``files`` may hold other inputs too: only the dataset's keys are read.
    """
    return read_dataset(files, n)


# --------------------------------------------------------------------------- splits

SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}


def make_split(rows: int, fractions: dict[str, float], seed: int, n: int, repeat: int) -> np.ndarray:
    """Role of every row (0 train, 1 validation, 2 test) after a seeded shuffle.

    The seed mixes (seed, n, repeat), so adding repeats leaves earlier ones unchanged.
    """
    rng = streams.rng("split", seed=seed, n=n, repeat=repeat)
    order = rng.permutation(rows)
    n_train = round(fractions["train"] * rows)
    n_validation = round(fractions["validation"] * rows)
    roles = np.full(rows, SPLIT_CODES["test"], dtype=np.int8)
    roles[order[:n_train]] = SPLIT_CODES["train"]
    roles[order[n_train:n_train + n_validation]] = SPLIT_CODES["validation"]
    return roles


def write_splits(labels_path: Path | str, n: int, fractions: dict[str, float], seed: int,
                 repeats: list[int], out_paths: list[Path | str]) -> None:
    """Write one split file per repeat for the labelled set at ``labels_path``."""
    with phase("split"):
        rows = len(np.load(labels_path, mmap_mode="r"))
        for repeat, path in zip(repeats, out_paths, strict=True):
            write_npy(path, make_split(rows, fractions, seed, n, repeat))


def load_split(path: Path | str) -> Split:
    roles = np.load(path, allow_pickle=False)
    return Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values()))
