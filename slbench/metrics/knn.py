"""One blocked pass over the real-real, fake-fake and fake-real Gram matrices.

KID (Binkowski et al. 2018) needs the cubic polynomial kernel of every pair of samples, CMMD
(Jayasumana et al. 2024) an RBF kernel of their cosine similarity (:attr:`Block.gram`);
precision/recall (Kynkäänniemi et al. 2019), density/coverage (Naeem et al. 2020) and
memorisation need Euclidean distances between them. Both derive from the Gram matrices
``X Y^T``, so :func:`run_passes` computes the real-real, fake-fake and fake-real Gram matrices
once, ``block_size`` rows by ``block_size`` columns at a time, and hands every block to small
reducers that keep only what a metric needs (the k nearest distances of each row, ball
memberships, kernel sums). Memory is bounded by the block size, never N^2. A self pass visits
each unordered pair of blocks once (the Gram matrix is symmetric); reducers see a ``mirror``
flag and account for the transposed block themselves. Everything runs on the features' device
(the metrics put them on the GPU when one is present).

Accuracy: all sets are shifted by one common centre (the real mean) before the products, which
leaves distances unchanged and keeps ``|x|^2`` small next to the squared distances computed as
``|x|^2 + |y|^2 - 2 x.y``; the kernel uses the unshifted products, restored exactly in float64.
The products run in ``gram_dtype`` (float32 by default, as torch-fidelity computes on float32
features; float64 on request); distances, kernel values and every sum over them are float64.
Distances that are small next to the norms, where ``|x|^2 + |y|^2 - 2 x.y`` cancels, are
recomputed from the float64 features, so duplicates sit at exactly 0 (a sample and itself
always does); the kernel's diagonal is computed directly from the features.

Ties: a ball membership ``d < r`` (or ``d <= r``) is decided on exact float64 distances whenever
it is close. The k-NN radii are the exact distances to the neighbours found, and every pair
whose rounded distance lies within the Gram product's rounding error of the radius it is
compared with is recomputed from the features before the comparison. A generated copy of a real
sample therefore sits exactly on the balls that sample's neighbours carry, and counts as prdc
counts it (identical sets give density 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal, Protocol

import torch

DEFAULT_BLOCK_SIZE = 2048
CLOSE_PAIR = 1e-2  # pairs with |x - y|^2 below this share of |x|^2 + |y|^2 get exact float64 distances
REFINE_CHUNK = 65536  # pairs recomputed at a time
TIE_ULPS = 4.0  # rounding band around a radius, in units of dim * eps of the Gram dtype times |x|^2 + |y|^2

KID_KERNEL_DEGREE = 3
KID_KERNEL_COEF0 = 1.0


def polynomial_kernel(gram: torch.Tensor, dim: int) -> torch.Tensor:
    """KID's kernel ``(x.y / d + 1)^3`` from the Gram values ``x.y`` (torch-fidelity's defaults)."""
    return (gram / dim + KID_KERNEL_COEF0) ** KID_KERNEL_DEGREE


@dataclass(frozen=True)
class FeatureSpace:
    """One feature set, shifted by a common centre ``c`` and ready for blocked Gram products."""

    exact: torch.Tensor  # N x D, x - c in float64
    shifted: torch.Tensor  # N x D, x - c in the Gram dtype
    sq_norms: torch.Tensor  # N, float64: |x - c|^2 of the rounded rows
    centre_dot: torch.Tensor  # N, float64: (x - c) . c
    centre_sq: float  # |c|^2

    @property
    def n(self) -> int:
        return self.shifted.shape[0]

    @property
    def dim(self) -> int:
        return self.shifted.shape[1]

    @cached_property
    def gram_diag(self) -> torch.Tensor:
        """``|x|^2`` of the unshifted rows, float64, consistent with :attr:`Block.gram`."""
        return self.sq_norms + 2.0 * self.centre_dot + self.centre_sq

    @cached_property
    def kernel_diag(self) -> torch.Tensor:
        """``k(x, x)`` for every row, computed directly (float64)."""
        return polynomial_kernel(self.gram_diag, self.dim)


def feature_space(features: torch.Tensor, centre: torch.Tensor, gram_dtype: torch.dtype) -> FeatureSpace:
    """``features`` (float64) shifted by ``centre`` and rounded once to ``gram_dtype``."""
    exact = features - centre
    shifted = exact.to(gram_dtype)
    rounded = shifted.to(torch.float64)
    return FeatureSpace(
        exact=exact,
        shifted=shifted,
        sq_norms=(rounded * rounded).sum(dim=1),
        centre_dot=rounded @ centre,
        centre_sq=float(centre @ centre),
    )


def exact_sq_distances(a: FeatureSpace, a_index: torch.Tensor, b: FeatureSpace, b_index: torch.Tensor) -> torch.Tensor:
    """Squared distances of chosen pairs (row ``a_index[p]`` of ``a``, row ``b_index[p]`` of ``b``) in float64."""
    diff = a.exact[a_index] - b.exact[b_index]
    return (diff * diff).sum(dim=1)


class Block:
    """Rows ``rows`` of one set against columns ``cols`` of another; quantities computed on demand."""

    def __init__(self, a: FeatureSpace, rows: slice, b: FeatureSpace, cols: slice, *, diagonal: bool, mirror: bool):
        self.a, self.rows, self.b, self.cols = a, rows, b, cols
        self.diagonal = diagonal  # a self-pass block on the diagonal: row i and column i are one sample
        self.mirror = mirror  # a self-pass block that also stands for its transpose

    @cached_property
    def _shifted_gram(self) -> torch.Tensor:
        """``(x - c).(y - c)`` for every pair, in the Gram dtype."""
        return self.a.shifted[self.rows] @ self.b.shifted[self.cols].T

    @cached_property
    def sq(self) -> torch.Tensor:
        """Squared Euclidean distances, float64; exactly 0 for a sample and itself or its duplicate."""
        row_norms, col_norms = self.a.sq_norms[self.rows], self.b.sq_norms[self.cols]
        sq = torch.add(row_norms[:, None], self._shifted_gram, alpha=-2.0)  # float64 by type promotion
        sq.add_(col_norms[None, :])
        self._refine_close_pairs(sq, row_norms, col_norms)
        sq.clamp_(min=0.0)
        if self.diagonal:
            sq.fill_diagonal_(0.0)
        return sq

    def sq_against(self, radius_sq: torch.Tensor) -> torch.Tensor:
        """:attr:`sq`, with every pair within rounding of ``radius_sq`` (broadcast to the block) exact.

        The band is a bound on the rounding of ``|x|^2 + |y|^2 - 2 x.y`` in the Gram dtype; pairs
        outside it compare with the radius the same way rounded or exact.
        """
        sq = self.sq
        row_norms, col_norms = self.a.sq_norms[self.rows], self.b.sq_norms[self.cols]
        eps = torch.finfo(self.a.shifted.dtype).eps * self.a.dim * TIE_ULPS
        band = eps * (row_norms[:, None] + col_norms[None, :]) + eps * radius_sq
        near = ((sq - radius_sq).abs_() <= band) & torch.isfinite(radius_sq)
        rows, cols = torch.nonzero(near, as_tuple=True)
        self._recompute(sq, rows, cols)
        return sq

    def _recompute(self, sq: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> None:
        for start in range(0, rows.numel(), REFINE_CHUNK):
            r, c = rows[start : start + REFINE_CHUNK], cols[start : start + REFINE_CHUNK]
            diff = self.a.exact[r + self.rows.start] - self.b.exact[c + self.cols.start]
            sq[r, c] = (diff * diff).sum(dim=1)

    def _refine_close_pairs(self, sq: torch.Tensor, row_norms: torch.Tensor, col_norms: torch.Tensor) -> None:
        """Recompute from the float64 features the pairs closer than ``CLOSE_PAIR`` of ``|x|^2 + |y|^2``.

        ``|x|^2 + |y|^2 - 2 x.y`` loses the digits of such a distance; recomputed, duplicates get
        exactly 0 and near-copies their exact distance.
        """
        bound = CLOSE_PAIR * (float(row_norms.max()) + float(col_norms.max()))
        rows, cols = torch.nonzero(sq < bound, as_tuple=True)
        close = sq[rows, cols] < CLOSE_PAIR * (row_norms[rows] + col_norms[cols])
        self._recompute(sq, rows[close], cols[close])

    @cached_property
    def gram(self) -> torch.Tensor:
        """``x.y`` of the unshifted features, float64 (restored from the shifted products)."""
        gram = torch.add(self.a.centre_dot[self.rows, None], self._shifted_gram)  # float64 by type promotion
        return gram.add_(self.b.centre_dot[None, self.cols]).add_(self.a.centre_sq)

    @cached_property
    def kernel(self) -> torch.Tensor:
        """KID's polynomial kernel of the unshifted features, float64."""
        kernel = torch.div(self.gram, self.a.dim).add_(KID_KERNEL_COEF0).pow_(KID_KERNEL_DEGREE)
        if self.diagonal:
            kernel.diagonal().copy_(self.a.kernel_diag[self.rows])
        return kernel


