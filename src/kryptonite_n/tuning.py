"""A hyperparameter search for the MLP with Optuna: resumable, deterministic with one worker.

One study per (model, n) lives in an Optuna journal file (``JournalStorage`` over
``JournalFileBackend``) beside the stage's outputs but not among them, so a search that was
killed resumes from its journal instead of starting over, and k worker processes (k SLURM
jobs) can share it. The study's name is a hash of the search settings and of the data and
split it reads, so a changed configuration or dataset starts a new study in the same file
instead of mixing trials of two searches.

A trial fits one network (``nets.tuned.train_stack``) on the training rows of one split
(``split_repeat``) and scores it on that split's validation rows; it never reads the test rows
nor the hidden set (``labelled_rows`` returns only the two parts it needs). Its value is the
validation accuracy of its best-validation-loss epoch, the weights early stopping keeps. After
every epoch it reports the validation accuracy, and the pruner may stop it.

Determinism. The sampler of the k-th trial to start is a TPE sampler seeded with (seed, n, k),
and the trial's network is seeded the same way, so with one worker the trial sequence depends
only on the configuration and the finished trials, not on the process that runs it: two
searches give the same trials, and a search killed mid-trial and resumed gives the same trials
as one never killed (the killed trial is marked failed and left out of trials.csv). With
several workers trials start in whatever order the workers reach them, which trades that
determinism for speed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kryptonite_n.carbon import phase
from kryptonite_n.data import load_split, read_labelled
from kryptonite_n.io import DataError, read_json, write_csv, write_json
from kryptonite_n.models import specs

log = logging.getLogger(__name__)

#: The models a search can tune -> the model its best settings are refitted as (from the specs).
TUNABLE = {s.tunes: s.name for s in specs() if s.tunes}
#: Finished trial states: they count towards ``trials``; a failed one (a killed run) does not.
FINISHED = ("COMPLETE", "PRUNED")
TRIAL_COLUMNS = ["trial", "number", "state", "validation_acc", "epochs", "max_epochs", "seconds"]
#: The search space's settings drawn from a range (low, high) and from a list of choices, in the
#: order a trial suggests them (the order the sampler's random stream is drawn in).
RANGED = ("hidden_units", "lr", "weight_decay", "dropout")
CHOSEN = ("layers", "activation", "optimizer", "batch_size")
#: Mixed into a trial's seeds (its sampler's and its network's) so they differ from other stages'.
TRIAL_SEED_TAG = 17


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


def check_settings(config: Mapping[str, Any]) -> None:
    """What the schema cannot say about the ``tuning`` section; raise DataError naming the key."""
    tuning = config["tuning"]
    if tuning["split_repeat"] >= config["repeats"]:
        raise DataError(f"invalid config at 'tuning.split_repeat': {tuning['split_repeat']} is not below "
                        f"repeats ({config['repeats']})")
    for key in RANGED:
        bounds = tuning["space"][key]
        if bounds["low"] > bounds["high"]:
            raise DataError(f"invalid config at 'tuning.space.{key}': "
                            f"low {bounds['low']} > high {bounds['high']}")
        if bounds.get("log") and bounds["low"] <= 0:
            raise DataError(f"invalid config at 'tuning.space.{key}': a log scale needs low > 0")
    if tuning["space"]["dropout"]["high"] >= 1:
        raise DataError("invalid config at 'tuning.space.dropout': high must be below 1")


#: CPU seconds per epoch per 1000 training rows of one small network (benchmarks/bench_tuning.py:
#: 0.16 s per epoch at n = 12 on a 2-core laptop): what a cluster job's runtime is sized from.
EPOCH_SECONDS_PER_1000_ROWS = 0.012


def _epoch_seconds(config: Mapping[str, Any], n: int | str) -> float:
    rows = config["generator"]["rows_per_feature"] * int(n) * config["split"]["train"]
    return rows / 1000 * EPOCH_SECONDS_PER_1000_ROWS


def worker_runtime(config: Mapping[str, Any], n: int | str) -> int:
    """Minutes for one worker's share of the trials, all run to max_epochs, with a 2x margin."""
    tuning = config["tuning"]
    epochs = math.ceil(tuning["trials"] / tuning["workers"]) * tuning["max_epochs"]
    return 5 + math.ceil(2 * epochs * _epoch_seconds(config, n) / 60)


