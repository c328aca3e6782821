"""Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs").

KID is the unbiased estimate of the squared maximum mean discrepancy (MMD^2) between the real
and generated feature distributions under the cubic polynomial kernel ``k(x, y) = (x.y/d + 1)^3``,
averaged over random subsets. It matches torch-fidelity's ``metric_kid.kid_features_to_metric``:
the same estimator (``mmd2(..., mmd_est="unbiased")``: kernel means over distinct pairs within
each set, over all pairs across the sets), the same subsets for a seed (a
``numpy.random.RandomState(seed)`` draws, for every subset, ``subset_size`` generated indices
then ``subset_size`` real ones, both without replacement, which is torch-fidelity's order with
the generated set as its input 1), and the same mean and population std over subsets.

Unlike torch-fidelity, a set smaller than ``subset_size`` is not an error: the subset size
shrinks to the smaller set and the result says so. The kernel sums come from the shared blocked
pass (:mod:`slbench.metrics.knn`), so the kernel matrices are never held whole.

Interval replicates (``weights``: 0/1 half-samples, see :mod:`slbench.metrics.bootstrap`, or
counts of a resample) use the unbiased MMD^2 over the whole weighted set instead of subsets:
pairs of two copies of one sample are left out of the within-set mean (a copy paired with itself
would inflate it), so each replicate estimates the same quantity as the subset mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import torch

from slbench.metrics._inputs import ArrayLike, check_positive_int, feature_pair, require_samples
from slbench.metrics.knn import DEFAULT_BLOCK_SIZE, Block, Neighbours, Reducer, feature_space, run_passes


class Kid(NamedTuple):
    """KID: the mean and the standard deviation of the unbiased MMD^2 over subsets."""

    mean: float
    std: float


@dataclass(frozen=True)
class KidPlan:
    """The subsets KID averages over: row s of each index array is subset s."""

    fake_index: np.ndarray  # subsets x subset_size
    real_index: np.ndarray  # subsets x subset_size
    subset_size: int
    note: str  # empty unless the subset size had to shrink


def plan_kid_subsets(n_real: int, n_fake: int, *, subsets: int, subset_size: int, seed: int) -> KidPlan:
    """Draw the subsets as torch-fidelity does for ``kid_features_to_metric(fake, real, rng_seed=seed)``."""
    subsets = check_positive_int(subsets, "KID subsets")
    subset_size = check_positive_int(subset_size, "KID subset size", minimum=2)
    require_samples(n_real, 2, "real", "KID")
    require_samples(n_fake, 2, "fake", "KID")
    size = min(subset_size, n_real, n_fake)
    note = ""
    if size < subset_size:
        note = f"KID subset size reduced from {subset_size} to {size} (the smaller set's size)"
        if n_real == n_fake == size:
            note += "; every subset is the whole set, so the std over subsets is 0"
    rng = np.random.RandomState(seed)
    fake_index = np.empty((subsets, size), dtype=np.int64)
    real_index = np.empty((subsets, size), dtype=np.int64)
    for s in range(subsets):
        fake_index[s] = rng.choice(n_fake, size, replace=False)
        real_index[s] = rng.choice(n_real, size, replace=False)
    return KidPlan(fake_index=fake_index, real_index=real_index, subset_size=size, note=note)


def membership(index: np.ndarray, n: int, device: torch.device) -> torch.Tensor:
    """A (subsets + 1) x n float64 0/1 matrix: one row per subset, then a row for the whole set."""
    members = torch.zeros((index.shape[0] + 1, n), dtype=torch.float64, device=device)
    rows = torch.arange(index.shape[0], device=device)[:, None]
    members[rows, torch.as_tensor(index, device=device)] = 1.0
    members[-1] = 1.0
    return members


class KernelSubsetSums:
    """``sum_{i in S_s, j in T_s} k(x_i, y_j)`` for every subset pair (S_s, T_s), diagonal included."""

    def __init__(self, row_members: torch.Tensor, col_members: torch.Tensor):
        self.row_members, self.col_members = row_members, col_members
        self.sums = torch.zeros(row_members.shape[0], dtype=torch.float64, device=row_members.device)

    def update(self, block: Block) -> None:
        partial = self.row_members[:, block.rows] @ block.kernel
        sums = (partial * self.col_members[:, block.cols]).sum(dim=1)
        # in a self pass the transposed block adds the same sums (row and column members agree)
        self.sums += 2.0 * sums if block.mirror else sums


class KernelWeightedSums:
    """``K @ W`` for the whole kernel matrix of a pass: each row sample's kernel sums under column weights."""

    def __init__(self, n_rows: int, col_weights: torch.Tensor):
        self.col_weights = col_weights  # n_cols x B
        self.sums = torch.zeros((n_rows, col_weights.shape[1]), dtype=torch.float64, device=col_weights.device)

    def update(self, block: Block) -> None:
        self.sums[block.rows] += block.kernel @ self.col_weights[block.cols]
        if block.mirror:
            self.sums[block.cols] += block.kernel.T @ self.col_weights[block.rows]