class Reducer(Protocol):
    """Keeps what one metric needs from each block."""

    def update(self, block: Block) -> None: ...


def _spans(n: int, block_size: int) -> list[slice]:
    return [slice(start, min(start + block_size, n)) for start in range(0, n, block_size)]


def self_pass(space: FeatureSpace, reducers: list[Reducer], *, block_size: int = DEFAULT_BLOCK_SIZE) -> None:
    """Every unordered pair of row blocks of one set, each once."""
    if not reducers:
        return
    spans = _spans(space.n, block_size)
    for i, rows in enumerate(spans):
        for cols in spans[i:]:
            same = rows == cols
            block = Block(space, rows, space, cols, diagonal=same, mirror=not same)
            for reducer in reducers:
                reducer.update(block)


def cross_pass(
    rows_space: FeatureSpace, cols_space: FeatureSpace, reducers: list[Reducer], *, block_size: int = DEFAULT_BLOCK_SIZE
) -> None:
    """Every block of the rows set against every block of the columns set."""
    if not reducers:
        return
    for rows in _spans(rows_space.n, block_size):
        for cols in _spans(cols_space.n, block_size):
            block = Block(rows_space, rows, cols_space, cols, diagonal=False, mirror=False)
            for reducer in reducers:
                reducer.update(block)


