"""Every bad-input branch of the readers, the jobs, the models' fits and the configuration,
reached: each raises DataError whose message starts with the file (or the configuration key,
model or n) it is about. The MLP training's own guards raise ValueError, naming the setting or n
first (GUARD_CASES).

One case per branch. docs/testing.md lists the branches and how the list was checked with
coverage (``raise DataError`` lines reached by this file).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kryptonite_n.compute import carbon
from kryptonite_n.compute.attacks import AttackSettings, evaluate
from kryptonite_n.compute.carbon import CarbonSettings, grid_intensity
from kryptonite_n.compute.data import read_dataset, read_labelled, read_truths
from kryptonite_n.compute.explore import read_informative
from kryptonite_n.compute.models import fso_logreg, parity_gf2, xor_oracle
from kryptonite_n.compute.models.mock_baseline import MockBaselinePredictor
from kryptonite_n.compute.models.xor_oracle import load_rule
from kryptonite_n.compute.monomial_basis import MAX_FACTOR_ENTRIES, MonomialBasis
from kryptonite_n.compute.monomials import check_monomials
from kryptonite_n.compute.nets import training
from kryptonite_n.compute.nets.perceptron import MLPPredictor
from kryptonite_n.compute.robustness import analyse_networks, map_decision_boundary
from kryptonite_n.compute.trials import read_best
from kryptonite_n.compute.tuning import collect, labelled_rows
from kryptonite_n.contract import FitTask, Split
from kryptonite_n.io import DataError, read_json
from kryptonite_n.plan import paths
from kryptonite_n.plan.config import check_published_folder, check_tuning, prepare_config
from kryptonite_n.report import site
from kryptonite_n.report.figures import boundary_table, xor_slice
from kryptonite_n.report.figures.models import draw_training
from kryptonite_n.tables import results as tables
from kryptonite_n.tables import summary
from kryptonite_n.tables.scaling import collect_scaling, read_breaks, read_scaling, study_rows_of


def save(path: Path, array: np.ndarray | bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(array, bytes):
        path.write_bytes(array)
    elif isinstance(array, str):
        path.write_text(array)
    else:
        np.save(path, array, allow_pickle=False)
    return path


def dataset(tmp: Path, **damage: np.ndarray | bytes | str | None) -> dict[str, Path]:
    """A valid n = 3 dataset's files, with ``damage`` replacing (or, None, removing) some."""
    rng = np.random.default_rng(0)
    good = {
        "X": rng.random((20, 3), dtype=np.float32),
        "y": rng.integers(0, 2, 20),
        "hidden_X": rng.random((5, 3), dtype=np.float32),
        "hidden_y": rng.integers(0, 2, 5),
        "truth": json.dumps({"n": 3}),
    }
    files = {}
    for key, value in {**good, **damage}.items():
        files[key] = tmp / f"{key}.{'json' if key == 'truth' else 'npy'}"
        if value is not None:
            save(files[key], value)
    return files


def no_dot() -> None:
    which = site.shutil.which
    site.shutil.which = lambda name: None
    try:
        site.dot_to_svg("digraph {}")
    finally:
        site.shutil.which = which


def tuned(split_repeat: int | None = None, **space: dict) -> dict:
    """The default configuration with its tuning section changed (after the schema's checks)."""
    config = prepare_config({})
    if split_repeat is not None:
        config["tuning"]["split_repeat"] = split_repeat
    config["tuning"]["space"].update(space)
    return config


def nonfinite() -> np.ndarray:
    X = np.ones((20, 3), dtype=np.float32)
    X[4, 2] = np.nan
    return X


