"""Every bad-input branch of the readers and the configuration, reached: each raises DataError
whose message starts with the file (or the configuration key) it is about.

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

from kryptonite_n import carbon, paths, scaling, summary, tuning
from kryptonite_n.carbon import CarbonSettings, grid_intensity
from kryptonite_n.config import prepare_config
from kryptonite_n.data import read_dataset, read_labelled, read_truths
from kryptonite_n.explore import read_informative
from kryptonite_n.io import DataError
from kryptonite_n.models.xor_oracle import load_rule
from kryptonite_n.monomials import check_monomials
from kryptonite_n.report import site, tables
from kryptonite_n.report.figures import boundary_table, xor_slice
from kryptonite_n.report.figures.models import draw_training


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


#: (case, the call that must fail, the file key (or text) its message starts with).
Case = tuple[str, Callable[[Path], object], Callable[[Path], str]]
metrics_columns = ",".join(summary.METRIC_COLUMNS)
CASES: list[Case] = [
    # kryptonite_n.data: the dataset reader
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
    # kryptonite_n.paths
    ("no n in path", lambda t: paths.n_of(t / "table.csv"), lambda t: str(t / "table.csv")),
    ("no repeat in path", lambda t: paths.repeat_of(t / "n9" / "m.json"), lambda t: str(t / "n9" / "m.json")),
    # kryptonite_n.summary: metrics tables, metrics files, hidden predictions
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
    # kryptonite_n.report.tables: every page's table reader
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
    # kryptonite_n.carbon: a job's carbon CSV
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
    # kryptonite_n.scaling and kryptonite_n.tuning: tables read back
    (
        "scaling table missing",
        lambda t: scaling.read_scaling([t / "scaling.csv"]),
        lambda t: str(t / "scaling.csv"),
    ),
    (
        "scaling table columns",
        lambda t: scaling.read_scaling([save(t / "scaling.csv", "model\nmlp\n")]),
        lambda t: str(t / "scaling.csv"),
    ),
    ("breaks missing", lambda t: scaling.read_breaks([t / "breaks.csv"]), lambda t: str(t / "breaks.csv")),
    (
        "breaks columns",
        lambda t: scaling.read_breaks([save(t / "breaks.csv", "model\nmlp\n")]),
        lambda t: str(t / "breaks.csv"),
    ),
    (
        "scaling part columns",
        lambda t: scaling.collect_scaling([save(t / "part.csv", "model\nmlp\n")], t / "out.csv", {}),
        lambda t: str(t / "part.csv"),
    ),
    ("trials missing", lambda t: tuning.read_best(t / "trials.csv", {}), lambda t: str(t / "trials.csv")),
    (
        "features columns",
        lambda t: read_informative(save(t / "features.csv", "feature\n0\n")),
        lambda t: str(t / "features.csv"),
    ),
    (
        "trials none complete",
        lambda t: tuning.read_best(save(t / "trials.csv", "trial,state,validation_acc\n0,PRUNED,0.5\n"), {}),
        lambda t: str(t / "trials.csv"),
    ),
    (
        "split without validation rows",
        lambda t: tuning.labelled_rows(dataset(t), 3, [save(t / "split.npy", np.zeros(20, dtype=np.int8))]),
        lambda t: str(t / "split.npy"),
    ),
    (
        "split beyond the rows",
        lambda t: tuning.labelled_rows(
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
        lambda: tuning.check_settings(tuned(split_repeat=10)),
        "invalid config at 'tuning.split_repeat'",
    ),
    (
        "tuning range",
        lambda: tuning.check_settings(tuned(lr={"low": 0.3, "high": 0.1, "log": True})),
        "invalid config at 'tuning.space.lr'",
    ),
    (
        "tuning log scale",
        lambda: tuning.check_settings(tuned(weight_decay={"low": 0.0, "high": 0.1, "log": True})),
        "invalid config at 'tuning.space.weight_decay'",
    ),
    (
        "tuning dropout",
        lambda: tuning.check_settings(tuned(dropout={"low": 0.0, "high": 1.0, "log": False})),
        "invalid config at 'tuning.space.dropout'",
    ),
    (
        "scaling.models",
        lambda: scaling.scaling_models({"scaling": {"models": {"mock_baseline": {}}}}),
        "invalid config at 'scaling.models'",
    ),
    (
        "hidden labels of an n never fitted",
        lambda: summary.choose_hidden_labels(
            [], "{model}/n{n}/repeat{repeat}.npy", {9: "out.npy"}, "choice.csv"
        ),
        "no fitted model to choose hidden labels from for n = [9]",
    ),
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


@pytest.mark.parametrize(("make", "about"), [(c[1], c[2]) for c in KEY_CASES], ids=[c[0] for c in KEY_CASES])
def test_bad_settings_name_their_key_first(make, about):
    with pytest.raises(DataError) as error:
        make()
    assert str(error.value).startswith(about), str(error.value)


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
