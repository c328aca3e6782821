"""Shared by the metric tests: the reference implementations' calls and test feature sets."""

from __future__ import annotations

import numpy as np
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric
from torch_fidelity.metric_prc import prc_features_to_metric


def torch_fidelity_fid(real: np.ndarray, fake: np.ndarray) -> float:
    stats_fake = fid_features_to_statistics(torch.from_numpy(fake))
    stats_real = fid_features_to_statistics(torch.from_numpy(real))
    return fid_statistics_to_metric(stats_fake, stats_real, verbose=False)["frechet_inception_distance"]


def torch_fidelity_kid(real: np.ndarray, fake: np.ndarray, subsets: int, subset_size: int, seed: int):
    """(mean, std) with torch-fidelity's convention: input 1 generated, input 2 real."""
    out = kid_features_to_metric(
        torch.from_numpy(fake),
        torch.from_numpy(real),
        kid_subsets=subsets,
        kid_subset_size=subset_size,
        rng_seed=seed,
        verbose=False,
    )
    return out["kernel_inception_distance_mean"], out["kernel_inception_distance_std"]


def torch_fidelity_prc(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """(precision, recall) with torch-fidelity's convention: input 1 generated, input 2 real."""
    out = prc_features_to_metric(
        torch.from_numpy(fake),
        torch.from_numpy(real),
        prc_neighborhood=k,
        prc_batch_size=10000,
        save_cpu_ram=False,
        verbose=False,
    )
    return out["precision"], out["recall"]


def structured_features(rng: np.random.Generator, n: int, dim: int, shift: float = 0.0) -> np.ndarray:
    """Non-negative, correlated, low-rank-plus-noise features, like a CNN's pooled activations."""
    mixing = np.linspace(0.2, 1.5, 8 * dim).reshape(8, dim)
    latent = rng.normal(size=(n, 8)) + shift
    return np.maximum(latent @ mixing + 0.3 * rng.normal(size=(n, dim)), 0.0) + 0.1
