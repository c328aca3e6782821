"""Precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for
Assessing Generative Models") and density and coverage (Naeem et al. 2020, "Reliable Fidelity
and Diversity Metrics for Generative Models").

Each sample of a set gets a ball whose radius is the distance to its k-th nearest other sample
of the same set (Euclidean distance in feature space).

* precision: share of generated samples inside at least one real ball (k = 3);
* recall: share of real samples inside at least one generated ball (k = 3);
* density: mean over generated samples of the number of real balls containing it, divided by k
  (k = 5; 1 when the two distributions match, above 1 when samples crowd the real modes);
* coverage: share of real samples whose own ball contains at least one generated sample (k = 5).

Conventions match the reference code exactly: precision and recall follow torch-fidelity's
``metric_prc.prc_features_to_metric`` (radius = ``kthvalue(k + 1)`` of a row that includes the
sample's own zero distance, i.e. the k-th nearest *other* sample; membership ``d <= r``);
density and coverage follow the ``prdc`` package's ``compute_prdc`` (same radius, membership
``d < r``). All distances come from the shared blocked pass (:mod:`slbench.metrics.knn`).

Interval replicates are half-samples of the generated set (:mod:`slbench.metrics.bootstrap`),
0/1 weights over the generated samples. Precision and density are weighted means of per-sample
quantities (the real balls do not change). Recall rebuilds the generated balls from the samples
a half-sample holds: the radius is the distance to the k-th nearest other sample of the
half-sample, read from a list of the ``bootstrap_neighbours(k)`` nearest; in the vanishingly
rare half-sample that holds fewer than k of them, the farthest listed distance stands in.
Coverage keeps the (generated, real) pairs inside the real balls and asks which real balls a
half-sample still reaches.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import torch

from slbench.metrics._inputs import ArrayLike, check_positive_int, feature_pair, require_samples
from slbench.metrics.knn import DEFAULT_BLOCK_SIZE, BallCount, Neighbours, PairsWithin, Reducer
from slbench.metrics.knn import feature_space, run_passes


class PrecisionRecall(NamedTuple):
    precision: float
    recall: float


class DensityCoverage(NamedTuple):
    density: float
    coverage: float


def bootstrap_neighbours(k: int, n_fake: int) -> int:
    """How many nearest neighbours of each generated sample recall's half-samples need."""
    return min(n_fake - 1, 10 * k)


def check_neighbourhood(k: int, n_real: int, n_fake: int, metric: str) -> int:
    """``k`` valid for both sets: every sample needs k other samples in its own set."""
    k = check_positive_int(k, f"{metric} k")
    require_samples(n_real, k + 1, "real", f"{metric} with k = {k}")
    require_samples(n_fake, k + 1, "fake", f"{metric} with k = {k}")
    return k


def check_density_coverage(k: int, n_real: int, n_fake: int) -> int:
    """``k`` valid for density/coverage: balls live around real samples only."""
    k = check_positive_int(k, "density/coverage k")
    require_samples(n_real, k + 1, "real", f"density/coverage with k = {k}")
    require_samples(n_fake, 1, "fake", "density/coverage")
    return k


class PrecisionRecallJob:
    """Precision and recall's share of the blocked pass."""

    def __init__(self, k: int, n_real: int, n_fake: int, weights: torch.Tensor | None):
        self.k, self.n_real, self.n_fake, self.weights = k, n_real, n_fake, weights
        self.real_neighbours = k
        self.fake_neighbours = bootstrap_neighbours(k, n_fake) if weights is not None else k
        self._precision: BallCount | None = None
        self._recall: BallCount | None = None
        self._candidates: PairsWithin | None = None
        self._fake_nn: Neighbours | None = None

    def self_reducers(self, side: Literal["real", "fake"]) -> list[Reducer]:
        return []

    def cross_reducers(self, real_nn: Neighbours | None, fake_nn: Neighbours | None) -> list[Reducer]:
        self._fake_nn = fake_nn
        self._precision = BallCount(
            self.n_fake, real_nn.radii_sq(self.k), count_for="rows", radius_of="cols", strict=False
        )
        self._recall = BallCount(self.n_real, fake_nn.radii_sq(self.k), count_for="cols", radius_of="rows", strict=False)
        reducers: list[Reducer] = [self._precision, self._recall]
        if self.weights is not None:
            self._candidates = PairsWithin(fake_nn.radii_sq(self.fake_neighbours))
            reducers.append(self._candidates)
        return reducers

    def result(self) -> PrecisionRecall:
        precision = (self._precision.counts > 0).double().mean()
        recall = (self._recall.counts > 0).double().mean()
        return PrecisionRecall(float(precision), float(recall))

    def replicates(self) -> tuple[np.ndarray, np.ndarray]:
        """Precision and recall of every half-sample."""
        inside = (self._precision.counts > 0).double()
        precision = (self.weights @ inside) / self.weights.sum(dim=1)
        fake_idx, real_idx, sq = self._candidates.result()
        recall = [self._replicate_recall(w > 0, fake_idx, real_idx, sq) for w in self.weights]
        return precision.cpu().numpy(), np.array(recall)

    def _replicate_recall(
        self, drawn: torch.Tensor, fake_idx: torch.Tensor, real_idx: torch.Tensor, sq: torch.Tensor
    ) -> float:
        nn = self._fake_nn
        drawn_so_far = drawn[nn.indices].cumsum(dim=1)
        position = torch.argmax((drawn_so_far >= self.k).to(torch.uint8), dim=1)
        position[drawn_so_far[:, -1] < self.k] = nn.k - 1
        radius_sq = nn.sq.gather(1, position[:, None])[:, 0]
        return covered_share(drawn[fake_idx] & (sq <= radius_sq[fake_idx]), real_idx, self.n_real)


