"""Fréchet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium").

FID fits a Gaussian to each feature set and returns the Fréchet distance between them::

    FID = |mu_r - mu_f|^2 + tr(S_r) + tr(S_f) - 2 tr((S_r S_f)^(1/2))

with unbiased covariances (``N - 1``), as torch-fidelity's ``metric_fid.fid_features_to_statistics``
and ``fid_statistics_to_metric`` (and pytorch-fid) compute it; the value matches theirs on the
same features to float64 round-off.

The square-root trace is computed the numerically stable way, from symmetric matrices only.
Write ``S_r = R R^T`` (``R`` is the centred real features over ``sqrt(N_r - 1)`` when
``N_r <= D``, else the Cholesky factor of ``S_r``). Then ``S_r S_f`` has the eigenvalues of
``R^T S_f R``, the covariance of the projected generated features ``X R``, so
``tr((S_r S_f)^(1/2))`` is the sum of the singular values of the centred projected samples over
``sqrt(N_f - 1)`` (or of the square roots of the eigenvalues of their covariance, when it has
full rank). Nothing is ever negative or complex, so singular covariances (constant features,
fewer samples than dimensions) need no ``eps`` offset on the diagonal, the fallback of
scipy-sqrtm implementations such as pytorch-fid, and the result stays finite and exact to
round-off. torch-fidelity takes the eigenvalues of the non-symmetric product ``S_1 S_2``; on a
singular product its zero eigenvalues come out as round-off whose square roots add an error of
about ``sqrt(eps)`` relative, so the two agree to float64 round-off at full rank and to about
1e-6 relative below it. When ``min(N_r, N_f) < D`` the covariances are singular and FID is
strongly biased: such results are marked low-reliability.

The projection also makes resampling cheap: interval half-samples and the subsets of FID-infinity
(:mod:`slbench.metrics.fid_infinity`) reweight the rows of ``X R`` instead of refitting.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from slbench.metrics._inputs import ArrayLike, feature_pair, require_samples


@dataclass(frozen=True)
class RealGaussian:
    """The real set's Gaussian: mean, covariance trace, and a factor ``R`` with ``S_r = R R^T``."""

    mean: torch.Tensor  # D
    trace: float  # tr(S_r)
    factor: torch.Tensor  # D x r
    full_rank: bool  # False when S_r is singular (then so is the projected covariance)


def fit_real_gaussian(real: torch.Tensor) -> RealGaussian:
    """Mean, trace and covariance factor of ``real`` (N x D float64, N >= 2).

    The factor is the scaled centred samples when N <= D (rank N - 1), else the Cholesky factor
    of the covariance, or ``V diag(sqrt(lambda))`` from its eigendecomposition when the
    covariance is singular (constant or collinear features).
    """
    n, dim = real.shape
    mean = real.mean(dim=0)
    centred = real - mean
    trace = float((centred * centred).sum()) / (n - 1)
    if n <= dim:
        return RealGaussian(mean=mean, trace=trace, factor=centred.T / (n - 1) ** 0.5, full_rank=False)
    covariance = centred.T @ centred / (n - 1)
    cholesky, info = torch.linalg.cholesky_ex(covariance)
    if int(info) == 0:
        return RealGaussian(mean=mean, trace=trace, factor=cholesky, full_rank=True)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    factor = eigenvectors * eigenvalues.clamp(min=0.0).sqrt()
    return RealGaussian(mean=mean, trace=trace, factor=factor, full_rank=False)


@dataclass(frozen=True)
class ProjectedFake:
    """The generated set, centred, with its projection onto the real covariance factor."""

    centred: torch.Tensor  # N x D: X - mean
    mean: torch.Tensor  # D
    projected: torch.Tensor  # N x r: (X - mean) R


def project_fake(real: RealGaussian, fake: torch.Tensor) -> ProjectedFake:
    mean = fake.mean(dim=0)
    centred = fake - mean
    return ProjectedFake(centred=centred, mean=mean, projected=centred @ real.factor)


def _sqrt_trace(rows: torch.Tensor, divisor: float, *, full_rank: bool) -> float:
    """``sum sqrt(eig(rows^T rows / divisor))``, the trace of the square root.

    A singular matrix goes through the singular values of ``rows`` (exact near zero, where the
    square root of a rounded eigenvalue would be off by ``sqrt(eps)``); a full-rank one through
    the eigenvalues of its Gram matrix, which is several times faster.
    """
    if not full_rank or rows.shape[0] <= rows.shape[1]:
        return float(torch.linalg.svdvals(rows).sum()) / divisor**0.5
    eigenvalues = torch.linalg.eigvalsh(rows.T @ rows / divisor)
    return float(eigenvalues.clamp(min=0.0).sqrt().sum())


def weighted_fid(real: RealGaussian, fake: ProjectedFake, weights: torch.Tensor | None = None) -> float:
    """FID of the generated set with each row counted ``weights[i]`` times (all once when None).

    Weights are resampling counts or a 0/1 subset indicator; their sum is the sample size.
    """
    if weights is None:
        weights = torch.ones(fake.centred.shape[0], dtype=torch.float64, device=fake.centred.device)
    keep = weights > 0
    w = weights[keep]
    n = float(w.sum())
    centred, projected = fake.centred[keep], fake.projected[keep]
    shift = (w @ centred) / n  # resampled mean minus the full mean
    diff = fake.mean + shift - real.mean
    trace = (float(w @ (centred * centred).sum(dim=1)) - n * float(shift @ shift)) / (n - 1)
    rows = (projected - (w @ projected) / n) * w.sqrt()[:, None]
    return float(diff @ diff) + real.trace + trace - 2.0 * _sqrt_trace(rows, n - 1, full_rank=real.full_rank)


def fid(real: ArrayLike, fake: ArrayLike, *, device: str | torch.device | None = None) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (float64 throughout)."""
    real_t, fake_t = feature_pair(real, fake, device)
    require_samples(real_t.shape[0], 2, "real", "FID")
    require_samples(fake_t.shape[0], 2, "fake", "FID")
    gaussian = fit_real_gaussian(real_t)
    return weighted_fid(gaussian, project_fake(gaussian, fake_t))