def fit_task(
    informative: list[int] | None = None,
    train: int = 12,
    validation: int = 4,
    constant: int | None = None,
    failure: str | None = None,
    repeats: int = 1,
) -> FitTask:
    """One repeat of n = 3 on 20 rows: ``train`` training rows, then validation and test rows;
    ``constant`` makes that feature constant, ``failure`` is the repeat's shape failure."""
    rng = np.random.default_rng(0)
    X = rng.random((20, 3), dtype=np.float32)
    if constant is not None:
        X[:, constant] = 0.5
    rows = np.arange(20)
    split = Split(rows[:train], rows[train : train + validation], rows[train + validation :])
    return FitTask(
        n=3,
        X=X,
        y=rng.integers(0, 2, 20),
        splits=[split],
        repeats=list(range(repeats)),
        settings={},
        seed=0,
        informative_by_repeat=[[0, 1] if informative is None else informative],
        shape_failure_by_repeat=[failure],
    )


def opaque_attack() -> None:
    """A predictor with neither a logit nor a threshold rule (the mock baseline) under a gradient attack."""
    predictor = MockBaselinePredictor(np.eye(3, dtype=np.int64), np.ones(3), 0.0, C=1.0)
    X = np.random.default_rng(0).random((4, 3), dtype=np.float32)
    evaluate(predictor, X, np.zeros(4), [0, 1], AttackSettings(eps=(0.1,), methods=("fgsm",)), seed=0)


def factor_limit() -> None:
    """Monomials of n = 28 whose 14-bit left and right halves both take every value: a
    2^14 x 2^14 factor matrix, above MAX_FACTOR_ENTRIES."""
    codes = np.arange(1 << 14)
    half = (codes[:, None] >> np.arange(14)) & 1
    assert MAX_FACTOR_ENTRIES < 1 << 28
    MonomialBasis(np.concatenate([half, half], axis=1).astype(bool))


def wrong_activation(tmp: Path) -> None:
    """A relu network given as the tanh one to the network analysis."""
    files = dataset(tmp, truth=json.dumps({"n": 3, "informative": [0, 1]}))
    network = MLPPredictor(np.ones((3, 2)), np.zeros(2), np.ones(2), 0.0, np.zeros(3), np.ones(3), "relu")
    model = tmp / "relu" / "model.npz"
    model.parent.mkdir(parents=True)
    np.savez(model, **network.arrays())
    analyse_networks(
        3,
        model="mlp",
        model_files={"tanh": [str(model)]},
        split_files=[str(save(tmp / "split.npy", np.repeat(np.int8([0, 1, 2]), [12, 4, 4])))],
        data_files=files,
        features_csv=tmp / "features.csv",
        outputs={},
        attack_settings={},
        robustness={},
        seed=0,
        repeats=[0],
    )


def study_metrics_missing(tmp: Path) -> None:
    """The study's cell of mlp at n = 9 with a metrics table of n = 12 only."""
    table = save(tmp / "metrics.csv", metrics_columns + "\nmlp,12,0,0.9,0.9,0.9\n")
    cells = {"mlp": {"9": {"rows_factor": 1.0, "test_rows": 10, "settings": {}}}}
    study_rows_of({"study_cells": cells, "seed": 0}, [str(table)])


def mixed_workers(tmp: Path) -> None:
    """Two workers of one search whose records name different studies in the same journal."""
    journal = str(tmp / "journal.log")
    records = [
        save(tmp / f"worker{i}.json", json.dumps({"study": f"study{i}", "journal": journal}))
        for i in range(2)
    ]
    collect("mlp", 9, worker_records=records, settings={}, seed=0, outputs={})


