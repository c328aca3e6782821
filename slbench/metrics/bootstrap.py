"""Confidence intervals from half-samples of the generated set, centred on the estimate.

A replicate draws half of the ``N_fake`` generated samples without replacement (McCarthy 1969,
balanced half-samples; Shao and Wu 1989, the delete-d jackknife) and recomputes every metric on
them; the real set stays fixed, so an interval describes how much a metric moves with the
particular samples a generator happened to produce. Half-samples rather than Efron's bootstrap:
a resample with replacement holds copies of a sample, and the k-NN metrics cannot treat copies
soundly (a copy is its own nearest neighbour at distance 0, and counting copies once leaves a set
of about 0.63 N distinct samples whose k-NN balls are wider). A half-sample holds distinct
samples only, so precision/recall recompute the generated k-NN radii on it exactly. For a mean
over the generated samples the spread of half-sample means equals the spread of the estimate
itself (the finite-population factor ``1 - m/N`` of ``m = N/2`` exactly offsets the halved size).

Every metric at half the size is shifted (FID's bias grows as the set shrinks, recall's balls
widen), so the interval is centred on the estimate: ``estimate + (q_low - median, q_high -
median)`` of the replicate values, with ``q`` the 2.5th and 97.5th percentiles at 95 %. The
interval always contains the estimate; a metric's range (rates in [0, 1]) clips it. Measured on
seeded Gaussian features (115 real, 500 generated, 32 dimensions; 50 trials of 100 half-samples
against the mean of 100 independent estimates), the 95 % intervals held the estimator's mean in
96 % (FID), 94 % (KID), 94 % (RBF MMD), 96 % (precision), 90 % (recall), 88 % (density) and 88 %
(coverage, near 1 there) of trials; the percentile intervals of a bootstrap with replacement
held it for FID in none. The real set is held fixed: the intervals leave out how the metric
would move with other real images.

Replicates are 0/1 weights (1: in the half-sample), so the metrics reweight quantities they
already computed (kernel sums, ball memberships, projected features) instead of recomputing
distances. The draws come from ``numpy.random.default_rng([seed, 2])``: the same seed gives the
same half-samples.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from slbench.errors import SlbenchError
from slbench.metrics._inputs import check_positive_int

RESAMPLE_STREAM = 2
DEFAULT_LEVEL = 0.95
MIN_HALF = 4  # precision/recall (k = 3) need k + 1 samples in every half-sample


def half_sample_size(n: int) -> int:
    return n // 2


def half_sample_weights(n: int, replicates: int, seed: int, device: torch.device | str) -> torch.Tensor:
    """``replicates`` x ``n`` float64 0/1 weights; each row marks ``n // 2`` samples drawn without replacement."""
    replicates = check_positive_int(replicates, "bootstrap replicates")
    if half_sample_size(n) < MIN_HALF:
        raise SlbenchError(
            f"confidence intervals need at least {2 * MIN_HALF} generated samples (half-samples of {MIN_HALF}); "
            f"got {n}: generate more or ask for no intervals"
        )
    rng = np.random.default_rng([seed, RESAMPLE_STREAM])
    order = np.argsort(rng.random((replicates, n)), axis=1)[:, : half_sample_size(n)]
    weights = np.zeros((replicates, n), dtype=np.float64)
    np.put_along_axis(weights, order, 1.0, axis=1)
    return torch.as_tensor(weights, device=device)


def centred_interval(
    estimate: float,
    values: np.ndarray,
    level: float = DEFAULT_LEVEL,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> tuple[float, float]:
    """``estimate`` plus the central ``level`` spread of ``values`` about their median, clipped to ``bounds``."""
    tail = 100.0 * (1.0 - level) / 2.0
    low, median, high = np.percentile(np.asarray(values, dtype=np.float64), [tail, 50.0, 100.0 - tail])
    lower, upper = bounds
    return (float(min(max(estimate + low - median, lower), estimate)),
            float(max(min(estimate + high - median, upper), estimate)))
