"""Bootstrap confidence intervals over the generated set (Efron and Tibshirani 1993, percentile method).

A replicate draws ``N_fake`` generated samples with replacement; the real set stays fixed, so the
interval describes how much a metric moves with the particular samples a generator happened to
produce. Replicates are expressed as counts (how often each generated sample was drawn) so the
metrics can reweight quantities they already computed (kernel sums, ball memberships, projected
features) instead of recomputing distances. The draws come from
``numpy.random.default_rng([seed, 1])``: the same seed gives the same replicates.
"""

from __future__ import annotations

import numpy as np
import torch

from slbench.metrics._inputs import check_positive_int

RESAMPLE_STREAM = 1
DEFAULT_LEVEL = 0.95


def bootstrap_counts(n: int, replicates: int, seed: int, device: torch.device) -> torch.Tensor:
    """``replicates`` x ``n`` float64 counts; each row sums to ``n`` (one resample with replacement)."""
    replicates = check_positive_int(replicates, "bootstrap replicates")
    rng = np.random.default_rng([seed, RESAMPLE_STREAM])
    drawn = rng.integers(0, n, size=(replicates, n))
    flat = (drawn + n * np.arange(replicates)[:, None]).ravel()
    counts = np.bincount(flat, minlength=replicates * n).reshape(replicates, n)
    return torch.as_tensor(counts, dtype=torch.float64, device=device)


def percentile_interval(values: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """The central ``level`` interval of the replicate values (2.5th and 97.5th percentiles at 95 %)."""
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(np.asarray(values, dtype=np.float64), [tail, 100.0 - tail])
    return float(low), float(high)