#: (case, the call that must fail, the file key (or text) its message starts with).
Case = tuple[str, Callable[[Path], object], Callable[[Path], str]]
metrics_columns = ",".join(summary.METRIC_COLUMNS)
CASES: list[Case] = [
    # kryptonite_n.compute.data: the dataset reader
    ("X missing", lambda t: read_labelled(dataset(t, X=None), 3), lambda t: str(t / "X.npy")),
    ("X not npy", lambda t: read_labelled(dataset(t, X=b"not an array"), 3), lambda t: str(t / "X.npy")),
    ("X wrong n", lambda t: read_labelled(dataset(t, X=np.ones((20, 4))), 3), lambda t: str(t / "X.npy")),
    ("X no rows", lambda t: read_labelled(dataset(t, X=np.ones((0, 3))), 3), lambda t: str(t / "X.npy")),
    (
        "X strings",
        lambda t: read_labelled(dataset(t, X=np.full((20, 3), "a")), 3),
        lambda t: str(t / "X.npy"),
    ),
    ("X nan", lambda t: read_labelled(dataset(t, X=nonfinite()), 3), lambda t: str(t / "X.npy")),
    ("y 2-D", lambda t: read_labelled(dataset(t, y=np.ones((20, 2))), 3), lambda t: str(t / "y.npy")),
    ("y short", lambda t: read_labelled(dataset(t, y=np.ones(19)), 3), lambda t: str(t / "y.npy")),
    ("y strings", lambda t: read_labelled(dataset(t, y=np.full(20, "a")), 3), lambda t: str(t / "y.npy")),
    ("y not 0/1", lambda t: read_labelled(dataset(t, y=np.full(20, 2)), 3), lambda t: str(t / "y.npy")),
    (
        "hidden_X wrong n",
        lambda t: read_dataset(dataset(t, hidden_X=np.ones((5, 2))), 3),
        lambda t: str(t / "hidden_X.npy"),
    ),
    (
        "hidden_y short",
        lambda t: read_dataset(dataset(t, hidden_y=np.ones(4, dtype=int)), 3),
        lambda t: str(t / "hidden_y.npy"),
    ),
    (
        "truth not json",
        lambda t: read_dataset(dataset(t, truth="{not json"), 3),
        lambda t: str(t / "truth.json"),
    ),
    (
        "truths not json",
        lambda t: read_truths([save(t / "n9" / "truth.json", "{")]),
        lambda t: str(t / "n9" / "truth.json"),
    ),
    (
        "truths missing",
        lambda t: read_truths([t / "n9" / "truth.json"]),
        lambda t: str(t / "n9" / "truth.json"),
    ),
    # kryptonite_n.plan.paths
    ("no n in path", lambda t: paths.n_of(t / "table.csv"), lambda t: str(t / "table.csv")),
    ("no repeat in path", lambda t: paths.repeat_of(t / "n9" / "m.json"), lambda t: str(t / "n9" / "m.json")),
    # kryptonite_n.tables.summary: metrics tables, metrics files, hidden predictions
    (
        "metrics table missing",
        lambda t: summary.read_metric_tables([t / "metrics.csv"]),
        lambda t: str(t / "metrics.csv"),
    ),
    (
        "metrics table columns",
        lambda t: summary.read_metric_tables([save(t / "metrics.csv", "model,n\nmlp,9\n")]),
        lambda t: str(t / "metrics.csv"),
    ),
    (
        "metrics table empty",
        lambda t: summary.read_metric_tables([save(t / "metrics.csv", metrics_columns + "\n")]),
        lambda t: str(t / "metrics.csv"),
    ),
    (
        "metrics table malformed",
        lambda t: summary.read_metric_tables([save(t / "metrics.csv", 'model,n\n"mlp,9\n')]),
        lambda t: str(t / "metrics.csv"),
    ),
    (
        "metrics file missing",
        lambda t: summary.collect_support([t / "metrics.json"], [], t / "support.csv"),
        lambda t: str(t / "metrics.json"),
    ),
    (
        "hidden predictions missing",
        lambda t: summary.choose_hidden_labels(
            [save(t / "metrics.csv", metrics_columns + ",hidden_acc\nmlp,9,0,0.9,0.9,0.9,0.9\n")],
            str(t / "{model}" / "n{n}" / "repeat{repeat}.npy"),
            {9: t / "out.npy"},
            t / "choice.csv",
        ),
        lambda t: str(t / "mlp" / "n9" / "repeat0.npy"),
    ),
    (
        "hidden predictions not labels",
        lambda t: summary.choose_hidden_labels(
            [save(t / "metrics.csv", metrics_columns + ",hidden_acc\nmlp,9,0,0.9,0.9,0.9,0.9\n")],
            str(
                save(t / "mlp" / "n9" / "repeat0.npy", np.full(5, 3)).parent.parent
                / "n{n}"
                / "repeat{repeat}.npy"
            ),
            {9: t / "out.npy"},
            t / "choice.csv",
        ),
        lambda t: str(t / "mlp" / "n9" / "repeat0.npy"),
    ),
    # kryptonite_n.tables.results: every page's table reader
    (
        "report table missing",
        lambda t: tables.read_table(t / "summary.csv"),
        lambda t: str(t / "summary.csv"),
    ),
    (
        "report table malformed",
        lambda t: tables.read_table(save(t / "summary.csv", b"a,b\n\xff\xfe,\x00\n")),
        lambda t: str(t / "summary.csv"),
    ),
    (
        "report table columns",
        lambda t: tables.read_table(save(t / "summary.csv", "a\n1\n"), ["model"]),
        lambda t: str(t / "summary.csv"),
    ),
    # kryptonite_n.compute.carbon: a job's carbon CSV
    ("carbon missing", lambda t: carbon.read_carbon(t / "carbon.csv"), lambda t: str(t / "carbon.csv")),
    (
        "carbon columns",
        lambda t: carbon.read_carbon(save(t / "carbon.csv", "stage\ntrain\n")),
        lambda t: str(t / "carbon.csv"),
    ),
    (
        "carbon stage",
        lambda t: carbon.read_carbon(
            save(
                t / "carbon.csv",
                ",".join(carbon.COLUMNS)
                + "\n"
                + ",".join(["party"] + [""] * (len(carbon.COLUMNS) - 1))
                + "\n",
            )
        ),
        lambda t: str(t / "carbon.csv"),
    ),
    # kryptonite_n.compute.scaling and kryptonite_n.compute.tuning: tables read back
    (
        "scaling table missing",
        lambda t: read_scaling([t / "scaling.csv"]),
        lambda t: str(t / "scaling.csv"),
    ),
    (
        "scaling table columns",
        lambda t: read_scaling([save(t / "scaling.csv", "model\nmlp\n")]),
        lambda t: str(t / "scaling.csv"),
    ),
    ("breaks missing", lambda t: read_breaks([t / "breaks.csv"]), lambda t: str(t / "breaks.csv")),
    (
        "breaks columns",
        lambda t: read_breaks([save(t / "breaks.csv", "model\nmlp\n")]),
        lambda t: str(t / "breaks.csv"),
    ),
    (
        "scaling part columns",
        lambda t: collect_scaling([save(t / "part.csv", "model\nmlp\n")], t / "out.csv", {}),
        lambda t: str(t / "part.csv"),
    ),
    ("trials missing", lambda t: read_best(t / "trials.csv", {}), lambda t: str(t / "trials.csv")),
    (
        "features columns",
        lambda t: read_informative(save(t / "features.csv", "feature\n0\n")),
        lambda t: str(t / "features.csv"),
    ),
    ("features missing", lambda t: read_informative(t / "features.csv"), lambda t: str(t / "features.csv")),
    ("JSON missing", lambda t: read_json(t / "worker.json"), lambda t: str(t / "worker.json")),
    (
        "JSON malformed",
        lambda t: read_json(save(t / "worker.json", "{study")),
        lambda t: str(t / "worker.json"),
    ),
    (
        "worker record missing",
        lambda t: collect("mlp", 9, worker_records=[t / "worker0.json"], settings={}, seed=0,
                                 outputs={}),
        lambda t: str(t / "worker0.json"),
    ),
    (
        "trials none complete",
        lambda t: read_best(save(t / "trials.csv", "trial,state,validation_acc\n0,PRUNED,0.5\n"), {}),
        lambda t: str(t / "trials.csv"),
    ),
    (
        "split without validation rows",
        lambda t: labelled_rows(dataset(t), 3, [save(t / "split.npy", np.zeros(20, dtype=np.int8))]),
        lambda t: str(t / "split.npy"),
    ),
    (
        "split beyond the rows",
        lambda t: labelled_rows(
            dataset(t), 3, [save(t / "split.npy", np.array([0, 1] * 15, dtype=np.int8))]
        ),
        lambda t: str(t / "split.npy"),
    ),
    # kryptonite_n.report: figure inputs and the site
    (
        "history without numbers",
        lambda t: draw_training(
            {"history": [save(t / "mlp" / "n9" / "repeat0" / "history.csv", "epoch,note\n1,a\n")]}
        ),
        lambda t: str(t / "mlp" / "n9" / "repeat0" / "history.csv"),
    ),
    (
        "boundary without probability",
        lambda t: boundary_table([save(t / "n9.csv", "x,y,model\n0,0,mlp\n")]),
        lambda t: str(t / "n9.csv"),
    ),
    (
        "document outside docs",
        lambda t: site.stage_documents(t / "docs", [save(t / "page.md", "x")], t / "staging"),
        lambda t: str(t / "page.md"),
    ),
    (
        "mkdocs config broken",
        lambda t: site.mkdocs_build(save(t / "mkdocs.yml", "site_name: [unclosed\n")),
        lambda t: "mkdocs build --strict failed for " + str(t / "mkdocs.yml"),
    ),
    # compute.boundary and compute.nets.inspection: the jobs' own checks of their inputs
    (
        "boundary with one informative feature",
        lambda t: map_decision_boundary(
            3,
            entries=[],
            split_file=str(t / "split.npy"),
            repeat=0,
            data_files=dataset(t),
            features_csv=save(t / "features.csv", "feature,informative\n0,True\n1,False\n2,False\n"),
            outputs={},
            grid=5,
        ),
        lambda t: str(t / "features.csv"),
    ),
    ("network of another activation", wrong_activation, lambda t: str(t / "relu" / "model.npz")),
    # kryptonite_n.compute.scaling and kryptonite_n.compute.tuning: what the collecting jobs are handed
    (
        "study metrics missing a cell",
        study_metrics_missing,
        lambda t: f"the study's metrics of mlp at n = 9 are not among {[str(t / 'metrics.csv')]}",
    ),
    ("workers of different studies", mixed_workers, lambda t: "mlp n=9"),
]