@dataclass(frozen=True)
class Neighbours:
    """The k nearest other samples of every sample of one set, nearest first."""

    sq: torch.Tensor  # N x k squared distances, float64
    indices: torch.Tensor  # N x k sample indices

    @property
    def k(self) -> int:
        return self.sq.shape[1]

    def radii_sq(self, k: int) -> torch.Tensor:
        """Squared distance to the k-th nearest other sample (the k-NN ball radius, squared)."""
        return self.sq[:, k - 1]


class NearestNeighbours:
    """Running k smallest distances per row of a self pass, the sample itself left out.

    Leaving the sample out and taking the k-th smallest of the rest equals torch-fidelity's
    ``kthvalue(k + 1)`` over a row that includes the sample's own zero distance.
    """

    def __init__(self, n: int, k: int, device: torch.device):
        self.k = k
        self.sq = torch.full((n, k), float("inf"), dtype=torch.float64, device=device)
        self.indices = torch.full((n, k), -1, dtype=torch.long, device=device)

    def update(self, block: Block) -> None:
        sq = block.sq
        if block.diagonal:
            sq = sq.clone()
            sq.fill_diagonal_(float("inf"))
        self._merge(block.rows, block.cols, sq)
        if block.mirror:
            self._merge(block.cols, block.rows, sq.T)

    def _merge(self, rows: slice, cols: slice, sq: torch.Tensor) -> None:
        take = min(self.k, sq.shape[1])
        block_sq, block_idx = torch.topk(sq, take, dim=1, largest=False, sorted=False)
        all_sq = torch.cat([self.sq[rows], block_sq], dim=1)
        all_idx = torch.cat([self.indices[rows], block_idx + cols.start], dim=1)
        best_sq, order = torch.topk(all_sq, self.k, dim=1, largest=False, sorted=True)
        self.sq[rows] = best_sq
        self.indices[rows] = torch.gather(all_idx, 1, order)

    def result(self) -> Neighbours:
        return Neighbours(sq=self.sq, indices=self.indices)


def within_radius(block: Block, radius_sq: torch.Tensor, radius_of: Literal["rows", "cols"], *,
                  strict: bool) -> torch.Tensor:
    """Which pairs of a cross block lie inside the k-NN ball of the ``radius_of`` side's sample:
    ``d < r`` when ``strict`` (prdc's convention), else ``d <= r`` (torch-fidelity's)."""
    radius = radius_sq[block.cols][None, :] if radius_of == "cols" else radius_sq[block.rows][:, None]
    sq = block.sq_against(radius)
    return sq < radius if strict else sq <= radius


class BallCount:
    """For each sample on one side, how many samples of the other side share a k-NN ball with it.

    ``count_for`` names the side whose samples get counts; ``radius_of`` the side whose samples
    carry the balls (``radius_sq`` indexed by that side). ``strict`` counts ``d < r`` (prdc's
    convention for density/coverage), else ``d <= r`` (torch-fidelity's for precision/recall).
    Cross passes only.
    """

    def __init__(
        self,
        n: int,
        radius_sq: torch.Tensor,
        *,
        count_for: Literal["rows", "cols"],
        radius_of: Literal["rows", "cols"],
        strict: bool,
    ):
        self.counts = torch.zeros(n, dtype=torch.long, device=radius_sq.device)
        self.radius_sq, self.count_for, self.radius_of, self.strict = radius_sq, count_for, radius_of, strict

    def update(self, block: Block) -> None:
        inside = within_radius(block, self.radius_sq, self.radius_of, strict=self.strict)
        if self.count_for == "rows":
            self.counts[block.rows] += inside.sum(dim=1)
        else:
            self.counts[block.cols] += inside.sum(dim=0)


