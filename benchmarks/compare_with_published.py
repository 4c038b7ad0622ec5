"""Compare generated Kryptonite-n data with published files: KS tests per noise family, flip rates.

Usage: python benchmarks/compare_with_published.py FOLDER [N ...]
FOLDER holds kryptonite-{n}-X.npy and kryptonite-{n}-y.npy (e.g. the coursework's Datasets/).
Prints `name: value` lines; a KS p-value above 0.01 means the test does not reject at 1%.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.stats import ks_2samp

from kryptonite_n.compute.data import generate, read_published
from kryptonite_n.compute.explore import feature_table, informative_features, residuals


def flip_rate(X: np.ndarray, y: np.ndarray, informative: list[int]) -> float:
    parity = np.bitwise_xor.reduce((X[:, informative] > 0.5).astype(int), axis=1)
    return float(np.mean(parity != y))


def compare(folder: str, n: int, seed: int = 2024) -> None:
    real = read_published(folder, n)
    fake = generate(n, seed)
    real_families = feature_table(real.X)["family"].to_numpy()
    fake_families = np.array(fake.truth["families"])
    for family in ("uniform", "laplace", "gaussian"):
        a = residuals(real.X)[:, real_families == family].ravel()
        b = residuals(fake.X)[:, fake_families == family].ravel()
        result = ks_2samp(a, b)
        print(f"n{n}_{family}_ks_statistic: {result.statistic:.4f}")
        print(f"n{n}_{family}_ks_pvalue: {result.pvalue:.4f}")
    real_rate = flip_rate(real.X, real.y, informative_features(feature_table(real.X)))
    fake_rate = flip_rate(fake.X, fake.y, fake.truth["informative"])
    print(f"n{n}_flip_rate_published: {real_rate:.4f}")
    print(f"n{n}_flip_rate_generated: {fake_rate:.4f}")
    print(f"n{n}_flip_rate_gap_points: {100 * abs(real_rate - fake_rate):.2f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for n in [int(arg) for arg in sys.argv[2:]] or [9, 12]:
        compare(sys.argv[1], n)