#: Branches about a setting or a model rather than a file: (case, call, what the message starts with).
KEY_CASES: list[tuple[str, Callable[[], object], str]] = [
    ("carbon.enabled", lambda: CarbonSettings.of({"enabled": "yes"}), "carbon.enabled must"),
    ("carbon.country", lambda: CarbonSettings.of({"country": "uk"}), "carbon.country must"),
    ("carbon.tdp_w", lambda: CarbonSettings.of({"tdp_w": 0}), "carbon.tdp_w must"),
    ("carbon.country unknown", lambda: grid_intensity("XYZ"), "carbon.country='XYZ'"),
    ("poly degrees empty", lambda: check_monomials(9, 3, 2, 1000), "polynomial LR settings"),
    ("poly degree above n", lambda: check_monomials(3, 4, 5, 1000), "polynomial LR settings"),
    ("poly too many monomials", lambda: check_monomials(24, 10, 12, 1000), "polynomial LR settings"),
    ("parity rule arrays", lambda: load_rule({"features": np.arange(2)}), "model.npz"),
    ("XOR slice", lambda: xor_slice(np.zeros((4, 3)), np.zeros(4), [1], 10), "an XOR slice"),
    (
        "summary split",
        lambda: summary.summarise_models([], [], {"dimensions": [9], "models": {}}, "out.csv"),
        "the summary's configuration has no 'split'",
    ),
    ("dot missing", lambda: no_dot(), "graphviz 'dot' not found"),
    ("dot fails", lambda: site.dot_to_svg("this is not a graph"), "dot -Tsvg failed"),
    (
        "rule graph fails",
        lambda: site.rule_graph_dot(["false"], ".", "config.yaml"),
        "snakemake --rulegraph failed",
    ),
    (
        "tuning.split_repeat",
        lambda: check_tuning(tuned(split_repeat=10)),
        "invalid config at 'tuning.split_repeat'",
    ),
    (
        "tuning range",
        lambda: check_tuning(tuned(lr={"low": 0.3, "high": 0.1, "log": True})),
        "invalid config at 'tuning.space.lr'",
    ),
    (
        "tuning log scale",
        lambda: check_tuning(tuned(weight_decay={"low": 0.0, "high": 0.1, "log": True})),
        "invalid config at 'tuning.space.weight_decay'",
    ),
    (
        "tuning dropout",
        lambda: check_tuning(tuned(dropout={"low": 0.0, "high": 1.0, "log": False})),
        "invalid config at 'tuning.space.dropout'",
    ),
    (
        "scaling.models",
        lambda: prepare_config({"scaling": {"models": {"mock_baseline": {}}}}),
        "invalid config at 'scaling.models'",
    ),
    (
        "hidden labels of an n never fitted",
        lambda: summary.choose_hidden_labels(
            [], "{model}/n{n}/repeat{repeat}.npy", {9: "out.npy"}, "choice.csv"
        ),
        "no fitted model to choose hidden labels from for n = [9]",
    ),
    # the models' fits, on a FitTask built directly: from the driver, a repeat with no informative
    # feature always carries a shape failure and is marked not applicable instead
    # (test_no_separation_is_not_applicable)
    ("FSO no informative feature", lambda: fso_logreg.fit(fit_task([])), "n=3: no feature was inferred"),
    (
        "FSO constant feature",
        lambda: fso_logreg.fit(fit_task(constant=1)),
        "n=3: a selected feature is constant",
    ),
    ("XOR no informative feature", lambda: xor_oracle.fit(fit_task([])), "n=3: no feature was inferred"),
    (
        "GF(2) empty training split",
        lambda: parity_gf2.fit(fit_task(train=0)),
        "n=3 repeat 0: the training split",
    ),
    ("attack on an opaque model", opaque_attack, "MockBaselinePredictor: neither a logit"),
    ("factor matrix limit", factor_limit, "polynomial LR: 16384 monomials of n=28"),
]