def refit_runtime(config: Mapping[str, Any], n: int | str) -> int:
    """Minutes for the refit: the repeats share each step, about half their separate cost, x2."""
    epochs = config["repeats"] * config["tuning"]["max_epochs"]
    return 5 + math.ceil(epochs * _epoch_seconds(config, n) / 60)


def searches(fitted: Mapping[str, list[int]]) -> dict[str, list[int]]:
    """Searched model -> the n searched: those its tuned model is fitted on (``fitted``: model -> n)."""
    return {model: list(fitted[tuned]) for model, tuned in TUNABLE.items() if fitted.get(tuned)}


# --------------------------------------------------------------------------- data


def labelled_rows(data_files: Mapping[str, Path | str], n: int,
                  split_file: Path | str) -> dict[str, np.ndarray]:
    """The training and validation rows of one split: all a trial reads (no test, no hidden rows).

    ``data_files`` holds the labelled set's ``X`` and ``y`` files; nothing else is opened.
    """
    X, y = read_labelled(data_files, n)
    split = load_split(split_file)
    if len(split.train) == 0 or len(split.validation) == 0:
        raise DataError(f"{split_file}: a search needs training and validation rows")
    if max(split.train.max(), split.validation.max()) >= len(y):
        raise DataError(f"{split_file}: row indices beyond the {len(y)} rows of {data_files['y']}")
    return {"X_train": X[split.train], "y_train": y[split.train],
            "X_validation": X[split.validation], "y_validation": y[split.validation]}


def _digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def study_name(model: str, n: int, search: Mapping[str, Any], seed: int,
               rows: Mapping[str, np.ndarray]) -> str:
    """A name that changes with anything the trials depend on: settings, seed, the rows read."""
    settings = json.dumps({"model": model, "n": n, "seed": seed, "search": search}, sort_keys=True)
    data = _digest(*(rows[key] for key in sorted(rows)))
    return f"{model}-n{n}-{hashlib.sha256(settings.encode()).hexdigest()[:12]}-{data}"


# --------------------------------------------------------------------------- search space


def suggest(trial: Any, space: Mapping[str, Any]) -> dict[str, Any]:
    """One trial's settings from the configured space (keys as in the schema's tuning.space)."""
    settings: dict[str, Any] = {}
    for key in RANGED:
        bounds = space[key]
        low, high = bounds["low"], bounds["high"]
        if low == high:
            settings[key] = low
        elif key == "hidden_units":
            settings[key] = trial.suggest_int(key, int(low), int(high), log=True)
        else:
            settings[key] = trial.suggest_float(key, float(low), float(high), log=bool(bounds.get("log")))
    for key in CHOSEN:
        choices = list(space[key])
        settings[key] = choices[0] if len(choices) == 1 else trial.suggest_categorical(key, choices)
    settings["momentum"] = float(space["momentum"])
    return settings


def _sampler(search: Mapping[str, Any], seed: int, n: int, index: int):
    import optuna

    return optuna.samplers.TPESampler(
        seed=int(np.random.SeedSequence([seed, n, index, TRIAL_SEED_TAG]).generate_state(1)[0]),
        n_startup_trials=int(search["sampler"]["startup_trials"]),
    )


def _pruner(search: Mapping[str, Any]):
    import optuna

    pruner = search["pruner"]
    if pruner["kind"] == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=int(pruner["startup_trials"]),
                                           n_warmup_steps=int(pruner["warmup_epochs"]))
    if pruner["kind"] == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=max(1, int(pruner["warmup_epochs"])))
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


