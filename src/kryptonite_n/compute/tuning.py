"""A hyperparameter search for the MLP with Optuna: warm-started, resumable, deterministic with
one worker.

One study per (model, n) lives in an Optuna journal file (``JournalStorage`` over
``JournalFileBackend``) beside the stage's outputs but not among them, so a search that was
killed resumes from its journal instead of starting over, and k worker processes (k SLURM
jobs) can share it. The study's name is a hash of the search settings, the warm start and the
data and splits it reads, so a changed configuration or dataset starts a new study in the same
file instead of mixing trials of two searches.

Warm start. Trial 0 is the paper's settings for n (what the paper-settings MLP trains with),
so the search's best is never below not searching on the validation rows it scores; the
pruner never stops that trial. ``trials.csv`` says which trial it was (``origin``).

A trial trains with the one MLP trainer (``nets.training``) on the training rows of
``splits`` splits (``split_repeats``) and is scored by the mean over them of the validation
accuracy at the epoch of lowest validation loss (the weights early stopping keeps): several
splits, so that the best of many trials is less a pick of noise. Each split's network is seeded
as that repeat's paper-settings MLP is, so trials differ by their settings only. It never
reads a test row of those splits nor the hidden set (``labelled_rows``). Trials are asked of
Optuna ``batch`` at a time (ask/tell); those of one shape (everything but learning rate, weight
decay and dropout) train together as one stack, the way the repeats of one MLP do. After every
epoch each trial reports its mean best validation accuracy so far, and the pruner may stop it.

Determinism. The sampler of the k-th trial is a TPE sampler seeded with (seed, n, k), so with
one worker the trial sequence depends only on the configuration and the finished trials, not
on the process that runs it: two searches give the same trials, and a search killed mid-batch
and resumed gives the same trials as one never killed (the killed batch's trials are marked
failed and left out of trials.csv; batches start at multiples of ``batch``). With several
workers trials start in whatever order the workers reach them, which trades that determinism
for speed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n import streams
from kryptonite_n.compute.carbon import phase
from kryptonite_n.compute.data import load_split, read_labelled
from kryptonite_n.compute.models.driver import fit_model
from kryptonite_n.compute.nets.training import PER_ROW, fit, resolve_settings
from kryptonite_n.compute.trials import best_settings, read_best
from kryptonite_n.contract import FitTask, Split
from kryptonite_n.io import DataError, read_json, write_csv, write_json, write_npy, write_npz
from kryptonite_n.plan.models import spec
from kryptonite_n.plan.paths import fit_files
from kryptonite_n.plan.tuning import CHOSEN, EPOCH_LIMITS, RANGED, SETTINGS, tuned_name

log = logging.getLogger(__name__)

#: Finished trial states: they count towards ``trials``; a failed one (a killed run) does not.
FINISHED = ("COMPLETE", "PRUNED")
TRIAL_COLUMNS = ["trial", "number", "origin", "state", "validation_acc", "epochs", "max_epochs", "seconds"]


# --------------------------------------------------------------------------- data


def labelled_rows(data_files: Mapping[str, Path | str], n: int,
                  split_files: Sequence[Path | str]) -> dict[str, Any]:
    """The rows a search reads: each split's training and validation rows, never a test row that
    no searched split trains or validates on, nor the hidden set.

    ``data_files`` holds the labelled set's ``X`` and ``y`` files; nothing else is opened.
    Returns ``X`` and ``y`` of the rows read and each split re-indexed into them.
    """
    X, y = read_labelled(data_files, n)
    splits = []
    for split_file in split_files:
        split = load_split(split_file)
        if len(split.train) == 0 or len(split.validation) == 0:
            raise DataError(f"{split_file}: a search needs training and validation rows")
        if max(split.train.max(), split.validation.max()) >= len(y):
            raise DataError(f"{split_file}: row indices beyond the {len(y)} rows of {data_files['y']}")
        splits.append(split)
    used = np.unique(np.concatenate([np.concatenate([s.train, s.validation]) for s in splits]))
    position = np.full(len(y), -1, dtype=np.int64)
    position[used] = np.arange(len(used))
    empty = np.zeros(0, dtype=np.int64)
    return {"X": X[used], "y": y[used],
            "splits": [Split(position[s.train], position[s.validation], empty) for s in splits]}


def _digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def study_name(model: str, n: int, search: Mapping[str, Any], seed: int, rows: Mapping[str, Any],
               paper: Mapping[str, Any] | None = None) -> str:
    """A name that changes with anything the trials depend on: settings, seed, the rows read and
    the warm start (the paper's settings)."""
    settings = json.dumps({"model": model, "n": n, "seed": seed, "search": search,
                           "paper": dict(paper or {})}, sort_keys=True, default=str)
    data = _digest(rows["X"], rows["y"], *(part for s in rows["splits"] for part in (s.train, s.validation)))
    return f"{model}-n{n}-{hashlib.sha256(settings.encode()).hexdigest()[:12]}-{data}"


# --------------------------------------------------------------------------- search space


def _distribution(key: str, space: Mapping[str, Any]):
    """The Optuna distribution of a searched key, or None when the space fixes it."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if key in RANGED:
        low, high = space[key]["low"], space[key]["high"]
        if low == high:
            return None
        if key == "hidden_units":
            return IntDistribution(int(low), int(high), log=True)
        return FloatDistribution(float(low), float(high), log=bool(space[key].get("log")))
    choices = list(space[key])
    return CategoricalDistribution(choices) if len(choices) > 1 else None


def _fixed(key: str, space: Mapping[str, Any]) -> Any:
    return space[key]["low"] if key in RANGED else next(iter(space[key]))


def suggest(trial: Any, space: Mapping[str, Any], skip: Sequence[str] = ()) -> dict[str, Any]:
    """One trial's settings from the configured space (keys as in the schema's tuning.space);
    ``skip``: keys the caller sets itself (not asked of the sampler)."""
    settings: dict[str, Any] = {}
    for key in (*RANGED, *CHOSEN):
        distribution = _distribution(key, space)
        if key in skip:
            continue
        if distribution is None:
            settings[key] = _fixed(key, space)
        elif key == "hidden_units":
            settings[key] = trial.suggest_int(key, distribution.low, distribution.high, log=True)
        elif key in RANGED:
            settings[key] = trial.suggest_float(key, distribution.low, distribution.high,
                                                log=distribution.log)
        else:
            settings[key] = trial.suggest_categorical(key, list(distribution.choices))
    settings["momentum"] = float(space["momentum"])
    return settings


def paper_trial(paper: Mapping[str, Any], space: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The warm start: the paper's settings as a trial's full settings (with the paper's epoch
    limits, where given, so that the trial is the paper-settings MLP), and the part of them the
    space contains (enqueued as the trial's params, so the sampler learns from them)."""
    settings = {key: paper[key] for key in (*SETTINGS, *EPOCH_LIMITS) if key in paper}
    settings.setdefault("layers", 1)
    settings.setdefault("weight_decay", 0.0)
    settings.setdefault("momentum", float(space["momentum"]))
    params = {}
    for key in (*RANGED, *CHOSEN):
        distribution = _distribution(key, space)
        if distribution is None or key not in settings:
            continue
        value = settings[key]
        try:
            inside = distribution._contains(distribution.to_internal_repr(value))
        except ValueError:  # a choice the space does not offer
            inside = False
        if inside:
            params[key] = value
    return settings, params


