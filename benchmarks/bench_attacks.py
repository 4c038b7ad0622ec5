"""What the full config's robustness evaluation costs: one repeat of every (model, n), timed.

Full-size generated data for every n of config/config.yaml; the attack settings of that config
(500 points, 9 eps, 3 scopes, FGSM/BIM/PGD or the exact worst case, two noises). Attack cost
does not depend on how well a model is trained, so the models are built, not fitted: the MLP
with random weights of the paper's size (72 hidden units), FSO and the parity rules on the
true informative set, polynomial LR with every monomial of the configured degrees for the L2
rows (n = 9, 12: L2 keeps them all) and the parity monomial plus 50 random ones for the L1
rows (n = 15, 18: L1 keeps few; 50 is a generous count). One torch thread, as the jobs.

Prints ``name: value`` lines: CPU seconds per repeat of each (model, n), a job's start-up, and
the estimate for the whole evaluation (10 repeats per job, start-up included) on 2 cores.

    .venv/bin/python benchmarks/bench_attacks.py [--dimensions 9 12 ...]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from kryptonite_n.compute.attacks import AttackSettings, attack_points, evaluate
from kryptonite_n.compute.data import generate, make_split
from kryptonite_n.compute.models.fso_logreg import FsoLogReg
from kryptonite_n.compute.models.mlp import MLPPredictor
from kryptonite_n.compute.models.poly_logreg import PolyLogregPredictor
from kryptonite_n.compute.models.xor_oracle import ParityRule
from kryptonite_n.compute.monomials import enumerate_monomials
from kryptonite_n.plan.config import model_settings, prepare_config

REPO = Path(__file__).resolve().parents[1]
SPARSE_MONOMIALS = 50


def build(model: str, n: int, X: np.ndarray, informative: list[int], config: dict, rng: np.random.Generator):
    mean, std = X.mean(axis=0), X.std(axis=0)
    if model == "mlp":
        hidden = int(config["models"]["mlp"]["hidden_units"])
        return MLPPredictor(rng.normal(0, 0.5, (n, hidden)), rng.normal(0, 0.5, hidden),
                            rng.normal(0, 0.5, hidden), 0.0, mean, std,
                            model_settings(config, "mlp", n)["activation"])
    if model == "fso_logreg":
        return FsoLogReg(informative, mean[informative], std[informative], 3.0, 0.0)
    if model in ("xor_oracle", "parity_gf2"):
        return ParityRule(informative, np.full(len(informative), 0.5))
    settings = model_settings(config, "poly_logreg", n)
    incidence = enumerate_monomials(n, settings["min_degree"], settings["max_degree"])
    if settings["penalty"] == "l1":
        parity = np.isin(np.arange(n), informative)
        sparse = rng.choice(len(incidence), SPARSE_MONOMIALS, replace=False)
        incidence = np.vstack([parity, incidence[sparse]])
    return PolyLogregPredictor(mean=mean, scale=std, monomials=incidence,
                               coefficients=rng.normal(0, 1, len(incidence)), intercept=0.0,
                               min_degree=settings["min_degree"], max_degree=settings["max_degree"],
                               penalty=settings["penalty"], alpha=settings["alpha"],
                               monomials_total=len(incidence))


def startup_cpu_seconds() -> float:
    """CPU seconds a job spends before attacking: interpreter, snakemake's script shim, libraries.

    CPU time (user + system of the child) rather than wall time, which a busy machine inflates.
    """
    code = ("import snakemake.script, kryptonite_n.compute.attacks, kryptonite_n.compute.carbon, codecarbon, "
            "art.attacks.evasion, art.estimators.classification, kryptonite_n.compute.models.mlp, "
            "kryptonite_n.compute.models.poly_logreg, kryptonite_n.compute.models.fso_logreg")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dimensions", type=int, nargs="*")
    args = parser.parse_args()
    config = prepare_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    settings = AttackSettings.from_config(config["attacks"])
    repeats = config["repeats"]
    torch.set_num_threads(1)
    subprocess.run([sys.executable, "-c", "import torch, art"], check=True)  # warm the disk cache
    startup = startup_cpu_seconds()
    print(f"job_startup_cpu_s: {startup:.2f}")
    total_cpu, jobs = 0.0, 0
    for n in args.dimensions or config["dimensions"]:
        dataset = generate(n, config["seed"])
        informative = dataset.truth["informative"]
        roles = make_split(len(dataset.y), config["split"], config["seed"], n, 0)
        rows = attack_points(np.flatnonzero(roles == 2), settings.points, config["seed"], n, 0)
        rng = np.random.default_rng(n)
        for model in config["attacks"]["models"]:
            dimensions = config["models"][model].get("dimensions")
            if dimensions is not None and n not in dimensions:
                continue
            predictor = build(model, n, dataset.X, informative, config, rng)
            cpu, wall = time.process_time(), time.perf_counter()
            evaluate(predictor, dataset.X[rows], dataset.y[rows], informative, settings, seed=1)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"{model}_n{n}_cpu_s_per_repeat: {cpu:.2f}")
            print(f"{model}_n{n}_wall_s_per_repeat: {wall:.2f}")
            total_cpu += cpu * repeats
            jobs += 1
    print(f"jobs: {jobs}")
    print(f"attack_cpu_s_total: {total_cpu:.0f}")
    print(f"estimated_wall_s_on_2_cores: {(total_cpu + jobs * startup) / 2:.0f}")


if __name__ == "__main__":
    main()
