"""Memorisation: copies of training images are found, with the right pairs, against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist


from slbench.errors import SlbenchError
from slbench.metrics import memorisation

pytestmark = pytest.mark.usefixtures("one_thread")


def test_copies_are_counted_and_paired_with_their_originals():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 32))
    copied = [5, 17, 42, 99, 150, 151]
    fake = np.vstack([train[copied] + rng.normal(scale=1e-3, size=(6, 32)), rng.normal(size=(94, 32))])
    result = memorisation(train, fake, pairs=6)
    assert result.share == pytest.approx(6 / 100)
    assert sorted(result.closest_pairs[:, 0].tolist()) == list(range(6))
    assert all(copied[g] == t for g, t in result.closest_pairs.tolist())
    assert np.all(result.closest_distances < 0.01)


def test_matches_brute_force():
    rng = np.random.default_rng(1)
    train, fake = rng.normal(size=(150, 16)), rng.normal(scale=0.8, size=(120, 16))
    result = memorisation(train, fake, percentile=10.0, block_size=32)
    train_distances = cdist(train, train)
    np.fill_diagonal(train_distances, np.inf)
    threshold = np.percentile(train_distances.min(axis=1), 10.0)
    fake_distances = cdist(fake, train)
    assert result.threshold == pytest.approx(threshold, rel=1e-12)
    np.testing.assert_allclose(result.nearest_distance, fake_distances.min(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(result.nearest_index, fake_distances.argmin(axis=1))
    assert result.share == pytest.approx(np.mean(fake_distances.min(axis=1) <= threshold))
    assert result.share > 0  # the narrower generated set has some samples this close
    assert "10th percentile" in result.note


def test_exact_duplicates_sit_at_distance_zero():
    rng = np.random.default_rng(2)
    train = rng.normal(loc=50.0, size=(60, 8))  # far from the origin, where cancellation is worst
    fake = np.vstack([train[:3], rng.normal(loc=50.0, size=(20, 8))])
    result = memorisation(train, fake, pairs=3)
    assert result.closest_distances.tolist() == [0.0, 0.0, 0.0]
    assert result.share >= 3 / 23


def test_errors():
    with pytest.raises(SlbenchError, match="memorisation needs at least 2 training samples; got 1"):
        memorisation(np.zeros((1, 4)), np.zeros((5, 4)))
    with pytest.raises(SlbenchError, match="percentile must lie in"):
        memorisation(np.eye(4), np.eye(4), percentile=120)
    with pytest.raises(SlbenchError, match="training features contain NaN"):
        memorisation(np.full((4, 4), np.nan), np.eye(4))