def _sampler(search: Mapping[str, Any], seed: int, n: int, index: int):
    import optuna

    return optuna.samplers.TPESampler(
        seed=streams.seed("tuning_sampler", seed=seed, n=n, worker=index),
        n_startup_trials=int(search["sampler"]["startup_trials"]),
    )


def _pruner(search: Mapping[str, Any]):
    import optuna

    pruner = search["pruner"]
    if pruner["kind"] == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=int(pruner["startup_trials"]),
                                           n_warmup_steps=int(pruner["warmup_epochs"]))
    if pruner["kind"] == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, int(pruner["warmup_epochs"])),
                                                      reduction_factor=int(pruner["reduction_factor"]))
    return optuna.pruners.NopPruner()


def open_study(journal: Path | str, name: str, search: Mapping[str, Any]):
    """The study ``name`` in the journal file, created if missing."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    Path(journal).parent.mkdir(parents=True, exist_ok=True)
    # The open lock (O_EXCL on a lock file) works on NFS, where a cluster's workers share it.
    backend = JournalFileBackend(str(journal), lock_obj=JournalFileOpenLock(str(journal)))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(study_name=name, storage=JournalStorage(backend), direction="maximize",
                               pruner=_pruner(search), load_if_exists=True)


def _finished(study) -> list:
    return [t for t in study.get_trials(deepcopy=False) if t.state.name in FINISHED]


def fail_stale_trials(study) -> int:
    """Mark trials left running by a killed search as failed; only safe with one worker."""
    from optuna.trial import TrialState

    stale = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))]
    for trial in stale:
        # Optuna fails stale trials itself only through heartbeats, which a file journal on a
        # cluster's shared disk cannot rely on; its storage call is the documented way.
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    if stale:
        log.info("marked %d trials of a killed search as failed: %s", len(stale), [t.number for t in stale])
    return len(stale)


def _has_paper_trial(study) -> bool:
    return any(t.user_attrs.get("origin") == "paper" and t.state.name in (*FINISHED, "RUNNING", "WAITING")
               for t in study.get_trials(deepcopy=False))


def ask_trials(study, search: Mapping[str, Any], seed: int, n: int, first: int, count: int,
               paper: Mapping[str, Any] | None, alone: bool) -> list[tuple[Any, int, dict[str, Any]]]:
    """Ask the study for ``count`` trials: (trial, index, settings) each.

    With one worker the k-th trial's sampler is seeded with k (``first`` + its place) and the
    paper's settings are trial 0; with several, Optuna's trial number takes k's place and the
    paper's settings go to whichever worker finds none queued or run.
    """
    asked = []
    for place in range(count):
        index = first + place
        warm = paper is not None and (index == 0 if alone else not _has_paper_trial(study))
        study.sampler = _sampler(search, seed, n, index if alone else len(study.get_trials(deepcopy=False)))
        skip: tuple[str, ...] = ()
        if warm:
            full, params = paper_trial(paper, search["space"])
            study.enqueue_trial(params, user_attrs={"origin": "paper"})
            skip = tuple(key for key in (*RANGED, *CHOSEN) if key not in params)
        trial = study.ask()
        index = index if alone else trial.number
        settings = suggest(trial, search["space"], skip)
        settings |= {"max_epochs": int(search["max_epochs"]), "patience": int(search["patience"])}
        if warm:
            settings = {**settings, **full}
        trial.set_user_attr("index", index)
        trial.set_user_attr("origin", "paper" if warm else "sampler")
        trial.set_user_attr("settings", json.dumps(settings, sort_keys=True))
        asked.append((trial, index, settings))
    return asked


def shape_of(settings: Mapping[str, Any]) -> tuple:
    """What trials must share to train in one stack (the rest is per row: ``training.PER_ROW``)."""

    return tuple(sorted((key, settings[key]) for key in settings if key not in PER_ROW))


def train_trials(asked: list[tuple[Any, int, dict[str, Any]]], rows: Mapping[str, Any], n: int,
                 seed: int, repeats: Sequence[int], prune: bool = True) -> dict[int, dict[str, Any]]:
    """Train the asked trials, those of one shape together as one stack (each on every split),
    reporting each trial's mean best validation accuracy per epoch; returns index -> outcome.

    A row's network is seeded by its split's repeat as the MLP's repeat is
    (``training.repeat_rng``): the trials compare settings on the same initialisations and
    shuffles, and the paper's trial on a split is the paper-settings MLP of that repeat.
    """

    groups: dict[tuple, list[tuple[Any, int, dict[str, Any]]]] = {}
    for item in asked:
        groups.setdefault(shape_of(item[2]), []).append(item)
    outcomes: dict[int, dict[str, Any]] = {}
    per_trial = len(rows["splits"])
    for members in groups.values():
        shared = {key: value for key, value in members[0][2].items() if key not in PER_ROW}
        row_settings = [{key: settings[key] for key in PER_ROW if key in settings}
                        for _, _, settings in members for _ in rows["splits"]]
        task = FitTask(n=n, X=rows["X"], y=rows["y"], splits=list(rows["splits"]) * len(members),
                       repeats=list(repeats) * len(members), settings=shared, seed=seed)
        pruned_at: dict[int, int] = {}

        def on_epoch(epoch: int, best_acc: np.ndarray, running: np.ndarray, members=members,
                     pruned_at=pruned_at) -> np.ndarray:
            stop = np.zeros(len(running), dtype=bool)
            for place, (trial, index, _) in enumerate(members):
                part = slice(place * per_trial, (place + 1) * per_trial)
                if not running[part].any():
                    continue
                value = float(np.nan_to_num(best_acc[part], nan=0.0).mean())
                trial.report(value, epoch)
                # Asked of every trial, so that the warm start's value at each rung counts in
                # successive halving's comparison; but the warm start is never pruned.
                if prune and trial.should_prune() and trial.user_attrs.get("origin") != "paper":
                    pruned_at[index] = epoch
                    stop[part] = True
            return stop

        started = time.perf_counter()
        predictors = fit(task, row_settings, on_epoch)
        seconds = time.perf_counter() - started
        for place, (trial, index, settings) in enumerate(members):
            mine = predictors[place * per_trial:(place + 1) * per_trial]
            outcomes[index] = {
                "trial": trial, "settings": settings, "pruned_at": pruned_at.get(index),
                "value": float(np.mean([p.summary["best_validation_acc"] for p in mine])),
                "split_values": [float(p.summary["best_validation_acc"]) for p in mine],
                "epochs": max(p.summary["epochs_trained"] for p in mine),
                "best_epochs": [int(p.summary["best_epoch"]) for p in mine],
                "seconds": seconds / len(members), "stack": len(members),
            }
    return outcomes


def run_batch(study, rows: Mapping[str, Any], search: Mapping[str, Any], seed: int, n: int,
              repeats: Sequence[int], first: int, count: int, paper: Mapping[str, Any] | None,
              alone: bool = True) -> list[int]:
    """Ask ``count`` trials, train them together, tell the results; return their indices."""
    import optuna

    asked = ask_trials(study, search, seed, n, first, count, paper, alone)
    outcomes = train_trials(asked, rows, n, seed, repeats, prune=search["pruner"]["kind"] != "none")
    for index, outcome in sorted(outcomes.items()):
        trial = outcome["trial"]
        trial.set_user_attr("epochs", int(outcome["pruned_at"] or outcome["epochs"]))
        trial.set_user_attr("seconds", round(outcome["seconds"], 3))
        trial.set_user_attr("stack", int(outcome["stack"]))
        trial.set_user_attr("split_values", outcome["split_values"])
        trial.set_user_attr("best_epochs", outcome["best_epochs"])
        if outcome["pruned_at"]:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            log.info("trial %d pruned at epoch %d (%.1f s of a stack of %d): %s", index, outcome["pruned_at"],
                     outcome["seconds"], outcome["stack"], outcome["settings"])
        else:
            study.tell(trial, outcome["value"])
            log.info("trial %d (%s): validation accuracy %.4f %s, best epochs %s, %d epochs, %.1f s of "
                     "a stack of %d: %s", index, trial.user_attrs["origin"], outcome["value"],
                     outcome["split_values"], outcome["best_epochs"], outcome["epochs"], outcome["seconds"],
                     outcome["stack"], outcome["settings"])
    return [index for _, index, _ in asked]


#: Called after each batch of trials is told (the tests' hook to kill a search at a known point).
AFTER_BATCH: list[Callable[[list[int]], None]] = []


def search(model: str, n: int, *, data_files: Mapping[str, Path | str], split_files: Sequence[Path | str],
           journal: Path | str, settings: Mapping[str, Any], seed: int,
           paper: Mapping[str, Any] | None = None, out: Path | str | None = None) -> dict[str, Any]:
    """Run trials of the (model, n) study until ``settings['trials']`` have finished.

    ``settings`` is the config's ``tuning`` section, ``split_files`` the splits of its
    ``split_repeats``, ``paper`` the paper's settings for n (the first trial when
    ``warm_start``). Writes (when ``out`` is given) and returns this worker's record: the study
    name and the trials it ran. The trials are the carbon phase ``train`` (the job charges them
    to the tuned model).
    """
    tuned_name(model)
    search_settings = search_key(settings)
    paper = dict(paper) if paper is not None and settings["warm_start"] else None
    rows = labelled_rows(data_files, n, split_files)
    # The split files are those of split_repeats(settings, repeats), in order.
    repeats = list(range(int(settings["split_repeat"]), int(settings["split_repeat"]) + len(split_files)))
    name = study_name(model, n, search_settings, seed, rows, paper)
    study = open_study(journal, name, search_settings)
    if int(settings["workers"]) == 1:
        fail_stale_trials(study)  # one worker: anything still running was killed
    target, ran, alone = int(settings["trials"]), [], int(settings["workers"]) == 1
    batch = int(settings["batch"])
    started = time.perf_counter()
    with phase("train"):
        # Several workers may each start a batch when trials are missing: a study can end with
        # up to (workers - 1) x batch trials more than asked.
        while (finished := len(_finished(study))) < target:
            # One worker: batches start at multiples of `batch`, so a search killed and resumed
            # asks the same batches as one never killed.
            count = min(batch - finished % batch, target - finished) if alone else batch
            indices = run_batch(study, rows, search_settings, seed, n, repeats, finished, count, paper, alone)
            ran += indices
            for hook in AFTER_BATCH:
                hook(indices)
    record = {"study": name, "journal": str(journal), "trials_run": ran,
              "seconds": round(time.perf_counter() - started, 3)}
    log.info("%s n=%d: %d trials finished (%d run now) in %.1f s", model, n, target, len(ran),
             record["seconds"])
    if out is not None:
        write_json(out, record)
    return record


def search_key(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The tuning settings the trials depend on (not which models, n or how many workers)."""
    keys = ("space", "max_epochs", "patience", "split_repeat", "splits", "batch", "sampler", "pruner")
    return {key: settings[key] for key in keys}


