"""FID and FID-infinity: closed forms, agreement with torch-fidelity, singular covariances."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metrics_support import structured_features, torch_fidelity_fid

from slbench.errors import SlbenchError
from slbench.metrics import fid, fid_infinity
from slbench.metrics.fid import fit_real_gaussian, project_fake, weighted_fid


pytestmark = pytest.mark.usefixtures("one_thread")


def exact_fid(real: np.ndarray, fake: np.ndarray) -> float:
    """FID with tr((S_r S_f)^(1/2)) as the nuclear norm of the centred cross-product (any rank)."""
    a = (real - real.mean(0)) / np.sqrt(len(real) - 1)
    b = (fake - fake.mean(0)) / np.sqrt(len(fake) - 1)
    diff = real.mean(0) - fake.mean(0)
    nuclear = np.linalg.svd(a @ b.T, compute_uv=False).sum()
    return float(diff @ diff + (a * a).sum() + (b * b).sum() - 2 * nuclear)


def test_identical_sets_give_zero():
    x = np.random.default_rng(0).normal(size=(200, 16))
    assert abs(fid(x, x)) < 1e-9


def test_gaussian_mean_shift_gives_squared_distance():
    rng = np.random.default_rng(1)
    mu = np.array([1.0, -1.0, 0.5, 0.0, 0.0, 1.5, 0.0, 0.0])
    real = rng.normal(size=(20000, 8))
    fake = rng.normal(size=(20000, 8)) + mu
    # sampling noise of the means: sd about 2 |mu| sqrt(2 / N) = 0.04
    assert fid(real, fake) == pytest.approx(float(mu @ mu), abs=0.15)


@pytest.mark.parametrize("n_real, n_fake, dim", [(300, 250, 16), (400, 300, 64)])
def test_matches_torch_fidelity_on_random_and_structured_features(n_real, n_fake, dim):
    rng = np.random.default_rng(dim)
    random_real, random_fake = rng.normal(size=(n_real, dim)), 1.2 * rng.normal(size=(n_fake, dim)) + 0.1
    assert fid(random_real, random_fake) == pytest.approx(torch_fidelity_fid(random_real, random_fake), rel=1e-9)
    real, fake = structured_features(rng, n_real, dim), structured_features(rng, n_fake, dim, shift=0.3)
    assert fid(real, fake) == pytest.approx(torch_fidelity_fid(real, fake), rel=1e-9)


@pytest.mark.parametrize("n_real, n_fake", [(40, 30), (30, 50), (100, 20)])
def test_fewer_samples_than_dimensions_is_exact_and_finite(n_real, n_fake):
    rng = np.random.default_rng(n_real + n_fake)
    real, fake = structured_features(rng, n_real, 64), structured_features(rng, n_fake, 64, shift=0.5)
    value = fid(real, fake)
    assert np.isfinite(value)
    assert value == pytest.approx(exact_fid(real, fake), rel=1e-10)
    # torch-fidelity's eigenvalues of a singular non-symmetric product carry round-off noise
    assert value == pytest.approx(torch_fidelity_fid(real, fake), rel=1e-5)


def test_constant_features_are_finite_and_exact():
    real = np.full((50, 32), 0.5)
    fake = np.full((40, 32), 0.75)
    assert fid(real, fake) == pytest.approx(32 * 0.25**2, rel=1e-12)
    noisy_fake = fake + np.random.default_rng(2).normal(scale=0.1, size=fake.shape)
    assert fid(real, noisy_fake) == pytest.approx(exact_fid(real, noisy_fake), rel=1e-10)


def test_accepts_torch_float32_and_numpy_alike():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(100, 8)).astype(np.float32), rng.normal(size=(90, 8)).astype(np.float32)
    assert fid(torch.from_numpy(real), torch.from_numpy(fake)) == fid(real, fake)


def test_weighted_fid_equals_fid_of_the_resampled_set():
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(80, 12)), rng.normal(size=(60, 12)) + 0.2
    drawn = rng.integers(0, 60, size=60)
    counts = torch.as_tensor(np.bincount(drawn, minlength=60), dtype=torch.float64)
    gaussian = fit_real_gaussian(torch.from_numpy(real))
    value = weighted_fid(gaussian, project_fake(gaussian, torch.from_numpy(fake)), counts)
    assert value == pytest.approx(torch_fidelity_fid(real, fake[np.sort(drawn)]), rel=1e-9)


def test_errors_name_the_set_and_the_need():
    good = np.zeros((10, 4))
    with pytest.raises(SlbenchError, match="fake features contain NaN or Inf"):
        fid(good, np.array([[0.0, 1.0, np.nan, 0.0]] * 5))
    with pytest.raises(SlbenchError, match="real features contain NaN or Inf"):
        fid(np.array([[np.inf, 0.0, 0.0, 0.0]] * 5), good)
    with pytest.raises(SlbenchError, match="FID needs at least 2 fake samples; got 1"):
        fid(good, good[:1])
    with pytest.raises(SlbenchError, match="real features have 4 dimensions but fake features have 3"):
        fid(good, good[:, :3])
    with pytest.raises(SlbenchError, match="2-D array"):
        fid(good[0], good)


def test_fid_infinity_removes_the_small_sample_bias():
    # one distribution on both sides: the true FID is 0, and all of FID at N = 400 is bias
    rng = np.random.default_rng(5)
    real = rng.normal(size=(20000, 16))
    fake = rng.normal(size=(400, 16))
    finite = fid(real, fake)
    extrapolated = fid_infinity(real, fake, seed=0)
    assert finite > 0.15  # about tr(S) / N + D^2 / (2 N)
    assert abs(extrapolated) < 0.2 * finite


def test_fid_infinity_needs_three_samples():
    with pytest.raises(SlbenchError, match="at least 3 fake samples"):
        fid_infinity(np.eye(4), np.eye(4)[:2])
