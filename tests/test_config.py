"""The config: defaults, command-line coercion, validation messages, per-n resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import REPO

from kryptonite_n.io import DataError
from kryptonite_n.plan.config import (
    model_dimensions,
    model_settings,
    prepare_config,
    settings_origin,
    skip_reason,
)
from kryptonite_n.plan.paths import dataset_files


def test_defaults_are_the_published_study():
    config = prepare_config({})
    assert config["dimensions"] == [9, 12, 15, 18, 24, 30, 45]
    assert config["repeats"] == 10 and config["data_dir"] is None
    assert config["split"] == {"train": 0.6, "validation": 0.2, "test": 0.2}
    assert config["generator"]["rows_per_feature"] == 2000


def test_command_line_strings_behave_like_file_values():
    # What `snakemake --config dimensions=[15,18] 'models={mlp: {by_n: {12: {lr: 0.05}}}}'` delivers.
    from_cli = prepare_config({"dimensions": ["15", "18"], "data_dir": "null", "seed": "3",
                               "carbon": {"enabled": "false"},
                               "models": {"mlp": {"by_n": {"12": {"lr": "0.05"}}}}})
    from_file = prepare_config(yaml.safe_load(
        "{dimensions: [15, 18], data_dir: null, seed: 3, carbon: {enabled: false},"
        " models: {mlp: {by_n: {12: {lr: 0.05}}}}}"))
    assert from_cli == from_file
    assert from_cli["models"]["mlp"]["by_n"]["12"]["lr"] == 0.05


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({"dimensoins": [9]}, "'dimensoins' was unexpected"),
        ({"dimensions": [1]}, "dimensions.0"),
        ({"generator": {"layout": "stripes"}}, "generator.layout"),
        ({"generator": {"parity_share": 0}}, "generator.parity_share"),
        ({"models": {"mlp": {"max_n": 0}}}, "models.mlp.max_n"),
        ({"models": {"mlp": {"by_n": {"12": {"learning_rate": 1}}}}}, "models.mlp.by_n.12"),
        ({"models": {"mlp": {"optimizer": "rmsprop"}}}, "models.mlp.optimizer"),
        ({"split": {"train": 0.7}}, "split"),
        ({"repeats": "many"}, "repeats"),
    ],
)
def test_invalid_config_names_the_key(config, where):
    with pytest.raises(DataError, match="invalid config") as caught:
        prepare_config(config)
    assert where in str(caught.value)


def published_folder(folder: Path, *dimensions: int) -> Path:
    """A folder holding (empty) published files of ``dimensions``: the configuration checks
    their names, the data stage their contents."""
    for n in dimensions:
        for file in dataset_files(folder, n).values():
            file.parent.mkdir(parents=True, exist_ok=True)
            file.touch()
    return folder


def test_any_n_published_or_generated(tmp_path):
    folder = published_folder(tmp_path, 10)
    assert prepare_config({"dimensions": [10], "data_dir": str(folder)})["dimensions"] == [10]
    # The one path of a configuration checks the folder: an n it lacks is named at once.
    lacking = r"^invalid config at 'dimensions': data_dir .* has no published files for n = 12"
    with pytest.raises(DataError, match=lacking):
        prepare_config({"dimensions": [10, 12], "data_dir": str(folder)})
    assert prepare_config({"dimensions": [10, 14, 16]})["dimensions"] == [10, 14, 16]


def test_model_settings_fall_back_to_the_nearest_n():
    config = prepare_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    assert model_settings(config, "mlp", 45) == model_settings(config, "mlp", 18)
    assert model_settings(config, "mlp", 18)["optimizer"] == "adam"
    assert model_settings(config, "mlp", 12)["lr"] == 0.1
    # An n the paper never had: the nearest n's row (ties to the smaller n), said so by the origin.
    assert model_settings(config, "mlp", 10) == model_settings(config, "mlp", 9)
    assert model_settings(config, "mlp", 14) == model_settings(config, "mlp", 15)
    assert model_settings(config, "mlp", 16) == model_settings(config, "mlp", 15)
    assert [settings_origin(config, "mlp", n) for n in (10, 13, 14, 16, 20, 45)] == [9, 12, 15, 15, 18, 18]
    assert settings_origin(config, "xor_oracle", 10) is None
    # Polynomial LR's degrees follow the parity's size: never another n's.
    assert model_settings(config, "poly_logreg", 15)["min_degree"] == 10
    at_16 = model_settings(config, "poly_logreg", 16)
    assert at_16["min_degree"] is None and at_16["max_degree"] is None
    assert at_16["penalty"] == "l1" and at_16["alpha"] == 0.015


def test_shipped_study_keeps_its_models_on_the_first_edition():
    config = prepare_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    assert model_dimensions(config, "poly_logreg") == [9, 12, 15, 18]
    assert model_dimensions(config, "mlp") == [9, 12, 15, 18, 24]
    assert model_dimensions(config, "mock_baseline") == [9, 12]
    assert skip_reason(config, "mlp", 30) == "not run: n=30 is above models.mlp.max_n (24)"
    assert skip_reason(config, "poly_logreg", 24).startswith("not run: monomial count explodes")


def test_default_dimensions_follow_the_data():
    # The later edition's n: every model runs on them (within max_n and its own limits).
    config = prepare_config({**yaml.safe_load((REPO / "config" / "config.yaml").read_text()),
                             "dimensions": [10, 14, 16, 20]})
    for model in ("mlp", "xor_oracle", "fso_logreg", "parity_gf2"):
        assert model_dimensions(config, model) == [10, 14, 16, 20], model
    # The schema's default for the tuned MLP too (config.yaml lists its n for the time budget).
    defaults = prepare_config({"dimensions": [10, 14, 16, 20]})
    assert model_dimensions(defaults, "mlp_tuned") == [10, 14, 16, 20]
    # C(20, 9..11) > max_monomials at n = 20, whatever parity size the training rows show.
    assert model_dimensions(config, "poly_logreg") == [10, 14, 16]
    assert model_dimensions(config, "mock_baseline") == [10]


def test_shipped_configs_are_valid():
    for name in ("config.yaml", "quick.yaml"):
        prepare_config(yaml.safe_load((REPO / "config" / name).read_text()))


def _merged(base: dict, override: dict) -> dict:
    """``override`` over ``base``, key by key, as Snakemake merges a --configfile."""
    merged = dict(base)
    for key, value in override.items():
        nested = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merged(base[key], value) if nested else value
    return merged


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "config").glob("*.yaml")))
def test_every_shipped_config_is_valid_over_the_full_study(name):
    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config = prepare_config(_merged(base, yaml.safe_load((REPO / "config" / name).read_text())))
    assert config["dimensions"]


def test_the_large_baselines_config_fits_every_repeat_and_row():
    base = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    large = yaml.safe_load((REPO / "config" / "baselines-large.yaml").read_text())
    config = prepare_config(_merged(base, large))
    for model in ("svm_rbf", "random_forest", "knn", "gradient_boosting", "cnn"):
        assert config["models"][model]["repeats"] is None
        assert config["models"][model]["max_n"] is None
    assert "cnn" in config["attacks"]["models"]
    assert all(config["scaling"]["models"][model]["enabled"] for model in ("svm_rbf", "knn", "cnn"))