def run_trial(study, rows: Mapping[str, np.ndarray], search: Mapping[str, Any], seed: int, n: int,
              index: int | None = None) -> int:
    """Ask the study for a trial, train it, tell the result; return the trial's index.

    ``index`` (one worker): the trial's place among the finished ones, which seeds it. None
    (several workers): Optuna's trial number, unique however the workers interleave.
    """
    import optuna

    from kryptonite_n.nets.tuned import train_stack

    draw = index if index is not None else len(study.get_trials(deepcopy=False))
    study.sampler = _sampler(search, seed, n, draw)
    trial = study.ask()
    index = index if index is not None else trial.number
    settings = suggest(trial, search["space"]) | {
        "max_epochs": int(search["max_epochs"]), "patience": int(search["patience"])}
    trial.set_user_attr("index", index)
    pruned_at: list[int] = []

    def on_epoch(epoch: int, validation_acc: np.ndarray) -> bool:
        trial.report(float(validation_acc[0]), epoch)
        if trial.should_prune():
            pruned_at.append(epoch)
            return True
        return False

    started = time.perf_counter()
    predictor = train_stack([(rows["X_train"], rows["y_train"], rows["X_validation"], rows["y_validation"])],
                            settings, [[seed, n, index, TRIAL_SEED_TAG]], on_epoch=on_epoch,
                            label=f"trial {index} n={n}")[0]
    seconds = time.perf_counter() - started
    epochs = pruned_at[0] if pruned_at else predictor.summary["epochs_trained"]
    trial.set_user_attr("epochs", int(epochs))
    trial.set_user_attr("seconds", round(seconds, 3))
    value = float(predictor.summary["best_validation_acc"])
    if pruned_at:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        log.info("trial %d pruned at epoch %d (%.1f s): %s", index, pruned_at[0], seconds, settings)
    else:
        study.tell(trial, value)
        log.info("trial %d: validation accuracy %.4f after %d epochs (%.1f s): %s", index, value,
                 predictor.summary["epochs_trained"], seconds, settings)
    return index


def search(model: str, n: int, *, data_files: Mapping[str, Path | str], split_file: Path | str,
           journal: Path | str, settings: Mapping[str, Any], seed: int,
           out: Path | str | None = None) -> dict[str, Any]:
    """Run trials of the (model, n) study until ``settings['trials']`` have finished.

    ``settings`` is the config's ``tuning`` section. Writes (when ``out`` is given) and returns
    this worker's record: the study name and the trials it ran. The trials are the carbon
    phase ``train`` (the job charges them to the tuned model).
    """
    tuned_name(model)
    search_settings = search_key(settings)
    rows = labelled_rows(data_files, n, split_file)
    name = study_name(model, n, search_settings, seed, rows)
    study = open_study(journal, name, search_settings)
    if int(settings["workers"]) == 1:
        fail_stale_trials(study)  # one worker: anything still running was killed
    target, ran, alone = int(settings["trials"]), [], int(settings["workers"]) == 1
    started = time.perf_counter()
    with phase("train"):
        # Several workers may each start a trial when one is missing: a study can end with
        # up to workers - 1 trials more than asked.
        while (finished := len(_finished(study))) < target:
            ran.append(run_trial(study, rows, search_settings, seed, n, finished if alone else None))
    record = {"study": name, "journal": str(journal), "trials_run": ran,
              "seconds": round(time.perf_counter() - started, 3)}
    log.info("%s n=%d: %d trials finished (%d run now) in %.1f s", model, n, target, len(ran),
             record["seconds"])
    if out is not None:
        write_json(out, record)
    return record