#: Guards of the MLP's training that raise ValueError (not DataError): the settings reach them only
#: past the schema and check_tuning, the splits only from the workflow's own jobs.
GUARD_CASES: list[tuple[str, Callable[[], object], str]] = [
    *[
        (
            f"MLP {key}",
            lambda key=key, value=value: training.resolve_settings({key: value}),
            f"MLP setting '{key}'=",
        )
        for key, value in [
            ("activation", "swish"),
            ("optimizer", "lbfgs"),
            ("dropout", 1.0),
            ("layers", 3),
            ("hidden_units", 0),
            ("lr", float("nan")),
        ]
    ],
    ("MLP repeats and splits", lambda: training.fit(fit_task(repeats=2)), "n=3: 2 repeats but 1 splits"),
    (
        "MLP rows and splits",
        lambda: training.fit(fit_task(), rows=[{}, {}]),
        "n=3: 2 row settings for 1 splits",
    ),
    ("MLP row setting", lambda: training.fit(fit_task(), rows=[{"layers": 2}]), "MLP settings ['layers']"),
    ("MLP no validation rows", lambda: training.fit(fit_task(validation=0)), "n=3: every repeat needs"),
]

CONFIG_CASES = [
    ("schema type", {"repeats": "many"}, "invalid config at 'repeats'"),
    ("schema nested", {"models": {"mlp": {"max_epochs": -1}}}, "invalid config at 'models.mlp.max_epochs'"),
    ("split sum", {"split": {"train": 0.5, "validation": 0.2, "test": 0.2}}, "invalid config at 'split'"),
    ("attack model", {"attacks": {"models": ["mock_baseline"]}}, "invalid config at 'attacks.models'"),
]


