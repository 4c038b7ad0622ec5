"""Generator fidelity, the reader's validation of bad input, splits, and family inference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kryptonite_n.compute.data import (
    DATASET_KEYS,
    GeneratorSettings,
    default_flip_rate,
    generate,
    load_dataset,
    load_split,
    make_split,
    read_published,
    write_dataset,
)
from kryptonite_n.compute.explore import (
    feature_levels,
    feature_table,
    infer_family,
    residuals,
    separation,
    separation_summary,
)
from kryptonite_n.compute.prepare import prepare_dataset
from kryptonite_n.io import DataError
from kryptonite_n.plan.paths import dataset_files


@pytest.fixture(scope="module")
def n12():
    return generate(12, seed=3)


def test_same_seed_gives_byte_identical_arrays():
    settings = GeneratorSettings(rows_per_feature=200, hidden_rows=300)
    first, second = generate(9, 5, settings), generate(9, 5, settings)
    for name in ("X", "y", "hidden_X", "hidden_y"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes()
    assert first.truth == second.truth
    assert generate(9, 6, settings).X.tobytes() != first.X.tobytes()


def test_published_shapes_and_dtypes(n12):
    assert n12.X.shape == (24000, 12) and n12.X.dtype == np.float32
    assert n12.y.shape == (24000,) and n12.y.dtype == np.int64
    assert n12.hidden_X.shape == (10000, 12) and n12.hidden_y.shape == (10000,)


def test_exactly_a_third_of_features_per_family(n12):
    families = n12.truth["families"]
    assert {f: families.count(f) for f in set(families)} == {"uniform": 4, "laplace": 4, "gaussian": 4}
    assert sorted(n12.truth["informative"]) == [j for j, f in enumerate(families) if f != "uniform"]


def test_residual_scale_within_three_percent_of_configured(n12):
    res = residuals(np.concatenate([n12.X, n12.hidden_X]))
    families = np.array(n12.truth["families"])
    # std of each family's noise: uniform a/sqrt(3), Laplace b*sqrt(2), Gaussian sigma
    expected = {"uniform": 0.025 / math.sqrt(3), "laplace": 0.05 * math.sqrt(2), "gaussian": 0.1}
    for family, std in expected.items():
        pooled = res[:, families == family].ravel()
        assert abs(pooled.std() / std - 1) < 0.03, family


def test_class_balance_and_flip_rate(n12):
    assert abs(n12.y.mean() - 0.5) < 0.01
    bits = (n12.X[:, n12.truth["informative"]] > 0.5).astype(int)
    clean = np.bitwise_xor.reduce(bits, axis=1)
    observed = np.mean(clean != n12.y)
    p = default_flip_rate(12)
    assert observed == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / len(n12.y)))


def test_hidden_set_shares_feature_positions(n12):
    bits = (n12.hidden_X[:, n12.truth["informative"]] > 0.5).astype(int)
    agreement = np.mean(np.bitwise_xor.reduce(bits, axis=1) == n12.hidden_y)
    assert agreement > 1 - 2 * default_flip_rate(12)


def test_any_n_and_parity_share_in_the_shared_layout():
    # The later edition: n not a multiple of 3, one noise for every feature, half in the parity.
    settings = GeneratorSettings(rows_per_feature=600, hidden_rows=500, layout="shared", parity_share=0.5)
    data = generate(10, 2, settings)
    assert data.X.shape == (6000, 10) and data.hidden_X.shape == (500, 10)
    assert data.truth["families"] == ["gaussian"] * 10 and data.truth["layout"] == "shared"
    informative = data.truth["informative"]
    assert len(informative) == 5 and informative == sorted(set(informative))
    bits = (data.X[:, informative] > 0.5).astype(int)
    observed = np.mean(np.bitwise_xor.reduce(bits, axis=1) != data.y)
    p = default_flip_rate(10)
    assert observed == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / len(data.y)))
    # No noise shape marks the parity's features: every one is inferred the same family.
    table = feature_table(data.X)
    assert set(table["family"]) == {"gaussian"}
    assert separation(table) is not None and "separate no family" in separation(table)


@pytest.mark.parametrize(("n", "share", "expected"),
                         [(10, 2 / 3, 7), (14, 0.5, 7), (16, 0.5, 8), (2, 0.1, 1)])
def test_families_layout_takes_any_n_and_share(n, share, expected):
    data = generate(n, 1, GeneratorSettings(rows_per_feature=50, hidden_rows=10, parity_share=share))
    families = data.truth["families"]
    assert len(data.truth["informative"]) == expected
    assert families.count("uniform") == n - expected
    assert sorted(data.truth["informative"]) == [j for j, f in enumerate(families) if f != "uniform"]


def test_first_edition_layout_is_the_default():
    # parity_share 2/3 and the families layout: the first edition, as before these settings existed
    # (test_exactly_a_third_of_features_per_family pins its counts).
    assert GeneratorSettings().parity_share == pytest.approx(2 / 3)
    assert GeneratorSettings().layout == "families"


@pytest.mark.parametrize("bad", [{"layout": "stripes"}, {"parity_share": 0.0}, {"parity_share": 1.5}])
def test_bad_generator_settings_are_named(bad):
    with pytest.raises(DataError, match="generator"):
        GeneratorSettings(**bad)


def test_too_small_n_is_refused():
    with pytest.raises(DataError, match="at least 2"):
        generate(1, 1)


def test_thresholds_are_found_between_the_two_levels():
    # Levels other than 0 and 1: the threshold follows the data, not a constant.
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, size=(4000, 3))
    values = np.column_stack([2.0 + 3.0 * bits[:, 0], -1.0 + bits[:, 1], bits[:, 2]])
    values += rng.normal(0, 0.05, (4000, 3))
    low, high, threshold = feature_levels(values)
    np.testing.assert_allclose(low, [2.0, -1.0, 0.0], atol=0.01)
    np.testing.assert_allclose(high, [5.0, 0.0, 1.0], atol=0.01)
    np.testing.assert_allclose(threshold, [3.5, -0.5, 0.5], atol=0.01)
    assert ((values > threshold) == bits).all()
    table = feature_table(values)
    assert table["threshold"].tolist() == pytest.approx(threshold.tolist())
    assert set(table["family"]) == {"gaussian"}


def test_first_edition_shapes_separate_the_families(n12):
    table = feature_table(n12.X)
    assert separation(table) is None
    summary = separation_summary(table)
    assert summary["separates"] and summary["families"] == {"uniform": 4, "laplace": 4, "gaussian": 4}
    assert summary["informative"] == n12.truth["informative"]
    assert 0.49 < summary["threshold_min"] <= summary["threshold_max"] < 0.51


def test_family_inference_recovers_truth_for_other_scales():
    settings = GeneratorSettings(rows_per_feature=400,
                                 scales={"uniform": 0.05, "laplace": 0.02, "gaussian": 0.04})
    data = generate(15, 8, settings)
    assert feature_table(data.X)["family"].tolist() == data.truth["families"]


def test_infer_family_on_pure_samples():
    rng = np.random.default_rng(0)
    assert infer_family(rng.uniform(-1, 1, 5000)) == "uniform"
    assert infer_family(rng.laplace(0, 1, 5000)) == "laplace"
    assert infer_family(rng.normal(0, 1, 5000)) == "gaussian"


# --------------------------------------------------------------------------- reader


@pytest.fixture
def published(tmp_path, small_dataset):
    """A folder laid out like the published files (no truth, no hidden labels)."""
    files = dataset_files(tmp_path, 9)
    for key in ("X", "y", "hidden_X"):
        np.save(files[key], getattr(small_dataset, key))
    return tmp_path, files


def test_generated_and_published_files_go_through_the_same_reader(published, small_dataset):
    folder, _ = published
    data = read_published(folder, 9)
    assert np.array_equal(data.X, small_dataset.X) and np.array_equal(data.y, small_dataset.y)
    assert data.hidden_y is None and data.truth is None
    out = folder / "written"
    write_dataset(small_dataset, dataset_files(out, 9, DATASET_KEYS))
    again = load_dataset(dataset_files(out, 9, DATASET_KEYS), 9)
    assert np.array_equal(again.hidden_y, small_dataset.hidden_y)
    assert again.truth["informative"] == small_dataset.truth["informative"]


def _set(array: np.ndarray, index: int, value: float) -> np.ndarray:
    """A float64 copy of ``array`` with one entry (in flat order) set to ``value``."""
    changed = array.astype(np.float64)
    changed.reshape(-1)[index] = value
    return changed


# (damage, the file the error must name, the problem it must state)
BAD_INPUT = {
    "truncated": (lambda f, d: f["X"].write_bytes(f["X"].read_bytes()[:200]), "X", "not a readable .npy"),
    "nan": (lambda f, d: np.save(f["X"], _set(d.X, 7, np.nan)), "X",
            "1 non-finite values (first at row 0, column 7)"),
    "infinite": (lambda f, d: np.save(f["X"], _set(d.X, 3 * 9 + 2, np.inf)), "X",
                 "1 non-finite values (first at row 3, column 2)"),
    "hidden-nan": (lambda f, d: np.save(f["hidden_X"], _set(d.hidden_X, 5 * 9 + 4, np.nan)), "hidden_X",
                   "1 non-finite values (first at row 5, column 4)"),
    "hidden-minus-infinite": (lambda f, d: np.save(f["hidden_X"], _set(d.hidden_X, 0, -np.inf)), "hidden_X",
                              "1 non-finite values (first at row 0, column 0)"),
    "label-2": (lambda f, d: np.save(f["y"], np.where(np.arange(len(d.y)) == 3, 2, d.y)), "y",
                "labels must be exactly 0 or 1, found [2]"),
    "label-half": (lambda f, d: np.save(f["y"], _set(d.y, 3, 0.5)), "y",
                   "labels must be exactly 0 or 1, found [0.5]"),
    "labels-2d": (lambda f, d: np.save(f["y"], d.y[:, None]), "y",
                  "expected a 1-D label vector, found shape (4500, 1)"),
    "length-mismatch": (lambda f, d: np.save(f["y"], d.y[:-5]), "y",
                        "4495 labels but kryptonite-9-X.npy has 4500 rows"),
    "empty-X": (lambda f, d: np.save(f["X"], np.zeros((0, 9), dtype=np.float32)), "X", "has no rows"),
    "empty-y": (lambda f, d: np.save(f["y"], np.zeros(0, dtype=np.int64)), "y",
                "0 labels but kryptonite-9-X.npy has 4500 rows"),
    "empty-hidden": (lambda f, d: np.save(f["hidden_X"], np.zeros((0, 9), dtype=np.float32)), "hidden_X",
                     "has no rows"),
    "flat-X": (lambda f, d: np.save(f["X"], d.X.reshape(-1)), "X",
               "expected shape (rows, 9), found (40500,)"),
    "wrong-width": (lambda f, d: np.save(f["X"], d.X[:, :8]), "X",
                    "expected shape (rows, 9), found (4500, 8)"),
    "hidden-wrong-width": (lambda f, d: np.save(f["hidden_X"], d.hidden_X[:, :8]), "hidden_X",
                           "expected shape (rows, 9), found (1000, 8)"),
    "hidden-truncated": (lambda f, d: f["hidden_X"].write_bytes(f["hidden_X"].read_bytes()[:100]), "hidden_X",
                         "not a readable .npy"),
    "missing": (lambda f, d: f["y"].unlink(), "y", "file not found"),
    "hidden-missing": (lambda f, d: f["hidden_X"].unlink(), "hidden_X", "file not found"),
    "strings": (lambda f, d: np.save(f["X"], d.X.astype(str)), "X", "cannot be read as float32"),
}


@pytest.mark.parametrize(("damage", "key", "message"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_named_and_nothing_is_written(published, small_dataset, damage, key, message):
    folder, files = published
    assert small_dataset.X.shape == (4500, 9) and small_dataset.hidden_X.shape == (1000, 9)
    damage(files, small_dataset)
    outputs = dataset_files(folder / "out", 9, DATASET_KEYS)
    with pytest.raises(DataError) as caught:
        prepare_dataset(9, outputs, seed=1, data_dir=str(folder), generator=None)
    # The message starts with the one bad file's full path, then states the problem.
    assert str(caught.value).startswith(f"{files[key]}: "), str(caught.value)
    assert message in str(caught.value)
    assert not (folder / "out").exists() or not any((folder / "out").iterdir())


# --------------------------------------------------------------------------- splits


def test_split_fractions_disjoint_and_stable(tmp_path):
    roles = make_split(1000, {"train": 0.6, "validation": 0.2, "test": 0.2}, seed=4, n=9, repeat=2)
    assert np.bincount(roles).tolist() == [600, 200, 200]
    np.save(tmp_path / "split.npy", roles)
    split = load_split(tmp_path / "split.npy")
    together = np.concatenate([split.train, split.validation, split.test])
    assert sorted(together.tolist()) == list(range(1000))
    again = make_split(1000, {"train": 0.6, "validation": 0.2, "test": 0.2}, seed=4, n=9, repeat=2)
    assert np.array_equal(roles, again)
    assert not np.array_equal(roles, make_split(1000, {"train": 0.6, "validation": 0.2, "test": 0.2},
                                                seed=4, n=9, repeat=3))
