"""PRD: the reference's toy cases, its formulas, seeding and balancing."""

from __future__ import annotations

import numpy as np
import pytest

from metrics_support import structured_features

from slbench.errors import SlbenchError
from slbench.metrics.prd import NUM_ANGLES, PrdSettings, balanced, compute_prd, max_f_beta_pair, prd

pytestmark = pytest.mark.usefixtures("one_thread")
FAST = PrdSettings(num_runs=3)


def test_a_set_against_itself_gives_the_all_ones_curve():
    features = structured_features(np.random.default_rng(0), 200, 16)
    curve = prd(features, features, settings=FAST)
    assert curve.precision.shape == curve.recall.shape == (NUM_ANGLES,)
    # identical histograms: precision = min(lambda, 1), recall = min(1, 1 / lambda); the curve is the unit square's corner
    np.testing.assert_allclose(np.maximum(curve.precision, curve.recall), 1.0, rtol=1e-12)
    middle = NUM_ANGLES // 2
    assert curve.precision[middle] == pytest.approx(1.0) and curve.recall[middle] == pytest.approx(1.0)
    assert curve.f_8 == pytest.approx(1.0, abs=1e-6) and curve.f_1_8 == pytest.approx(1.0, abs=1e-6)


def test_disjoint_supports_give_the_zero_curve():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(150, 8))
    fake = rng.normal(size=(150, 8)) + 100.0
    curve = prd(real, fake, settings=FAST)
    np.testing.assert_array_equal(curve.precision, 0.0)
    np.testing.assert_array_equal(curve.recall, 0.0)
    assert curve.f_8 == 0.0 and curve.f_1_8 == 0.0


def test_histogram_formulas_match_the_paper():
    ref = np.array([0.5, 0.5, 0.0])
    half_collapsed = np.array([1.0, 0.0, 0.0])  # covers half of the reference, nothing outside it
    precision, recall = compute_prd(half_collapsed, ref)
    # at lambda -> infinity precision -> 1 (every generated sample is in the support); recall caps at 0.5
    assert precision[-1] == pytest.approx(1.0) and recall.max() == pytest.approx(0.5, rel=1e-6)
    f_8, f_1_8 = max_f_beta_pair(precision, recall)
    assert f_1_8 > 0.95 and f_8 < 0.55  # high precision, low recall


def test_mode_dropping_lowers_recall_not_precision():
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(10, 12)) * 8
    real = np.vstack([c + rng.normal(size=(40, 12)) for c in centres])
    dropped = np.vstack([c + rng.normal(size=(80, 12)) for c in centres[:5]])
    curve = prd(real, dropped, settings=FAST)
    assert curve.f_1_8 > 0.9 and curve.f_8 < 0.7


def test_seeded_and_balanced():
    rng = np.random.default_rng(3)
    real, fake = structured_features(rng, 120, 10), structured_features(rng, 300, 10, shift=0.5)
    first, second = prd(real, fake, settings=FAST, seed=4), prd(real, fake, settings=FAST, seed=4)
    np.testing.assert_array_equal(first.precision, second.precision)
    assert first.set_size == 120
    small_real, small_fake = balanced(real, fake, seed=4)
    assert len(small_real) == len(small_fake) == 120 and small_real is real
    with pytest.raises(SlbenchError, match="at least 10 real and 10 generated"):
        prd(real[:9], fake, settings=FAST)


def test_bad_settings_are_refused_when_the_settings_are_made():
    from slbench.metrics import MetricSettings

    with pytest.raises(SlbenchError, match="PRD clusters must be an integer of at least 2"):
        MetricSettings(prd_clusters=1)
    with pytest.raises(SlbenchError, match="PRD runs"):
        PrdSettings(num_runs=0)