@pytest.mark.parametrize(("make", "about"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_its_file_first(tmp_path, make, about):
    with pytest.raises(DataError) as error:
        make(tmp_path)
    assert str(error.value).startswith(f"{about(tmp_path)}:"), str(error.value)


@pytest.mark.parametrize(
    ("config", "key"), [(c[1], c[2]) for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_bad_config_names_its_key_first(config, key):
    with pytest.raises(DataError) as error:
        prepare_config(config)
    assert str(error.value).startswith(f"{key}:") or str(error.value).startswith(f"{key} "), str(error.value)


def test_a_data_dir_of_other_n_names_the_n_it_holds(tmp_path):
    # Files of the later edition (n = 10) under a configuration of the first edition's n.
    for name in ("kryptonite-10-X.npy", "kryptonite-10-y.npy", "hidden-kryptonite-10-X.npy",
                 "kryptonite-9-X.npy"):
        save(tmp_path / name, np.zeros(2))
    with pytest.raises(DataError) as error:
        check_published_folder(tmp_path, [9, 10, 12])
    message = str(error.value)
    assert message.startswith("invalid config at 'dimensions'"), message
    assert "n = 9 (kryptonite-9-y.npy, hidden-kryptonite-9-X.npy), n = 12;" in message
    assert "it holds n = 9, 10" in message
    check_published_folder(tmp_path, [10])  # n it holds in full: no error
    with pytest.raises(DataError, match=r"^invalid config at 'data_dir': .*missing is not a folder"):
        check_published_folder(tmp_path / "missing", [10])


@pytest.mark.parametrize(("make", "about"), [(c[1], c[2]) for c in KEY_CASES], ids=[c[0] for c in KEY_CASES])
def test_bad_settings_name_their_key_first(make, about):
    with pytest.raises(DataError) as error:
        make()
    assert str(error.value).startswith(about), str(error.value)


@pytest.mark.parametrize(
    ("make", "about"), [(c[1], c[2]) for c in GUARD_CASES], ids=[c[0] for c in GUARD_CASES]
)
def test_training_guards_name_their_setting_first(make, about):
    with pytest.raises(ValueError) as error:
        make()
    assert str(error.value).startswith(about), str(error.value)


@pytest.mark.parametrize("model", [fso_logreg, xor_oracle], ids=["fso_logreg", "xor_oracle"])
def test_no_separation_is_not_applicable(model):
    """No informative feature raises only when the task gives no reason; with the shape failure
    the driver always pairs it with (explore.separation), the model marks itself not applicable."""
    (predictor,) = model.fit(fit_task([], failure="the noise shapes separate no family"))
    assert predictor.details()["not_applicable"].startswith("the noise shapes separate no family")


def test_nothing_is_written_for_bad_hidden_predictions(tmp_path):
    """The submission files are written only once every chosen prediction file has been read."""
    table = save(
        tmp_path / "metrics.csv",
        metrics_columns + ",hidden_acc\nmlp,9,0,0.9,0.9,0.9,0.9\nmlp,12,0,0.9,0.9,0.9,0.9\n",
    )
    save(tmp_path / "mlp" / "n9" / "repeat0.npy", np.ones(5, dtype=np.int64))
    outputs = {9: tmp_path / "out9.npy", 12: tmp_path / "out12.npy"}
    with pytest.raises(DataError):
        summary.choose_hidden_labels(
            [table],
            str(tmp_path / "{model}" / "n{n}" / "repeat{repeat}.npy"),
            outputs,
            tmp_path / "choice.csv",
        )
    assert not any(p.exists() for p in outputs.values()) and not (tmp_path / "choice.csv").exists()
    assert pd.read_csv(table).shape[0] == 2
