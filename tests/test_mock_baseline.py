"""mock_baseline: the mock paper's polynomial logistic regression on raw features fails."""

from __future__ import annotations

import numpy as np
import pytest

from kryptonite_n.compute.data import SPLIT_CODES, make_split
from kryptonite_n.compute.models import load_predictor, mock_baseline
from kryptonite_n.contract import FitTask, Split
from kryptonite_n.io import write_npz

SETTINGS = {"degree": 2, "C": 0.85, "max_iter": 1000}


@pytest.fixture(scope="module")
def fitted(small_dataset):
    splits = []
    for repeat in range(2):
        roles = make_split(len(small_dataset.y), {"train": 0.6, "validation": 0.2, "test": 0.2}, 3, 9, repeat)
        splits.append(Split(*(np.flatnonzero(roles == code) for code in SPLIT_CODES.values())))
    task = FitTask(n=9, X=small_dataset.X, y=small_dataset.y, splits=splits, repeats=[0, 1],
                   settings=SETTINGS, seed=3)
    return task, mock_baseline.fit(task)


def test_baseline_stays_near_chance(fitted, small_dataset):
    task, predictors = fitted
    for i, predictor in enumerate(predictors):
        X, y = task.part(i, "test")
        accuracy = np.mean(predictor.predict(X) == y)
        # A degree-2 polynomial cannot express a 6-bit parity: the paper's "< 0.60".
        assert 0.4 < accuracy < 0.6
        assert 0.4 < np.mean(predictor.predict(small_dataset.hidden_X) == small_dataset.hidden_y) < 0.6


def test_predictor_is_the_sklearn_pipeline(fitted):
    task, predictors = fitted
    X, y = task.part(0, "train")
    pipeline = mock_baseline.fit_pipeline(
        X, y, SETTINGS, int(np.random.SeedSequence([3, 9, 0, 3]).generate_state(1)[0]))
    X_test = task.part(0, "test")[0]
    # The pipeline expands float32 input in float32; the predictor works in float64.
    np.testing.assert_allclose(predictors[0].decision_function(X_test), pipeline.decision_function(X_test),
                               rtol=0, atol=1e-5)
    np.testing.assert_array_equal(predictors[0].predict(X_test), pipeline.predict(X_test))
    details = predictors[0].details()
    assert details["terms"] == 55 and details["degree"] == 2  # 1 + 9 + 45 terms of degree <= 2
    assert predictors[0].arrays()["powers"].shape == (55, 9)


def test_save_and_load_round_trip(fitted, small_dataset, tmp_path):
    _, predictors = fitted
    write_npz(tmp_path / "model.npz", predictors[1].arrays())
    loaded = load_predictor("mock_baseline", tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(small_dataset.hidden_X),
                                  predictors[1].predict(small_dataset.hidden_X))
    assert loaded.details() == predictors[1].details()
