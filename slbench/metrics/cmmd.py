"""CMMD (Jayasumana et al. 2024, "Rethinking FID: Towards a Better Evaluation Metric for Image Generation").

The squared maximum mean discrepancy between the real and generated embeddings under the
Gaussian RBF kernel ``k(x, y) = exp(-|x - y|^2 / (2 sigma^2))`` with ``sigma = 10``, on
L2-normalised embeddings, times 1000, as google-research ``cmmd/distance.py`` (``mmd``) and
``cmmd/embedding.py`` (the normalisation) define it. It is the biased (minimum-variance)
estimator over the whole sets: the mean over all entries of each of the three kernel matrices,
their diagonals included, so unlike FID it makes no normality assumption and unlike KID it uses
no subsets.

The name "CMMD" belongs to this distance on CLIP ViT-L/14 embeddings at 336 px (bicubic
resize, as the reference does); on any other extractor slbench reports the same quantity as
``mmd_rbf`` so that nobody mistakes it for CMMD (:func:`rbf_metric_name`).

The kernel sums come from the shared blocked pass (:mod:`slbench.metrics.knn`), which already
holds every Gram block ``x.y`` for KID: with unit vectors, ``|x - y|^2 = 2 - 2 x.y / (|x| |y|)``,
so no second pass over the features is needed. Interval replicates (``weights``: 0/1, the
half-samples of :mod:`slbench.metrics.bootstrap`, or any counts) apply the same estimator to the
weighted set, normalised by its own size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from slbench.errors import SlbenchError
from slbench.metrics._inputs import ArrayLike, feature_pair
from slbench.metrics.knn import DEFAULT_BLOCK_SIZE, Block, FeatureSpace, Neighbours, Reducer, feature_space, run_passes

SIGMA = 10.0
SCALE = 1000.0
CMMD_EXTRACTOR = "clip-vit-l-14-336"  # the embedding that earns the name CMMD
CMMD_RESIZE_FILTER = "bicubic"


def rbf_metric_name(extractor: str, resize_filter: str) -> str:
    """``cmmd`` for the reference embedding (CLIP ViT-L/14 at 336 px, bicubic), else ``mmd_rbf``."""
    return "cmmd" if (extractor, resize_filter) == (CMMD_EXTRACTOR, CMMD_RESIZE_FILTER) else "mmd_rbf"


def inverse_norms(space: FeatureSpace, which: str) -> torch.Tensor:
    """``1 / |x|`` of every row (the L2 normalisation); a zero embedding cannot be normalised."""
    norms_sq = space.gram_diag
    zero = (norms_sq <= 0).nonzero().flatten()
    if zero.numel():
        raise SlbenchError(
            f"{which} features have {zero.numel()} all-zero rows (first: row {int(zero[0])}); "
            "the RBF MMD normalises embeddings to unit length, so check those samples' feature extraction"
        )
    return norms_sq.rsqrt()


def rbf_kernel(block: Block, row_inv: torch.Tensor, col_inv: torch.Tensor) -> torch.Tensor:
    """The RBF kernel of the L2-normalised rows and columns of ``block``, float64."""
    cosine = block.gram * row_inv[block.rows, None] * col_inv[None, block.cols]
    sq = torch.sub(2.0, cosine, alpha=2.0).clamp_(min=0.0)
    kernel = sq.mul_(-1.0 / (2.0 * SIGMA**2)).exp_()
    if block.diagonal:
        kernel.fill_diagonal_(1.0)
    return kernel


class RbfSums:
    """The sum of every kernel entry of a pass and, under column weights, each row's kernel sums.

    ``col_weights`` (n_cols x B) asks for ``K @ W``; in a self pass the rows and columns are one
    set, so the transposed block adds to the column samples' sums.
    """

    def __init__(self, row_inv: torch.Tensor, col_inv: torch.Tensor, col_weights: torch.Tensor | None = None):
        self.row_inv, self.col_inv, self.col_weights = row_inv, col_inv, col_weights
        self.total = torch.zeros((), dtype=torch.float64, device=row_inv.device)
        self.weighted = None
        if col_weights is not None:
            self.weighted = torch.zeros((row_inv.shape[0], col_weights.shape[1]), dtype=torch.float64,
                                        device=row_inv.device)

    def update(self, block: Block) -> None:
        kernel = rbf_kernel(block, self.row_inv, self.col_inv)
        total = kernel.sum()
        self.total += 2.0 * total if block.mirror else total
        if self.weighted is not None:
            self.weighted[block.rows] += kernel @ self.col_weights[block.cols]
            if block.mirror:
                self.weighted[block.cols] += kernel.T @ self.col_weights[block.rows]


@dataclass(frozen=True)
class RbfMmdOutcome:
    value: float  # x SCALE
    replicates: np.ndarray | None  # bootstrap values, x SCALE


class RbfMmdJob:
    """The RBF MMD's share of the blocked pass: three kernel sums (and bootstrap-weighted sums)."""

    real_neighbours = 0
    fake_neighbours = 0

    def __init__(self, real: FeatureSpace, fake: FeatureSpace, weights: torch.Tensor | None):
        self.n_real, self.n_fake = real.n, fake.n
        self.real_inv, self.fake_inv = inverse_norms(real, "real"), inverse_norms(fake, "fake")
        self.weights = weights  # B x n_fake resampling weights, or None
        fake_cols = weights.T.contiguous() if weights is not None else None
        ones = torch.ones((real.n, 1), dtype=torch.float64, device=self.real_inv.device) if weights is not None else None
        self.real_sums = RbfSums(self.real_inv, self.real_inv)
        self.fake_sums = RbfSums(self.fake_inv, self.fake_inv, fake_cols)
        self.cross_sums = RbfSums(self.fake_inv, self.real_inv, ones)

    def self_reducers(self, side: Literal["real", "fake"]) -> list[Reducer]:
        return [self.real_sums if side == "real" else self.fake_sums]

    def cross_reducers(self, real_nn: Neighbours | None, fake_nn: Neighbours | None) -> list[Reducer]:
        return [self.cross_sums]

    def outcome(self) -> RbfMmdOutcome:
        real_mean = float(self.real_sums.total) / self.n_real**2
        fake_mean = float(self.fake_sums.total) / self.n_fake**2
        cross_mean = float(self.cross_sums.total) / (self.n_real * self.n_fake)
        value = SCALE * (real_mean + fake_mean - 2.0 * cross_mean)
        return RbfMmdOutcome(value=value, replicates=self._replicates(real_mean))

    def _replicates(self, real_mean: float) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = self.weights
        n = w.sum(dim=1)
        fake_mean = (w * self.fake_sums.weighted.T).sum(dim=1) / n**2
        cross_mean = (w @ self.cross_sums.weighted[:, 0]) / (n * self.n_real)
        return (SCALE * (real_mean + fake_mean - 2.0 * cross_mean)).cpu().numpy()


def rbf_mmd(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    gram_dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> float:
    """CMMD's distance between two embedding sets (x 1000); call it CMMD only on CLIP ViT-L/14@336 features."""
    real_t, fake_t = feature_pair(real, fake, device)
    centre = real_t.mean(dim=0)
    real_space, fake_space = feature_space(real_t, centre, gram_dtype), feature_space(fake_t, centre, gram_dtype)
    job = RbfMmdJob(real_space, fake_space, weights=None)
    run_passes(real_space, fake_space, [job], block_size=block_size)
    return job.outcome().value


cmmd = rbf_mmd