# --------------------------------------------------------------------------- results


def trials_table(study) -> pd.DataFrame:
    """One row per finished trial, in the order they started (``trial``), params as ``param_*``."""
    rows = []
    for trial in sorted(_finished(study), key=lambda t: t.number):
        params = {f"param_{key}": value for key, value in sorted(trial.params.items())}
        rows.append({"trial": trial.user_attrs.get("index"), "number": trial.number,
                     "origin": trial.user_attrs.get("origin", "sampler"), "state": trial.state.name,
                     "validation_acc": trial.value if trial.state.name == "COMPLETE" else np.nan,
                     "last_validation_acc": (trial.intermediate_values[max(trial.intermediate_values)]
                                             if trial.intermediate_values else np.nan),
                     "epochs": trial.user_attrs.get("epochs"), "seconds": trial.user_attrs.get("seconds"),
                     "stack": trial.user_attrs.get("stack"),
                     "split_values": json.dumps(trial.user_attrs.get("split_values")),
                     "best_epochs": json.dumps(trial.user_attrs.get("best_epochs")),
                     "settings": trial.user_attrs.get("settings"), **params})
    return pd.DataFrame(rows)


def importances(study, seed: int) -> pd.DataFrame:
    """fANOVA importance of each searched parameter over the completed trials (empty if too few)."""
    import optuna

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    varied = {key for t in complete for key in t.params
              if len({json.dumps(u.params.get(key)) for u in complete}) > 1}
    if len(complete) < 2 or not varied:
        return pd.DataFrame(columns=["param", "importance"])
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    values = optuna.importance.get_param_importances(study, evaluator=evaluator, params=sorted(varied),
                                                     normalize=True)
    return pd.DataFrame({"param": list(values), "importance": list(values.values())})


