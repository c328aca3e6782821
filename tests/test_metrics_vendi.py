"""Vendi score: the vendi-score package in both forms, the shared pass, its bounds."""

from __future__ import annotations

import numpy as np
import pytest
from vendi_score import vendi

from metrics_support import structured_features

from slbench.errors import SlbenchError
from slbench.metrics import MetricSettings, run_evaluation, vendi_score

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("n, dim, block_size", [(60, 90, 2048), (60, 90, 17), (300, 12, 64)])
def test_matches_the_vendi_score_package(n, dim, block_size):
    """n <= d takes the n x n form (from the Gram blocks), n > d the d x d one; both agree with vendi-score."""
    features = structured_features(np.random.default_rng(n + dim), n, dim)
    expected = vendi.score_X(features)
    assert expected == pytest.approx(vendi.score_dual(features), rel=1e-9)
    assert vendi_score(features, block_size=block_size) == pytest.approx(expected, rel=1e-9)


def test_bounds_identical_and_orthogonal_samples():
    copies = np.tile(np.array([[1.0, 2.0, 3.0]]), (40, 1))
    assert vendi_score(copies) == pytest.approx(1.0, rel=1e-9)
    orthogonal = np.eye(30) * np.arange(1, 31)[:, None]  # lengths do not matter: cosine kernel
    assert vendi_score(orthogonal) == pytest.approx(30.0, rel=1e-9)


def test_shared_pass_reports_both_sets_and_their_ratio():
    rng = np.random.default_rng(5)
    real = structured_features(rng, 80, 100)
    collapsed = np.repeat(structured_features(rng, 8, 100), 10, axis=0)  # 8 modes, 80 samples: n x n form
    settings = MetricSettings(metrics=("vendi_fake", "vendi_real", "vendi_ratio", "kid"), kid_subset_size=40,
                              gram_dtype="float64")
    values = {v.metric: v for v in run_evaluation(real, collapsed, settings=settings).values}
    assert values["vendi_real"].value == pytest.approx(vendi.score_X(real), rel=1e-9)
    assert values["vendi_fake"].value == pytest.approx(vendi.score_X(collapsed), rel=1e-9)
    assert values["vendi_fake"].value < values["vendi_real"].value
    ratio = values["vendi_fake"].value / values["vendi_real"].value
    assert values["vendi_ratio"].value == pytest.approx(ratio, rel=1e-12)
    assert values["vendi_fake"].higher_is_better and "n x n" in values["vendi_fake"].note


def test_float32_products_stay_close():
    rng = np.random.default_rng(6)
    real, fake = structured_features(rng, 200, 24), structured_features(rng, 150, 24, shift=0.2)
    values = {v.metric: v.value for v in run_evaluation(real, fake, settings=MetricSettings(
        metrics=("vendi_fake", "vendi_real"), gram_dtype="float32")).values}
    assert values["vendi_fake"] == pytest.approx(vendi.score_X(fake), rel=1e-5)
    assert values["vendi_real"] == pytest.approx(vendi.score_X(real), rel=1e-5)


def test_zero_rows_are_refused():
    features = np.ones((10, 3))
    features[2] = 0
    with pytest.raises(SlbenchError, match="all-zero rows"):
        vendi_score(features)
