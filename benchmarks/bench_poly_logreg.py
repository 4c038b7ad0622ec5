"""Streamed poly_logreg against the naive scikit-learn expansion: peak memory and time.

The naive variant is what the response paper ran: ``PolynomialFeatures((min, max),
interaction_only=True)`` on the standardised training set, then ``SGDClassifier(log_loss)``
with scikit-learn's defaults (max_iter=1000 epochs of per-row updates: most of its time).
scikit-learn computes every subset product up to the top degree before keeping the wanted
ones: at n = 15 that is 18000 x 32767 values (2.4 GB in the data's float32, twice in float64);
at n = 18, 21600 x 262143 (23 GB in float32), so only the streamed variant runs there. Each
variant runs in its own process, and its peak RSS is read from the kernel when it exits
(``os.wait4``), as ``/usr/bin/time`` does. One repeat (repeat 0 of the study's 60/20/20 split)
on data.generate(n, 2024), the study's poly_logreg settings from config/config.yaml.

Prints: naive_n15_rss_gb, naive_n15_s, stream_n15_rss_gb, stream_n15_s, stream_n18_rss_gb,
stream_n18_s, stream_n18_acc (details of every run go to stderr).

    .venv/bin/python benchmarks/bench_poly_logreg.py [--threads 2] [--skip-naive] [--naive-max-iter 1000]

The full run takes about half an hour, nearly all of it the naive SGD epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEED = 2024


def _task(n: int, threads: int):
    import yaml

    from kryptonite_n.config import model_settings, prepare_config
    from kryptonite_n.data import SPLIT_CODES, Split, generate, make_split
    from kryptonite_n.models import FitTask

    config = prepare_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    dataset = generate(n, SEED)
    roles = make_split(len(dataset.y), config["split"], SEED, n, 0)
    split = Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values()))
    return FitTask(n=n, X=dataset.X, y=dataset.y, splits=[split], repeats=[0],
                   settings=model_settings(config, "poly_logreg", n), seed=SEED, threads=threads)


def run_stream(n: int, threads: int) -> dict:
    import torch

    from kryptonite_n.models import poly_logreg

    torch.set_num_threads(threads)
    task = _task(n, threads)
    started = time.perf_counter()
    predictor = poly_logreg.fit(task)[0]
    seconds = time.perf_counter() - started
    X, y = task.part(0, "test")
    details = predictor.details()
    return {"seconds": seconds, "accuracy": float(np.mean(predictor.predict(X) == y)),
            "nonzero": details["nonzero_coefficients"], "monomials": details["monomials"],
            "top_monomial": details["top_monomial"]}


def run_naive(n: int, threads: int, max_iter: int) -> dict:
    from sklearn.linear_model import SGDClassifier
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    task = _task(n, threads)
    settings = task.settings
    X, y = task.part(0, "train")
    started = time.perf_counter()
    scaler = StandardScaler().fit(X)
    expansion = PolynomialFeatures(degree=(settings["min_degree"], settings["max_degree"]),
                                   interaction_only=True, include_bias=False)
    features = expansion.fit_transform(scaler.transform(X))
    model = SGDClassifier(loss="log_loss", penalty=settings["penalty"], alpha=settings["alpha"],
                          max_iter=max_iter, random_state=SEED).fit(features, y)
    seconds = time.perf_counter() - started
    del features
    X_test, y_test = task.part(0, "test")
    predicted = model.predict(expansion.transform(scaler.transform(X_test)))
    return {"seconds": seconds, "accuracy": float(np.mean(predicted == y_test)),
            "monomials": int(expansion.n_output_features_), "epochs": int(model.n_iter_)}


def measure(variant: str, n: int, threads: int, max_iter: int = 1000) -> dict:
    """Run one variant in a child process; add the child's peak RSS in GB."""
    # Passive OpenMP waiting: on a busy machine, spinning threads otherwise slow torch tenfold.
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}
    child = subprocess.Popen([sys.executable, __file__, "--child", variant, "--n", str(n),
                              "--threads", str(threads), "--naive-max-iter", str(max_iter)],
                             stdout=subprocess.PIPE, env=env, text=True)
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
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-naive", action="store_true", help="skip the ~9 GB naive n=15 run")
    parser.add_argument("--naive-max-iter", type=int, default=1000,
                        help="SGDClassifier epochs of the naive run (scikit-learn's default 1000)")
    parser.add_argument("--child", choices=["stream", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "stream":
            print(json.dumps(run_stream(args.n, args.threads)))
        else:
            print(json.dumps(run_naive(args.n, args.threads, args.naive_max_iter)))
        return
    lines = {}
    if not args.skip_naive:
        naive = measure("naive", 15, args.threads, args.naive_max_iter)
        lines |= {"naive_n15_rss_gb": naive["rss_gb"], "naive_n15_s": naive["seconds"]}
    stream15 = measure("stream", 15, args.threads)
    stream18 = measure("stream", 18, args.threads)
    lines |= {"stream_n15_rss_gb": stream15["rss_gb"], "stream_n15_s": stream15["seconds"],
              "stream_n18_rss_gb": stream18["rss_gb"], "stream_n18_s": stream18["seconds"],
              "stream_n18_acc": stream18["accuracy"]}
    for name, value in lines.items():
        print(f"{name}: {value:.4g}")


if __name__ == "__main__":
    main()
