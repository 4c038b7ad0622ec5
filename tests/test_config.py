"""The config: defaults, command-line coercion, validation messages, per-n resolution."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO

from kryptonite_n.config import model_dimensions, model_settings, prepare_config
from kryptonite_n.io import DataError


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
        ({"dimensions": [10]}, "dimensions.0"),
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


def test_published_data_may_have_any_n():
    assert prepare_config({"dimensions": [10], "data_dir": "/data"})["dimensions"] == [10]


def test_model_settings_fall_back_to_nearest_smaller_n():
    config = prepare_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    assert model_settings(config, "mlp", 45) == model_settings(config, "mlp", 18)
    assert model_settings(config, "mlp", 18)["optimizer"] == "adam"
    assert model_settings(config, "mlp", 12)["lr"] == 0.1
    assert model_dimensions(config, "poly_logreg") == [9, 12, 15, 18]
    assert model_dimensions(config, "mlp") == [9, 12, 15, 18, 24]
    assert model_dimensions(config, "mock_baseline") == [9, 12]


def test_shipped_configs_are_valid():
    for name in ("config.yaml", "quick.yaml"):
        prepare_config(yaml.safe_load((REPO / "config" / name).read_text()))