@dataclass(frozen=True)
class KidOutcome:
    """KID over subsets, the whole-set estimate, and bootstrap replicates when asked."""

    mean: float
    std: float
    per_subset: np.ndarray
    whole_set: float
    replicates: np.ndarray | None
    subset_size: int
    note: str


class KidJob:
    """KID's share of the blocked pass: kernel sums over subsets (and bootstrap weights)."""

    real_neighbours = 0
    fake_neighbours = 0

    def __init__(self, plan: KidPlan, n_real: int, n_fake: int, device: torch.device, weights: torch.Tensor | None):
        self.plan = plan
        self.real_members = membership(plan.real_index, n_real, device)
        self.fake_members = membership(plan.fake_index, n_fake, device)
        self.weights = weights  # B x n_fake resampling weights, or None
        self.real_sums = KernelSubsetSums(self.real_members, self.real_members)
        self.fake_sums = KernelSubsetSums(self.fake_members, self.fake_members)
        self.cross_sums = KernelSubsetSums(self.fake_members, self.real_members)
        self.fake_weighted = KernelWeightedSums(n_fake, weights.T.contiguous()) if weights is not None else None
        ones = torch.ones((n_real, 1), dtype=torch.float64, device=device)
        self.cross_row_sums = KernelWeightedSums(n_fake, ones) if weights is not None else None

    def self_reducers(self, side: Literal["real", "fake"]) -> list[Reducer]:
        if side == "real":
            return [self.real_sums]
        return [self.fake_sums] + ([self.fake_weighted] if self.fake_weighted else [])

    def cross_reducers(self, real_nn: Neighbours | None, fake_nn: Neighbours | None) -> list[Reducer]:
        return [self.cross_sums] + ([self.cross_row_sums] if self.cross_row_sums else [])

    def outcome(self, real_diag: torch.Tensor, fake_diag: torch.Tensor) -> KidOutcome:
        """Finish from the collected sums; ``*_diag`` are the kernels ``k(x, x)`` of each set."""
        within_real = self.real_sums.sums - self.real_members @ real_diag
        within_fake = self.fake_sums.sums - self.fake_members @ fake_diag
        m = self.plan.subset_size
        mmd = (within_real[:-1] + within_fake[:-1]) / (m * (m - 1)) - 2.0 * self.cross_sums.sums[:-1] / (m * m)
        n_real, n_fake = self.real_members.shape[1], self.fake_members.shape[1]
        real_term = float(within_real[-1]) / (n_real * (n_real - 1))
        whole = real_term + float(within_fake[-1]) / (n_fake * (n_fake - 1))
        whole -= 2.0 * float(self.cross_sums.sums[-1]) / (n_real * n_fake)
        per_subset = mmd.cpu().numpy()
        return KidOutcome(
            mean=float(per_subset.mean()),
            std=float(per_subset.std()),
            per_subset=per_subset,
            whole_set=whole,
            replicates=self._replicates(real_term, fake_diag),
            subset_size=m,
            note=self.plan.note,
        )

    def _replicates(self, real_term: float, fake_diag: torch.Tensor) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = self.weights
        n_real = self.real_members.shape[1]
        n = w.sum(dim=1)
        pair_count = n * n - (w * w).sum(dim=1)
        within = (w * self.fake_weighted.sums.T).sum(dim=1) - (w * w) @ fake_diag
        cross = w @ self.cross_row_sums.sums[:, 0]
        replicates = real_term + within / pair_count - 2.0 * cross / (n * n_real)
        return replicates.cpu().numpy()


def kid(
    real: ArrayLike,
    fake: ArrayLike,
    subsets: int = 100,
    subset_size: int = 1000,
    *,
    seed: int = 0,
    block_size: int = DEFAULT_BLOCK_SIZE,
    gram_dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
) -> Kid:
    """KID between two feature sets: (mean, std) of the unbiased MMD^2 over ``subsets`` subsets."""
    real_t, fake_t = feature_pair(real, fake, device)
    plan = plan_kid_subsets(real_t.shape[0], fake_t.shape[0], subsets=subsets, subset_size=subset_size, seed=seed)
    centre = real_t.mean(dim=0)
    real_space = feature_space(real_t, centre, gram_dtype)
    fake_space = feature_space(fake_t, centre, gram_dtype)
    job = KidJob(plan, real_t.shape[0], fake_t.shape[0], real_t.device, weights=None)
    run_passes(real_space, fake_space, [job], block_size=block_size)
    outcome = job.outcome(real_space.kernel_diag, fake_space.kernel_diag)
    return Kid(mean=outcome.mean, std=outcome.std)