def collect(model: str, n: int, *, worker_records: list[Path | str], settings: Mapping[str, Any], seed: int,
            outputs: Mapping[str, Path | str]) -> None:
    """Write the study's trials.csv and importances.csv once every worker finished."""
    names = {read_json(path)["study"] for path in worker_records}
    journals = {read_json(path)["journal"] for path in worker_records}
    if len(names) != 1 or len(journals) != 1:
        raise DataError(f"{model} n={n}: workers ran different studies {sorted(names)} in {sorted(journals)}")
    search_settings = search_key(settings)
    study = open_study(journals.pop(), names.pop(), search_settings)
    table = trials_table(study)
    # Each trial's own limit: the paper's trial runs to the paper's budget.
    limits = [json.loads(value).get("max_epochs", settings["max_epochs"]) if isinstance(value, str)
              else settings["max_epochs"] for value in table.get("settings", [None] * len(table))]
    table.insert(4, "max_epochs", [int(limit) for limit in limits])
    write_csv(outputs["trials"], table)
    write_csv(outputs["importances"], importances(study, seed))


def fit_tuned(tuned: str, n: int, *, trials_csv: Path | str, tuning: Mapping[str, Any],
              paper_files: Sequence[Path | str] = (), **fit) -> None:
    """Refit the best trial of ``trials_csv`` on every repeat as model ``tuned`` (``fit``: the
    keyword arguments of ``models.fit_model`` but ``settings``).

    When the best trial is the warm start and ``paper_files`` holds the searched model's fit
    with exactly those settings, that fit is the refit, network for network (one trainer, the
    same seeds and splits: tested), so its files are taken over instead of training it again.
    """

    settings = read_best(trials_csv, tuning)
    if paper_files and _best_is_paper(trials_csv, tuning):
        reused = _reuse_paper_fit(tuned, n, settings, paper_files, fit["outputs"], fit["repeats"])
        if reused:
            return
    log.info("%s n=%d: refitting the best trial's settings %s", tuned, n, settings)
    fit_model(tuned, n, settings=settings, **fit)


