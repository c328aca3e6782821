"""Precision/recall against torch-fidelity, density/coverage against prdc, and what they mean."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from prdc import compute_prdc

from metrics_support import structured_features, torch_fidelity_prc

from slbench.errors import SlbenchError
from slbench.metrics import density_coverage, precision_recall

pytestmark = pytest.mark.usefixtures("one_thread")


def feature_pairs():
    rng = np.random.default_rng(0)
    yield rng.normal(size=(300, 16)), 1.3 * rng.normal(size=(250, 16)) + 0.2
    yield structured_features(rng, 260, 64), structured_features(rng, 300, 64, shift=0.4)
    yield rng.normal(size=(60, 64)), rng.normal(size=(45, 64)) + 0.1  # fewer samples than dimensions


@pytest.mark.parametrize("real, fake", list(feature_pairs()))
@pytest.mark.parametrize("k", [3, 5])
def test_precision_recall_match_torch_fidelity(real, fake, k):
    ours = precision_recall(real, fake, k=k)
    reference = torch_fidelity_prc(real, fake, k)
    assert ours.precision == pytest.approx(reference[0], abs=1e-7)
    assert ours.recall == pytest.approx(reference[1], abs=1e-7)


@pytest.mark.parametrize("real, fake", list(feature_pairs()))
@pytest.mark.parametrize("k", [3, 5])
def test_density_coverage_match_prdc(real, fake, k, capsys):
    ours = density_coverage(real, fake, k=k)
    reference = compute_prdc(real, fake, nearest_k=k)
    assert ours.density == pytest.approx(reference["density"], abs=1e-12)
    assert ours.coverage == pytest.approx(reference["coverage"], abs=1e-12)


def test_identical_sets_are_perfect():
    x = np.random.default_rng(1).normal(size=(200, 16))
    assert precision_recall(x, x) == (1.0, 1.0)
    assert density_coverage(x, x).coverage == 1.0


def test_mode_collapse_keeps_precision_and_loses_recall():
    """Generated samples cover three modes of a ten-mode mixture: faithful but not diverse."""
    rng = np.random.default_rng(2)
    centres = rng.normal(scale=6.0, size=(10, 8))
    real = centres[rng.integers(0, 10, size=500)] + rng.normal(size=(500, 8))
    collapsed = centres[rng.integers(0, 3, size=500)] + rng.normal(size=(500, 8))
    diverse = centres[rng.integers(0, 10, size=500)] + rng.normal(size=(500, 8))
    collapsed_pr, diverse_pr = precision_recall(real, collapsed), precision_recall(real, diverse)
    assert collapsed_pr.precision > 0.8 and diverse_pr.precision > 0.8
    assert collapsed_pr.recall < 0.4 < 0.8 < diverse_pr.recall
    assert density_coverage(real, collapsed).coverage < 0.4 < 0.9 < density_coverage(real, diverse).coverage


def test_block_size_and_input_type_do_not_change_results():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(130, 12)), rng.normal(size=(110, 12)) + 0.3
    expected_pr, expected_dc = precision_recall(real, fake), density_coverage(real, fake)
    assert precision_recall(torch.from_numpy(real).float(), fake, block_size=16) == expected_pr
    assert density_coverage(real, torch.from_numpy(fake), block_size=7) == expected_dc


def test_duplicates_follow_torch_fidelity():
    """A duplicated sample is another neighbour at distance 0, as in torch-fidelity's kthvalue."""
    rng = np.random.default_rng(4)
    real = np.repeat(rng.normal(size=(40, 8)), 2, axis=0)
    fake = rng.normal(size=(70, 8))
    assert precision_recall(real, fake) == pytest.approx(torch_fidelity_prc(real, fake, 3), abs=1e-7)


def test_constant_features_are_finite():
    real, fake = np.ones((20, 8)), np.ones((15, 8))
    assert precision_recall(real, fake) == (1.0, 1.0)  # every distance and radius is 0; 0 <= 0
    assert density_coverage(real, fake) == (0.0, 0.0)  # prdc's strict 0 < 0 counts nothing


def test_too_few_samples_say_how_many_are_needed():
    rng = np.random.default_rng(5)
    with pytest.raises(SlbenchError, match="needs at least 4 fake samples; got 3"):
        precision_recall(rng.normal(size=(10, 4)), rng.normal(size=(3, 4)))
    with pytest.raises(SlbenchError, match="needs at least 6 real samples; got 5"):
        density_coverage(rng.normal(size=(5, 4)), rng.normal(size=(30, 4)))
    with pytest.raises(SlbenchError, match="fake features contain NaN or Inf in 1 of 10 rows"):
        precision_recall(rng.normal(size=(10, 4)), np.vstack([rng.normal(size=(9, 4)), [[np.inf] * 4]]))


def tie_prone_features(seed: int) -> np.ndarray:
    """Skewed, wide features (like pooled CNN activations) stored in float32: duplicates then sit on
    k-NN radii up to the rounding of |x|^2 - 2 x.y + |y|^2 in float32."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.1, 10.0, size=(1, 2048))
    return (rng.gamma(0.5, size=(300, 2048)) * scale).astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("share", ["identical", "half duplicated", "duplicated twice"])
def test_density_ties_count_as_prdc_counts_them(seed, share):
    real = tie_prone_features(seed)
    rng = np.random.default_rng(100 + seed)
    fake = {
        "identical": real.copy(),
        "half duplicated": np.concatenate([real[:150], real[150:] + 0.1 * rng.normal(size=(150, 2048))]),
        "duplicated twice": np.concatenate([real[:100], real[:100], real[200:]]),
    }[share]
    ours = density_coverage(real, fake, k=5, block_size=128)
    reference = compute_prdc(real, fake, nearest_k=5)
    assert ours.density == pytest.approx(reference["density"], abs=1e-12)  # the same counts: 1 / 1500 apart
    assert ours.coverage == pytest.approx(reference["coverage"], abs=1e-12)
    if share == "identical":
        assert ours.density == 1.0