class DensityCoverageJob:
    """Density and coverage's share of the blocked pass."""

    fake_neighbours = 0

    def __init__(self, k: int, n_real: int, n_fake: int, weights: torch.Tensor | None = None):
        self.k, self.n_real, self.n_fake, self.weights = k, n_real, n_fake, weights
        self.real_neighbours = k
        self._density: BallCount | None = None
        self._coverage: BallCount | None = None
        self._pairs: PairsWithin | None = None

    def self_reducers(self, side: Literal["real", "fake"]) -> list[Reducer]:
        return []

    def cross_reducers(self, real_nn: Neighbours | None, fake_nn: Neighbours | None) -> list[Reducer]:
        radius_sq = real_nn.radii_sq(self.k)
        self._density = BallCount(self.n_fake, radius_sq, count_for="rows", radius_of="cols", strict=True)
        self._coverage = BallCount(self.n_real, radius_sq, count_for="cols", radius_of="cols", strict=True)
        reducers: list[Reducer] = [self._density, self._coverage]
        if self.weights is not None:
            self._pairs = PairsWithin(radius_sq, radius_of="cols", strict=True)
            reducers.append(self._pairs)
        return reducers

    def result(self) -> DensityCoverage:
        density = self._density.counts.double().mean() / self.k
        coverage = (self._coverage.counts > 0).double().mean()
        return DensityCoverage(float(density), float(coverage))

    def replicates(self) -> tuple[np.ndarray, np.ndarray]:
        """Density and coverage of every half-sample."""
        density = (self.weights @ self._density.counts.double()) / self.weights.sum(dim=1) / self.k
        fake_idx, real_idx, _ = self._pairs.result()
        coverage = [covered_share(w[fake_idx] > 0, real_idx, self.n_real) for w in self.weights]
        return density.cpu().numpy(), np.array(coverage)


def covered_share(kept: torch.Tensor, real_idx: torch.Tensor, n_real: int) -> float:
    """Share of the ``n_real`` real samples named by at least one kept pair."""
    covered = torch.zeros(n_real, dtype=torch.bool, device=real_idx.device)
    covered[real_idx[kept]] = True
    return float(covered.double().mean())


def _run(real: ArrayLike, fake: ArrayLike, job_for, block_size: int, gram_dtype: torch.dtype, device):
    real_t, fake_t = feature_pair(real, fake, device)
    job = job_for(real_t.shape[0], fake_t.shape[0])
    centre = real_t.mean(dim=0)
    spaces = feature_space(real_t, centre, gram_dtype), feature_space(fake_t, centre, gram_dtype)
    run_passes(*spaces, [job], block_size=block_size)
    return job.result()


def precision_recall(
    real: ArrayLike,
    fake: ArrayLike,
    k: int = 3,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    gram_dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
) -> PrecisionRecall:
    """Improved precision and recall with k-NN balls (Kynkäänniemi et al. 2019)."""

    def job_for(n_real: int, n_fake: int) -> PrecisionRecallJob:
        return PrecisionRecallJob(check_neighbourhood(k, n_real, n_fake, "precision/recall"), n_real, n_fake, None)

    return _run(real, fake, job_for, block_size, gram_dtype, device)


def density_coverage(
    real: ArrayLike,
    fake: ArrayLike,
    k: int = 5,
    *,
    block_size: int = DEFAULT_BLOCK_SIZE,
    gram_dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
) -> DensityCoverage:
    """Density and coverage with k-NN balls around the real samples (Naeem et al. 2020)."""

    def job_for(n_real: int, n_fake: int) -> DensityCoverageJob:
        return DensityCoverageJob(check_density_coverage(k, n_real, n_fake), n_real, n_fake)

    return _run(real, fake, job_for, block_size, gram_dtype, device)
