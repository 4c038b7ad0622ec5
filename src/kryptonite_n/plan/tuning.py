"""The search's plan: which model a search tunes and which n it searches, the space's
settings, the splits that score a trial and the jobs' runtimes. The search itself is
``kryptonite_n.compute.tuning``; what the ``tuning`` section must hold beyond its schema is
checked with the rest of the configuration (``config.check_tuning``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from kryptonite_n.plan import paths
from kryptonite_n.plan.models import spec, specs

#: The models a search can tune -> the model its best settings are refitted as (from the specs).
TUNABLE = {s.tunes: s.name for s in specs() if s.tunes}
#: The search space's settings drawn from a range (low, high) and from a list of choices, in the
#: order a trial suggests them (the order the sampler's random stream is drawn in).
RANGED = ("hidden_units", "lr", "weight_decay", "dropout")
CHOSEN = ("layers", "activation", "optimizer", "batch_size")
#: A trial's settings (with the epoch limits): what the paper's settings are read into.
SETTINGS = (*RANGED, *CHOSEN, "momentum")
EPOCH_LIMITS = ("max_epochs", "patience")


def tuned_name(model: str) -> str:
    if model not in TUNABLE:
        raise ValueError(f"model {model!r} cannot be tuned; expected one of {sorted(TUNABLE)}")
    return TUNABLE[model]


def base_model(tuned: str) -> str:
    """The searched model of a tuned one (the model its spec ``tunes``)."""
    for model, name in TUNABLE.items():
        if name == tuned:
            return model
    raise ValueError(f"{tuned!r} is not a tuned model; expected one of {sorted(TUNABLE.values())}")


#: CPU seconds per epoch per 1000 training rows of one small network, twice what
#: benchmarks/bench_tuning.py --compare measured (0.035 s per network-epoch at n = 15, 18000
#: rows, on a loaded 2-core machine): what a cluster job's runtime is sized from.
EPOCH_SECONDS_PER_1000_ROWS = 0.004


def _epoch_seconds(config: Mapping[str, Any], n: int | str) -> float:
    rows = config["generator"]["rows_per_feature"] * int(n) * config["split"]["train"]
    return rows / 1000 * EPOCH_SECONDS_PER_1000_ROWS


def worker_runtime(config: Mapping[str, Any], n: int | str) -> int:
    """Minutes for one worker's share of the trials, each on its splits and run to max_epochs
    (an upper bound: early stopping and the pruner end most sooner), with a 2x margin."""
    tuning = config["tuning"]
    epochs = math.ceil(tuning["trials"] / tuning["workers"]) * tuning["max_epochs"] * tuning["splits"]
    return 5 + math.ceil(2 * epochs * _epoch_seconds(config, n) / 60)


def refit_runtime(config: Mapping[str, Any], n: int | str) -> int:
    """Minutes for the refit: every repeat to max_epochs, with a 2x margin."""
    epochs = config["repeats"] * config["tuning"]["max_epochs"]
    return 5 + math.ceil(2 * epochs * _epoch_seconds(config, n) / 60)


def searches(fitted: Mapping[str, list[int]]) -> dict[str, list[int]]:
    """Searched model -> the n searched: those its tuned model is fitted on (``fitted``: model -> n)."""
    return {model: list(fitted[tuned]) for model, tuned in TUNABLE.items() if fitted.get(tuned)}


def split_repeats(tuning: Mapping[str, Any], repeats: int | None = None) -> list[int]:
    """The repeats whose splits score every trial: ``splits`` of them from ``split_repeat`` on,
    as many as the study's ``repeats`` has (a run of 2 repeats scores on 2 splits)."""
    first = int(tuning["split_repeat"])
    last = first + int(tuning["splits"])
    return list(range(first, last if repeats is None else min(last, int(repeats))))


def paper_fit_files(fitted: Mapping[str, list[int]], model: str, n: int | str,
                    repeats: Sequence[int]) -> list[str]:
    """The searched model's own fit files at n (per repeat: metrics, model, predictions), where
    the study fits it; the tuned model's fit reuses them when the paper's settings won."""
    if int(n) not in fitted.get(model, []):
        return []
    return [paths.fill(pattern, model=model, n=n, repeat=repeat)
            for pattern in paths.fit_files(spec(model).probabilities).values() for repeat in repeats]

