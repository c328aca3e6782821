"""Vendi score (Friedman and Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine Learning").

The exponential of the Shannon entropy of the eigenvalues of ``K / n``, where ``K`` is the
cosine-similarity kernel of the n samples (``K_ij = x_i.x_j / (|x_i| |x_j|)``): the effective
number of distinct samples, from 1 (all alike) to ``min(n, d)``. It needs no reference set, so
it measures the diversity of what a generator produces on its own; slbench reports it for the
generated set, for the real images of the class (for scale) and their ratio.

``K / n`` and ``X^T X / n`` (X: the L2-normalised rows) have the same non-zero eigenvalues, so
the smaller one is decomposed, as the reference package's ``score_X`` and ``score_dual`` do.
When ``n <= d`` the n x n matrix is assembled from the cosine blocks of the shared Gram pass
(:mod:`slbench.metrics.knn`), so it costs no extra products; otherwise the d x d form is one
product of the features with themselves, n d^2 operations against the pass's n^2 d.

The score grows with n towards its population value; the real set of a small class is smaller
than the generated one, so a ratio above 1 there is partly the larger sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from slbench.metrics._inputs import ArrayLike, as_features, resolve_device
from slbench.metrics.cmmd import inverse_norms
from slbench.metrics.knn import DEFAULT_BLOCK_SIZE, Block, FeatureSpace, Neighbours, Reducer, feature_space, self_pass


def vendi_from_eigenvalues(eigenvalues: torch.Tensor) -> float:
    """``exp(-sum l log l)`` over the positive eigenvalues (rounding leaves some at -1e-17)."""
    positive = eigenvalues[eigenvalues > 0]
    return float(torch.exp(-(positive * positive.log()).sum()))


class CosineMatrix:
    """The whole n x n cosine-similarity matrix of a self pass, assembled block by block."""

    def __init__(self, inv_norms: torch.Tensor):
        self.inv_norms = inv_norms
        n = inv_norms.shape[0]
        self.matrix = torch.empty((n, n), dtype=torch.float64, device=inv_norms.device)

    def update(self, block: Block) -> None:
        cosine = block.gram * self.inv_norms[block.rows, None] * self.inv_norms[None, block.cols]
        if block.diagonal:
            cosine.fill_diagonal_(1.0)
        self.matrix[block.rows, block.cols] = cosine
        if block.mirror:
            self.matrix[block.cols, block.rows] = cosine.T


@dataclass(frozen=True)
class VendiOutcome:
    real: float
    fake: float
    real_form: str  # "n x n" or "d x d": which matrix was decomposed
    fake_form: str


class _SideVendi:
    """One set's Vendi score: the n x n form from the pass when n <= d, else the d x d form."""

    def __init__(self, space: FeatureSpace, which: str):
        self.space = space
        self.inv_norms = inverse_norms(space, which)
        self.collector = CosineMatrix(self.inv_norms) if space.n <= space.dim else None

    @property
    def form(self) -> str:
        return "n x n" if self.collector is not None else "d x d"

    def score(self, centre: torch.Tensor) -> float:
        n = self.space.n
        if self.collector is not None:
            return vendi_from_eigenvalues(torch.linalg.eigvalsh(self.collector.matrix / n))
        unit = (self.space.exact + centre).mul_(self.inv_norms[:, None]).to(self.space.shifted.dtype)
        second_moment = (unit.T @ unit).to(torch.float64) / n
        return vendi_from_eigenvalues(torch.linalg.eigvalsh(second_moment))


class VendiJob:
    """Vendi scores of the real and the generated set: the cosine blocks of their self passes."""

    real_neighbours = 0
    fake_neighbours = 0

    def __init__(self, real: FeatureSpace, fake: FeatureSpace, centre: torch.Tensor):
        self.centre = centre  # the shift of both spaces, added back for the d x d form
        self.real, self.fake = _SideVendi(real, "real"), _SideVendi(fake, "fake")

    def self_reducers(self, side: Literal["real", "fake"]) -> list[Reducer]:
        collector = (self.real if side == "real" else self.fake).collector
        return [collector] if collector is not None else []

    def cross_reducers(self, real_nn: Neighbours | None, fake_nn: Neighbours | None) -> list[Reducer]:
        return []

    def outcome(self) -> VendiOutcome:
        return VendiOutcome(
            real=self.real.score(self.centre),
            fake=self.fake.score(self.centre),
            real_form=self.real.form,
            fake_form=self.fake.form,
        )


def vendi_score(
    features: ArrayLike,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    gram_dtype: torch.dtype = torch.float64,
    device: str | torch.device | None = None,
) -> float:
    """The Vendi score of one feature set under the cosine-similarity kernel."""
    x = as_features(features, "the", resolve_device(device))
    centre = x.mean(dim=0)
    side = _SideVendi(feature_space(x, centre, gram_dtype), "the")
    if side.collector is not None:
        self_pass(side.space, [side.collector], block_size=block_size)
    return side.score(centre)
