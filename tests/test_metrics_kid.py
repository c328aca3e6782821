"""KID: the same subsets and value as torch-fidelity, unbiasedness, small sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metrics_support import torch_fidelity_kid

from slbench.errors import SlbenchError
from slbench.metrics import kid
from slbench.metrics.kid import plan_kid_subsets

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("seed", [0, 2020])
def test_matches_torch_fidelity_on_random_features(seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=(300, 32)), 1.1 * rng.normal(size=(260, 32)) + 0.1
    mean, std = kid(real, fake, subsets=40, subset_size=100, seed=seed)
    ref_mean, ref_std = torch_fidelity_kid(real, fake, 40, 100, seed)
    assert mean == pytest.approx(ref_mean, rel=1e-7)
    assert std == pytest.approx(ref_std, rel=1e-6)


def test_matches_torch_fidelity_on_inception_like_features():
    """Non-negative sparse activations with a large common mean, where cancellation bites."""
    rng = np.random.default_rng(7)
    scale = np.linspace(0.2, 2.0, 64)
    real = np.maximum(rng.normal(0.3, 1.0, size=(400, 64)), 0) * scale
    fake = np.maximum(rng.normal(0.35, 1.0, size=(350, 64)), 0) * scale
    mean, std = kid(real, fake, subsets=30, subset_size=200, seed=1)
    ref_mean, ref_std = torch_fidelity_kid(real, fake, 30, 200, 1)
    assert mean == pytest.approx(ref_mean, rel=1e-6)
    assert std == pytest.approx(ref_std, rel=1e-5)


def test_is_unbiased_where_the_biased_estimate_is_not():
    """Subsets of 10 from two large samples of one distribution: KID averages to 0."""
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8))
    subsets, size = 300, 10
    mean, std = kid(real, fake, subsets=subsets, subset_size=size, seed=0)
    standard_error = std / np.sqrt(subsets)
    assert abs(mean) < 3 * standard_error
    # the biased (V-statistic) estimate on the same subsets sits far above 0: the test has power
    plan = plan_kid_subsets(1000, 1000, subsets=subsets, subset_size=size, seed=0)
    biased = []
    for r_idx, f_idx in zip(plan.real_index, plan.fake_index):
        x, y = real[r_idx], fake[f_idx]
        k = lambda a, b: (a @ b.T / 8 + 1) ** 3  # noqa: E731
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    assert np.mean(biased) > 10 * standard_error


def test_detects_a_shift():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(400, 8))
    near, far = rng.normal(size=(400, 8)) + 0.1, rng.normal(size=(400, 8)) + 0.5
    assert kid(real, far, subset_size=200).mean > kid(real, near, subset_size=200).mean > 0


def test_small_sets_shrink_the_subset_size_and_say_so():
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(115, 8)), rng.normal(size=(300, 8))
    plan = plan_kid_subsets(115, 300, subsets=10, subset_size=1000, seed=0)
    assert plan.subset_size == 115
    assert "reduced from 1000 to 115" in plan.note
    mean, _ = kid(real, fake, subsets=10, subset_size=1000)
    ref_mean, _ = torch_fidelity_kid(real, fake, 10, 115, 0)
    assert mean == pytest.approx(ref_mean, rel=1e-7)
    whole = plan_kid_subsets(50, 50, subsets=3, subset_size=1000, seed=0)
    assert "std over subsets is 0" in whole.note
    assert kid(real[:50], fake[:50], subsets=3).std == pytest.approx(0.0, abs=1e-12)


def test_block_size_does_not_change_the_value():
    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(130, 16)), rng.normal(size=(90, 16)) + 0.2
    whole = kid(real, fake, subsets=20, subset_size=50, gram_dtype=torch.float64)
    blocked = kid(real, fake, subsets=20, subset_size=50, block_size=17, gram_dtype=torch.float64)
    assert blocked.mean == pytest.approx(whole.mean, rel=1e-10)
    assert blocked.std == pytest.approx(whole.std, rel=1e-9)


def test_errors():
    good = np.zeros((10, 4))
    with pytest.raises(SlbenchError, match="KID needs at least 2 fake samples; got 1"):
        kid(good, good[:1])
    with pytest.raises(SlbenchError, match="fake features contain NaN"):
        kid(good, np.full((5, 4), np.nan))
    with pytest.raises(SlbenchError, match="KID subset size must be an integer of at least 2"):
        kid(good, good, subset_size=1)