class RowNearest:
    """The nearest column sample of every row sample (squared distance and index). Cross passes only."""

    def __init__(self, n: int, device: torch.device):
        self.sq = torch.full((n,), float("inf"), dtype=torch.float64, device=device)
        self.indices = torch.full((n,), -1, dtype=torch.long, device=device)

    def update(self, block: Block) -> None:
        block_sq, block_idx = block.sq.min(dim=1)
        better = block_sq < self.sq[block.rows]
        self.sq[block.rows] = torch.where(better, block_sq, self.sq[block.rows])
        self.indices[block.rows] = torch.where(better, block_idx + block.cols.start, self.indices[block.rows])


class PairsWithin:
    """Every (row, column) pair closer than a per-sample squared radius. Cross passes only.

    ``radius_of`` names the side whose samples carry the radii (``radius_sq`` indexed by that
    side); ``strict`` keeps ``d < r``, else ``d <= r``, as :class:`BallCount`. Memory grows with
    the number of such pairs; it is used with the radii of a sample's few nearest neighbours, so
    it stays near N times the number of balls covering a sample.
    """

    def __init__(self, radius_sq: torch.Tensor, *, radius_of: Literal["rows", "cols"] = "rows", strict: bool = False):
        self.radius_sq, self.radius_of, self.strict = radius_sq, radius_of, strict
        self._rows: list[torch.Tensor] = []
        self._cols: list[torch.Tensor] = []
        self._sq: list[torch.Tensor] = []

    def update(self, block: Block) -> None:
        inside = within_radius(block, self.radius_sq, self.radius_of, strict=self.strict)
        rows, cols = torch.nonzero(inside, as_tuple=True)
        self._rows.append(rows + block.rows.start)
        self._cols.append(cols + block.cols.start)
        self._sq.append(block.sq[rows, cols])

    def result(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Row indices, column indices and squared distances of the pairs."""
        return torch.cat(self._rows), torch.cat(self._cols), torch.cat(self._sq)


class PassJob(Protocol):
    """What one metric asks of the shared pass, and where it keeps the answers."""

    real_neighbours: int  # how many nearest other real samples it needs per real sample (0: none)
    fake_neighbours: int  # the same for the fake set

    def self_reducers(self, side: Literal["real", "fake"]) -> list[Reducer]: ...

    def cross_reducers(self, real_nn: Neighbours | None, fake_nn: Neighbours | None) -> list[Reducer]: ...


def run_passes(
    real: FeatureSpace, fake: FeatureSpace, jobs: list[PassJob], *, block_size: int = DEFAULT_BLOCK_SIZE
) -> tuple[Neighbours | None, Neighbours | None]:
    """Real-real and fake-fake self passes, then the fake-real cross pass (rows fake, columns real).

    The nearest-neighbour lists are computed once for the largest k any job asks for and
    returned; the jobs' own reducers collect the rest.
    """
    nn_real, nn_fake = _neighbour_reducer(real, jobs, "real"), _neighbour_reducer(fake, jobs, "fake")
    self_pass(real, _with(nn_real, [r for job in jobs for r in job.self_reducers("real")]), block_size=block_size)
    self_pass(fake, _with(nn_fake, [r for job in jobs for r in job.self_reducers("fake")]), block_size=block_size)
    real_nn = exact_neighbours(real, nn_real.result()) if nn_real else None
    fake_nn = exact_neighbours(fake, nn_fake.result()) if nn_fake else None
    cross = [r for job in jobs for r in job.cross_reducers(real_nn, fake_nn)]
    cross_pass(fake, real, cross, block_size=block_size)
    return real_nn, fake_nn


def exact_neighbours(space: FeatureSpace, found: Neighbours) -> Neighbours:
    """The neighbours found, with their exact float64 distances, re-sorted nearest first."""
    rows = torch.arange(space.n, device=found.indices.device)[:, None].expand_as(found.indices)
    valid = found.indices >= 0
    sq = exact_sq_distances(space, rows.reshape(-1), space, found.indices.clamp(min=0).reshape(-1))
    sq = torch.where(valid, sq.view_as(found.sq), found.sq)
    sq, order = torch.sort(sq, dim=1, stable=True)
    return Neighbours(sq=sq, indices=torch.gather(found.indices, 1, order))


def _neighbour_reducer(space: FeatureSpace, jobs: list[PassJob], side: str) -> NearestNeighbours | None:
    k = max((getattr(job, f"{side}_neighbours") for job in jobs), default=0)
    return NearestNeighbours(space.n, k, space.shifted.device) if k > 0 else None


def _with(first: Reducer | None, rest: list[Reducer]) -> list[Reducer]:
    return ([first] if first is not None else []) + rest