def search_key(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The tuning settings the trials depend on (not which models, n or how many workers)."""
    keys = ("space", "max_epochs", "patience", "split_repeat", "sampler", "pruner")
    return {key: settings[key] for key in keys}


# --------------------------------------------------------------------------- results


def trials_table(study) -> pd.DataFrame:
    """One row per finished trial, in the order they started (``trial``), params as ``param_*``."""
    rows = []
    for trial in sorted(_finished(study), key=lambda t: t.number):
        params = {f"param_{key}": value for key, value in sorted(trial.params.items())}
        rows.append({"trial": trial.user_attrs.get("index"), "number": trial.number,
                     "state": trial.state.name,
                     "validation_acc": trial.value if trial.state.name == "COMPLETE" else np.nan,
                     "last_validation_acc": (trial.intermediate_values[max(trial.intermediate_values)]
                                             if trial.intermediate_values else np.nan),
                     "epochs": trial.user_attrs.get("epochs"), "seconds": trial.user_attrs.get("seconds"),
                     **params})
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
    table.insert(3, "max_epochs", int(settings["max_epochs"]))
    write_csv(outputs["trials"], table)
    write_csv(outputs["importances"], importances(study, seed))


def best_settings(table: pd.DataFrame, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The completed trial with the highest validation accuracy (the earliest on a tie), as
    the refit's settings: its parameters, the fixed ones of the space, the trial's epoch limits."""
    complete = table[table["state"] == "COMPLETE"]
    if complete.empty:
        raise DataError("no trial of the search completed (all pruned or failed): nothing to refit")
    best = complete.sort_values(["validation_acc", "trial"], ascending=[False, True]).iloc[0]
    space = settings["space"]
    chosen: dict[str, Any] = {}
    for key in RANGED:
        column = f"param_{key}"
        chosen[key] = best[column] if column in best and not pd.isna(best[column]) else space[key]["low"]
    for key in CHOSEN:
        column = f"param_{key}"
        chosen[key] = best[column] if column in best and not pd.isna(best[column]) else space[key][0]
    chosen |= {"momentum": float(space["momentum"]), "max_epochs": int(settings["max_epochs"]),
               "patience": int(settings["patience"])}
    for key in ("hidden_units", "layers", "batch_size", "max_epochs", "patience"):
        chosen[key] = int(chosen[key])
    for key in ("lr", "weight_decay", "dropout", "momentum"):
        chosen[key] = float(chosen[key])
    chosen["activation"], chosen["optimizer"] = str(chosen["activation"]), str(chosen["optimizer"])
    return {"settings": chosen, "trial": int(best["trial"]), "validation_acc": float(best["validation_acc"])}


def read_best(trials_csv: Path | str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The refit settings from a search's trials.csv (``settings``: the config's tuning section)."""
    path = Path(trials_csv)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        return best_settings(pd.read_csv(path), settings)["settings"]
    except DataError as error:
        raise DataError(f"{path}: {error}") from None


def fit_tuned(tuned: str, n: int, *, trials_csv: Path | str, tuning: Mapping[str, Any], **fit) -> None:
    """Refit the best trial of ``trials_csv`` on every repeat as model ``tuned`` (``fit``: the
    keyword arguments of ``models.fit_model`` but ``settings``)."""
    from kryptonite_n.models.driver import fit_model

    settings = read_best(trials_csv, tuning)
    log.info("%s n=%d: refitting the best trial's settings %s", tuned, n, settings)
    fit_model(tuned, n, settings=settings, **fit)


def pruning_saving(table: pd.DataFrame) -> dict[str, float]:
    """Epochs the trials ran, against at most what they would have run unpruned (max_epochs each
    for the pruned ones: an upper bound, as early stopping might have ended them sooner)."""
    pruned = table["state"] == "PRUNED"
    run = float(table["epochs"].sum())
    bound = float(table.loc[~pruned, "epochs"].sum() + table.loc[pruned, "max_epochs"].sum())
    return {"trials": len(table), "pruned": int(pruned.sum()), "epochs_run": run,
            "epochs_unpruned_at_most": bound, "share_saved_at_most": 1 - run / bound if bound else math.nan}
