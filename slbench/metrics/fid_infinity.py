"""FID-infinity (Chong and Forsyth 2020, "Effectively Unbiased FID and Inception Score and where
to find them").

FID is biased upwards at finite N, and the bias depends on the model, so comparing FIDs at small
N can rank models wrongly. Its expectation is close to linear in 1/N; FID-infinity computes FID
on random subsets of the generated set at several sizes, fits ``FID(N) = a + b / N`` by least
squares and reports the intercept ``a`` (FID at N = infinity). As in the authors' reference code
(github.com/mchong6/FID_IS_infinity, ``calculate_FID_infinity``), the sizes are evenly spaced
from a tenth of the generated set to all of it (15 points), each subset is drawn afresh, and the
real statistics stay fixed. The extrapolation removes only the generated side's bias: with few
real images the real covariance is still noisy, so the result carries the same low-reliability
flag as FID when the sample size is below the feature dimension.

Subsets are drawn with ``numpy.random.default_rng([seed, 2])``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from slbench.errors import SlbenchError
from slbench.metrics._inputs import ArrayLike, check_positive_int, feature_pair, require_samples
from slbench.metrics.fid import ProjectedFake, RealGaussian, fit_real_gaussian, project_fake, weighted_fid

DEFAULT_POINTS = 15
DEFAULT_MIN_FRACTION = 0.1
SUBSET_STREAM = 2


@dataclass(frozen=True)
class FidInfinityFit:
    """FID at each subset size and the line through them in 1/N."""

    value: float  # the intercept: FID extrapolated to N = infinity
    slope: float  # FID's growth per unit of 1/N
    sizes: np.ndarray
    fids: np.ndarray


def subset_sizes(n_fake: int, points: int, min_fraction: float) -> np.ndarray:
    """Evenly spaced sizes from ``min_fraction * n_fake`` (at least 2) to ``n_fake``, without repeats."""
    points = check_positive_int(points, "FID-infinity points", minimum=2)
    if not 0.0 < min_fraction < 1.0:
        raise SlbenchError(f"FID-infinity min_fraction must lie strictly between 0 and 1; got {min_fraction!r}")
    smallest = max(2, int(min_fraction * n_fake))
    sizes = np.unique(np.linspace(smallest, n_fake, points).astype(np.int64))
    if sizes.size < 2:
        raise SlbenchError(f"FID-infinity needs at least 3 fake samples to fit a line in 1/N; got {n_fake}")
    return sizes


def fit_fid_infinity(
    real: RealGaussian, fake: ProjectedFake, *, points: int, min_fraction: float, seed: int
) -> FidInfinityFit:
    """FID on one random subset per size, then the least-squares line in 1/N."""
    n_fake = fake.centred.shape[0]
    sizes = subset_sizes(n_fake, points, min_fraction)
    rng = np.random.default_rng([seed, SUBSET_STREAM])
    fids = []
    for size in sizes:
        chosen = torch.as_tensor(rng.choice(n_fake, int(size), replace=False), device=fake.centred.device)
        weights = torch.zeros(n_fake, dtype=torch.float64, device=fake.centred.device)
        weights[chosen] = 1.0
        fids.append(weighted_fid(real, fake, weights))
    slope, intercept = np.polyfit(1.0 / sizes, np.asarray(fids), deg=1)
    return FidInfinityFit(value=float(intercept), slope=float(slope), sizes=sizes, fids=np.asarray(fids))


def fid_infinity(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    points: int = DEFAULT_POINTS,
    min_fraction: float = DEFAULT_MIN_FRACTION,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> float:
    """FID extrapolated to an infinite generated set (Chong and Forsyth 2020)."""
    real_t, fake_t = feature_pair(real, fake, device)
    require_samples(real_t.shape[0], 2, "real", "FID-infinity")
    require_samples(fake_t.shape[0], 3, "fake", "FID-infinity")
    gaussian = fit_real_gaussian(real_t)
    return fit_fid_infinity(gaussian, project_fake(gaussian, fake_t), points=points, min_fraction=min_fraction, seed=seed).value