def _best_is_paper(trials_csv: Path | str, tuning: Mapping[str, Any]) -> bool:
    table = pd.read_csv(trials_csv)
    if "origin" not in table:
        return False
    best = best_settings(table, tuning)["trial"]
    return bool((table.loc[table["trial"] == best, "origin"] == "paper").all())


def _reuse_paper_fit(tuned: str, n: int, settings: Mapping[str, Any], paper_files: Sequence[Path | str],
                     outputs: Mapping[str, Any], repeats: Sequence[int]) -> bool:
    """Write the paper-settings fit's files as ``tuned``'s; False (nothing written) unless that
    fit trained with exactly ``settings`` on the same repeats."""

    files = {key: [Path(f) for f in paper_files if Path(f).name == Path(pattern).name]
             for key, pattern in fit_files(spec(tuned).probabilities).items()}
    if any(len(found) != len(repeats) for found in files.values()):
        return False
    metrics = [read_json(path) for path in files["metrics"]]
    wanted = resolve_settings(dict(settings))
    if [m.get("repeat") for m in metrics] != list(repeats) or \
            any(m.get("details", {}).get("settings") != wanted for m in metrics):
        log.info("%s n=%d: the paper-settings fit trained with other settings; refitting", tuned, n)
        return False
    log.info("%s n=%d: the best trial is the paper's settings; taking over their fit %s", tuned, n,
             [str(path.parent) for path in files["model"]])
    rows = []
    for i, record in enumerate(metrics):
        with np.load(files["model"][i]) as arrays:
            write_npz(outputs["model"][i], dict(arrays))
        for key in files.keys() - {"model", "metrics"}:
            write_npy(outputs[key][i], np.load(files[key][i], allow_pickle=False))
        record = {**record, "model": tuned, "details": {**record.get("details", {}), "reused_from": "paper"}}
        write_json(outputs["metrics"][i], record)
        rows.append({key: value for key, value in record.items() if key != "details"})
    write_csv(outputs["table"], pd.DataFrame(rows))
    return True


