"""Streamed poly_logreg against the naive expanded matrix, trained by the same optimiser.

The naive variant expands the features as the response paper did: scikit-learn's
``PolynomialFeatures((min, max), interaction_only=True)`` on the standardised training set,
which computes every subset product up to the top degree before keeping the wanted ones (at
n = 15, 18000 x 32767 values: 2.4 GB in float32, twice in float64; at n = 18, 23 GB in
float32, so only the streamed variant runs there). Its matrix is then trained by *the same*
SGD as the streamed model (``polynomial.train_sgd``: the same epochs, batches, learning-rate
schedule, penalty step and random order): the two variants do the same optimisation, and
only the way the monomials are held differs. So the times and the accuracies compare like
with like, and the naive accuracy is printed beside the streamed one. (The paper's own
``SGDClassifier`` ran up to 1000 epochs of per-row updates; its time measured an optimiser
budget a hundred times larger and is not compared here.)

Each variant runs in its own process, and its peak RSS is read from the kernel when it exits
(``os.wait4``), as ``/usr/bin/time`` does; times are medians over ``--rounds`` runs with the
spread (min to max). One repeat (repeat 0 of the study's 60/20/20 split) on
data.generate(n, 2024), the study's poly_logreg settings from config/config.yaml. The working
directory is a fresh temporary folder.

Modes: ``--full`` (default): naive and streamed at n = 15, streamed at n = 18.
``--small``: naive and streamed at n = 9 and n = 12 (seconds each), to check the benchmark works.
Prints ``name: value`` lines (details of every run go to stderr).

    .venv/bin/python benchmarks/bench_poly_logreg.py [--small] [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEED = 2024
#: (variant, n) runs of each mode.
MODES = {
    "full": [("naive", 15), ("stream", 15), ("stream", 18)],
    "small": [("naive", 9), ("stream", 9), ("naive", 12), ("stream", 12)],
}


def _task(n: int, threads: int):
    import yaml

    from kryptonite_n.compute.data import SPLIT_CODES, generate, make_split
    from kryptonite_n.contract import FitTask, Split
    from kryptonite_n.plan.config import model_settings, prepare_config

    config = prepare_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    dataset = generate(n, SEED)
    roles = make_split(len(dataset.y), config["split"], SEED, n, 0)
    split = Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values()))
    return FitTask(n=n, X=dataset.X, y=dataset.y, splits=[split], repeats=[0],
                   settings=model_settings(config, "poly_logreg", n), seed=SEED, threads=threads)


class ExpandedBasis:
    """The naive expansion behind the interface ``train_sgd`` trains on (``MonomialBasis``'s).

    ``halves`` materialises the whole expanded matrix with scikit-learn (the memory cost being
    measured); the coefficients are a plain vector over its columns.
    """

    def __init__(self, min_degree: int, max_degree: int) -> None:
        from sklearn.preprocessing import PolynomialFeatures

        self.expansion = PolynomialFeatures(degree=(min_degree, max_degree), interaction_only=True,
                                            include_bias=False)
        self.shape: tuple[int, ...] = ()

    def expand(self, X: np.ndarray):
        import torch

        return torch.from_numpy(np.ascontiguousarray(self.expansion.fit_transform(X), dtype=np.float32))

    def halves(self, X):
        import torch

        features = self.expand(X.numpy())
        self.shape = (features.shape[1],)
        return features, torch.zeros(len(features), 0)

    def decision(self, left, right, matrix):
        return left @ matrix

    def gradient(self, left, right, residual):
        return left.T @ residual

    def coefficients(self, matrix) -> np.ndarray:
        return matrix.detach().cpu().numpy()


def _same_order(task) -> np.random.Generator:
    """The random batch order of the workflow's fit of this repeat (as ``polynomial.fit`` seeds it)."""
    return np.random.default_rng(np.random.SeedSequence([task.seed, task.n, task.repeats[0], 2]))


def run_stream(n: int, threads: int) -> dict:
    import torch

    import kryptonite_n.compute.polynomial  # noqa: F401  (imported untimed, as the naive variant's modules are)
    from kryptonite_n.compute.models import poly_logreg

    torch.set_num_threads(threads)
    task = _task(n, threads)
    started = time.perf_counter()
    predictor = poly_logreg.fit(task)[0]
    seconds = time.perf_counter() - started
    X, y = task.part(0, "test")
    details = predictor.details()
    return {"seconds": seconds, "accuracy": float(np.mean(predictor.predict(X) == y)),
            "nonzero": details["nonzero_coefficients"], "monomials": details["monomials"],
            "epochs": details["epochs"], "top_monomial": details["top_monomial"]}


def run_naive(n: int, threads: int) -> dict:
    import torch

    from kryptonite_n.compute.polynomial import standardise, train_sgd

    torch.set_num_threads(threads)
    task = _task(n, threads)
    settings = task.settings
    X, y = task.part(0, "train")
    # Built before the clock starts, so that importing scikit-learn is not timed (the streamed
    # variant's imports are not either); the expansion itself happens inside train_sgd.
    basis = ExpandedBasis(int(settings["min_degree"]), int(settings["max_degree"]))
    started = time.perf_counter()
    mean, scale = standardise(X)
    # The basis's monomials need the expansion fitted first (fit_transform inside halves).
    coefficients, intercept, losses = train_sgd(basis, (X - mean) / scale, y, settings, _same_order(task))
    seconds = time.perf_counter() - started
    X_test, y_test = task.part(0, "test")
    features = basis.expansion.transform((X_test - mean) / scale)
    predicted = (features @ coefficients + intercept > 0).astype(np.int64)
    return {"seconds": seconds, "accuracy": float(np.mean(predicted == y_test)),
            "nonzero": int(np.count_nonzero(coefficients)),
            "monomials": int(basis.expansion.n_output_features_), "epochs": len(losses)}


def measure(variant: str, n: int, threads: int) -> dict:
    """Run one variant in a child process; add the child's peak RSS in GB."""
    # Passive OpenMP waiting: on a busy machine, spinning threads otherwise slow torch tenfold.
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}
    child = subprocess.Popen([sys.executable, __file__, "--child", variant, "--n", str(n),
                              "--threads", str(threads)], stdout=subprocess.PIPE, env=env, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{variant} n={n} failed with exit code {child.returncode}")
    result = json.loads(output.strip().splitlines()[-1])
    result["rss_gb"] = usage.ru_maxrss * 1024 / 1e9  # Linux reports kilobytes
    print(f"# {variant} n={n}: {result}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="naive and streamed n=15, streamed n=18 (default)")
    size.add_argument("--small", action="store_true", help="naive and streamed at n=9 and n=12")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each variant (median time)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", choices=["stream", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = run_stream if args.child == "stream" else run_naive
        print(json.dumps(run(args.n, args.threads)))
        return
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    os.chdir(tempfile.mkdtemp(prefix="bench-poly-logreg-"))
    mode = "small" if args.small else "full"
    print(f"mode: {mode} ({', '.join(f'{v} n={n}' for v, n in MODES[mode])}; rounds={args.rounds}, "
          f"threads={args.threads}; both variants: the same SGD epochs, batches and learning rates)")
    for variant, n in MODES[mode]:
        results = [measure(variant, n, args.threads) for _ in range(args.rounds)]
        seconds = [r["seconds"] for r in results]
        name = f"{variant}_n{n}"
        print(f"{name}_s: {statistics.median(seconds):.3g} (min {min(seconds):.3g}, max {max(seconds):.3g})")
        print(f"{name}_rss_gb: {max(r['rss_gb'] for r in results):.3g}")
        # Seeded: every round gives the same accuracy (a difference would show here).
        accuracies = sorted({f"{r['accuracy']:.4f}" for r in results})
        print(f"{name}_acc: {', '.join(accuracies)}")
        print(f"{name}_epochs: {results[0]['epochs']}")
        print(f"{name}_monomials: {results[0]['monomials']}")


if __name__ == "__main__":
    main()
