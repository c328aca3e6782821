"""Every feature metric of one (model, category) pair from one shared computation.

:func:`evaluate_features` validates the feature sets once, runs a single blocked pass over the
real-real, fake-fake and fake-real Gram matrices for KID, the RBF MMD (CMMD), precision/recall,
density/coverage, memorisation and the Vendi scores (:mod:`slbench.metrics.knn`), fits the
Gaussians for FID and FID-infinity once, and, when asked, gives FID, KID, the RBF MMD,
precision, recall, density and coverage confidence intervals from half-samples of the generated
set (:mod:`slbench.metrics.bootstrap`), reweighting what those steps kept; PRD clusters the features on its
own. It returns one :class:`~slbench.metrics.registry.MetricValue` per metric, in report order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from slbench.errors import SlbenchError
from slbench.metrics._inputs import ArrayLike, as_features, check_positive_int, check_same_dim, feature_pair
from slbench.metrics._inputs import require_samples
from slbench.metrics.bootstrap import centred_interval, half_sample_weights
from slbench.metrics.cmmd import RbfMmdJob
from slbench.metrics.fid import fit_real_gaussian, project_fake, weighted_fid
from slbench.metrics.fid_infinity import DEFAULT_MIN_FRACTION, DEFAULT_POINTS, FidInfinityFit, fit_fid_infinity
from slbench.metrics.kid import KidJob, plan_kid_subsets
from slbench.metrics.knn import DEFAULT_BLOCK_SIZE, FeatureSpace, PassJob, feature_space, run_passes
from slbench.metrics.memorisation import DEFAULT_PAIRS, DEFAULT_PERCENTILE, MemorisationJob, MemorisationResult
from slbench.metrics.prd import PrdCurve, PrdSettings, check_prd_sizes, prd
from slbench.metrics.prdc import DensityCoverageJob, PrecisionRecallJob, check_density_coverage, check_neighbourhood
from slbench.metrics.registry import DEFAULT_FEATURE_METRICS, FEATURE_METRICS, SAME_QUANTITY, MetricValue, get_metric
from slbench.metrics.registry import metric_value
from slbench.metrics.vendi import VendiJob

GRAM_DTYPES = {"float32": torch.float32, "float64": torch.float64}
NAN_CI = (float("nan"), float("nan"))
VENDI_METRICS = frozenset({"vendi_fake", "vendi_real", "vendi_ratio"})
PRD_METRICS = frozenset({"prd_f8", "prd_f1_8"})


@dataclass(frozen=True)
class MetricSettings:
    """Everything that changes a metric's value besides the features; recorded with every result."""

    metrics: tuple[str, ...] = DEFAULT_FEATURE_METRICS  # which of FEATURE_METRICS to compute
    bootstrap: int = 0  # half-sample replicates behind the 95 % intervals of the metrics that have one (0: none)
    seed: int = 0  # KID subsets, bootstrap draws and FID-infinity subsets
    k_prc: int = 3  # neighbourhood size of precision/recall (Kynkäänniemi et al.)
    k_dc: int = 5  # neighbourhood size of density/coverage (Naeem et al.)
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    memorisation_percentile: float = DEFAULT_PERCENTILE
    memorisation_pairs: int = DEFAULT_PAIRS  # closest (generated, training) pairs kept for reports
    fid_infinity_points: int = DEFAULT_POINTS
    fid_infinity_min_fraction: float = DEFAULT_MIN_FRACTION
    prd_clusters: int = PrdSettings().num_clusters
    prd_angles: int = PrdSettings().num_angles
    prd_runs: int = PrdSettings().num_runs
    block_size: int = DEFAULT_BLOCK_SIZE  # rows and columns per Gram block: bounds memory
    gram_dtype: str = "float32"  # precision of the Gram products ("float32" or "float64")

    def __post_init__(self) -> None:
        unknown = [m for m in self.metrics if m not in FEATURE_METRICS]
        if unknown or not self.metrics:
            raise SlbenchError(
                f"cannot compute metrics {unknown or '(none)'} from features; choose from {', '.join(FEATURE_METRICS)} "
                "(LPIPS comes from images, see lpips_diversity)"
            )
        if SAME_QUANTITY <= set(self.metrics):
            raise SlbenchError(
                "cmmd and mmd_rbf are one quantity under two names (cmmd on CLIP ViT-L/14@336 features only); ask for one"
            )
        object.__setattr__(self, "metrics", tuple(m for m in FEATURE_METRICS if m in self.metrics))
        check_positive_int(self.bootstrap, "bootstrap", minimum=0)
        check_positive_int(self.block_size, "block size")
        PrdSettings(num_clusters=self.prd_clusters, num_angles=self.prd_angles, num_runs=self.prd_runs)  # checks them
        if self.gram_dtype not in GRAM_DTYPES:
            raise SlbenchError(f"gram_dtype must be one of {', '.join(GRAM_DTYPES)}; got {self.gram_dtype!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def prd(self) -> PrdSettings:
        return PrdSettings(num_clusters=self.prd_clusters, num_angles=self.prd_angles, num_runs=self.prd_runs)


@dataclass(frozen=True)
class Evaluation:
    """The metric values and the details behind some of them (for reports and plots)."""

    values: tuple[MetricValue, ...]
    settings: MetricSettings
    memorisation: MemorisationResult | None = None
    fid_infinity: FidInfinityFit | None = None
    replicates: dict[str, np.ndarray] = field(default_factory=dict)  # metric -> half-sample values
    prd: PrdCurve | None = None


def evaluate_features(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    train_real: ArrayLike | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    k_prc: int = 3,
    k_dc: int = 5,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    memorisation_percentile: float = DEFAULT_PERCENTILE,
    metrics: tuple[str, ...] = DEFAULT_FEATURE_METRICS,
    block_size: int = DEFAULT_BLOCK_SIZE,
    device: str | torch.device | None = None,
) -> list[MetricValue]:
    """All feature metrics of ``fake`` against ``real``, one value each, in report order.

    ``train_real`` holds the features of the images the generator was trained on, for
    memorisation; when None, ``real`` is taken to be that set. See :func:`run_evaluation` for
    the closest memorisation pairs and the FID-infinity fit.
    """
    settings = MetricSettings(
        metrics=tuple(metrics),
        bootstrap=bootstrap,
        seed=seed,
        k_prc=k_prc,
        k_dc=k_dc,
        kid_subsets=kid_subsets,
        kid_subset_size=kid_subset_size,
        memorisation_percentile=memorisation_percentile,
        block_size=block_size,
    )
    return list(run_evaluation(real, fake, train_real=train_real, settings=settings, device=device).values)


def run_evaluation(
    real: ArrayLike,
    fake: ArrayLike,
    *,
    train_real: ArrayLike | None = None,
    settings: MetricSettings = MetricSettings(),
    device: str | torch.device | None = None,
) -> Evaluation:
    """Like :func:`evaluate_features`, with the details: memorisation pairs, FID-infinity fit, replicates."""
    real_t, fake_t = feature_pair(real, fake, device)
    train_t = None
    if train_real is not None and "memorisation" in settings.metrics:
        train_t = as_features(train_real, "training", real_t.device)
        check_same_dim(train_t, "training", fake_t, "fake")
    weights = (
        half_sample_weights(fake_t.shape[0], settings.bootstrap, settings.seed, real_t.device)
        if settings.bootstrap else None
    )
    # every check runs before any heavy work
    wants_gaussian = bool({"fid", "fid_infinity"} & set(settings.metrics))
    if wants_gaussian:
        _check_gaussian_sizes(real_t.shape[0], fake_t.shape[0], settings)
    shared = _plan_shared_pass(real_t, fake_t, train_t, settings, weights)
    wants_prd = bool(PRD_METRICS & set(settings.metrics))
    if wants_prd:
        check_prd_sizes(min(real_t.shape[0], fake_t.shape[0]), settings.prd)
    collected = _Collected()
    if wants_gaussian:
        _gaussian_metrics(real_t, fake_t, settings, weights, collected)
    shared.run(settings.block_size)
    shared.collect(collected)
    if wants_prd:
        _prd_metrics(real_t, fake_t, settings, collected)
    return Evaluation(
        values=tuple(collected.values[name] for name in settings.metrics),
        settings=settings,
        memorisation=collected.memorisation,
        fid_infinity=collected.fid_infinity,
        replicates=collected.replicates,
        prd=collected.prd,
    )


@dataclass
class _Collected:
    values: dict[str, MetricValue] = field(default_factory=dict)
    replicates: dict[str, np.ndarray] = field(default_factory=dict)
    memorisation: MemorisationResult | None = None
    fid_infinity: FidInfinityFit | None = None
    prd: PrdCurve | None = None

    def add(self, name: str, value: float, n_real: int, n_fake: int, replicates=None, **extra) -> None:
        ci = NAN_CI
        if replicates is not None:
            self.replicates[name] = np.asarray(replicates, dtype=np.float64)
            ci = centred_interval(value, self.replicates[name], bounds=get_metric(name).bounds)
        self.values[name] = metric_value(name, value, n_real=n_real, n_fake=n_fake, ci=ci, **extra)


def _low_reliability_note(n_real: int, n_fake: int, dim: int) -> str:
    return (
        f"N = {min(n_real, n_fake)} is below the feature dimension {dim}: the covariances are singular "
        "and FID is biased; lean on KID and coverage"
    )


def _check_gaussian_sizes(n_real: int, n_fake: int, settings: MetricSettings) -> None:
    require_samples(n_real, 2, "real", "FID")
    require_samples(n_fake, 2, "fake", "FID")
    if "fid_infinity" in settings.metrics:
        require_samples(n_fake, 3, "fake", "FID-infinity")


def _gaussian_metrics(real_t, fake_t, settings: MetricSettings, weights, collected: _Collected) -> None:
    """FID (with bootstrap replicates) and FID-infinity from one Gaussian fit and projection."""
    n_real, n_fake, dim = real_t.shape[0], fake_t.shape[0], real_t.shape[1]
    low = min(n_real, n_fake) < dim
    note = _low_reliability_note(n_real, n_fake, dim) if low else ""
    gaussian = fit_real_gaussian(real_t)
    projected = project_fake(gaussian, fake_t)
    if "fid" in settings.metrics:
        replicates = [weighted_fid(gaussian, projected, w) for w in weights] if weights is not None else None
        value = weighted_fid(gaussian, projected)
        collected.add("fid", value, n_real, n_fake, replicates, low_reliability=low, note=note)
    if "fid_infinity" in settings.metrics:
        fit = fit_fid_infinity(
            gaussian,
            projected,
            points=settings.fid_infinity_points,
            min_fraction=settings.fid_infinity_min_fraction,
            seed=settings.seed,
        )
        fit_note = f"fitted on {fit.sizes.size} subset sizes from {fit.sizes[0]} to {fit.sizes[-1]}"
        collected.fid_infinity = fit
        full_note = f"{fit_note}; {note}" if note else fit_note
        collected.add("fid_infinity", fit.value, n_real, n_fake, low_reliability=low, note=full_note)


def _prd_metrics(real_t, fake_t, settings: MetricSettings, collected: _Collected) -> None:
    """PRD's F_8 and F_1/8 (its own clustering: k-means, not the Gram pass) and the curve for reports."""
    curve = prd(real_t.cpu(), fake_t.cpu(), settings=settings.prd, seed=settings.seed)
    collected.prd = curve
    note = f"{curve.settings.caption()} ({curve.set_size} per set)"
    n_real, n_fake = real_t.shape[0], fake_t.shape[0]
    collected.add("prd_f8", curve.f_8, n_real, n_fake, note=note)
    collected.add("prd_f1_8", curve.f_1_8, n_real, n_fake, note=note)


@dataclass
class _SharedPass:
    """The metrics that read the blocked Gram pass, set up (and checked) before it runs."""

    real: FeatureSpace
    fake: FeatureSpace
    kid: KidJob | None
    rbf_mmd: tuple[str, RbfMmdJob] | None  # the name it is reported under, and the job
    precision_recall: PrecisionRecallJob | None
    density_coverage: DensityCoverageJob | None
    memorisation: MemorisationJob | None
    vendi: VendiJob | None
    separate_training_set: bool

    def run(self, block_size: int) -> None:
        rbf = self.rbf_mmd[1] if self.rbf_mmd is not None else None
        pass_jobs = (self.kid, rbf, self.precision_recall, self.density_coverage, self.vendi)
        jobs: list[PassJob] = [j for j in pass_jobs if j is not None]
        if self.memorisation is not None and not self.separate_training_set:
            jobs.append(self.memorisation)
        run_passes(self.real, self.fake, jobs, block_size=block_size)
        if self.memorisation is not None and self.separate_training_set:
            run_passes(self.memorisation.train, self.fake, [self.memorisation], block_size=block_size)

    def collect(self, collected: _Collected) -> None:
        n_real, n_fake = self.real.n, self.fake.n
        if self.kid is not None:
            kid = self.kid.outcome(self.real.kernel_diag, self.fake.kernel_diag)
            collected.add("kid", kid.mean, n_real, n_fake, kid.replicates, std=kid.std, note=kid.note)
        if self.rbf_mmd is not None:
            name, job = self.rbf_mmd
            rbf = job.outcome()
            collected.add(name, rbf.value, n_real, n_fake, rbf.replicates, note="sigma = 10, L2-normalised features")
        if self.precision_recall is not None:
            job = self.precision_recall
            result = job.result()
            precision_reps, recall_reps = job.replicates() if job.weights is not None else (None, None)
            collected.add("precision", result.precision, n_real, n_fake, precision_reps, note=f"k = {job.k}")
            collected.add("recall", result.recall, n_real, n_fake, recall_reps, note=f"k = {job.k}")
        if self.density_coverage is not None:
            job = self.density_coverage
            result = job.result()
            density_reps, coverage_reps = job.replicates() if job.weights is not None else (None, None)
            collected.add("density", result.density, n_real, n_fake, density_reps, note=f"k = {job.k}")
            collected.add("coverage", result.coverage, n_real, n_fake, coverage_reps, note=f"k = {job.k}")
        if self.vendi is not None:
            _collect_vendi(self.vendi, n_real, n_fake, collected)
        if self.memorisation is not None:
            memo = self.memorisation.result()
            collected.memorisation = memo
            collected.add("memorisation", memo.share, memo.n_train, n_fake, note=memo.note)


def _collect_vendi(job: VendiJob, n_real: int, n_fake: int, collected: _Collected) -> None:
    outcome = job.outcome()
    collected.add("vendi_fake", outcome.fake, n_real, n_fake, note=f"cosine kernel, {outcome.fake_form} form")
    collected.add("vendi_real", outcome.real, n_real, n_fake, note=f"cosine kernel, {outcome.real_form} form")
    note = f"generated over real; N fake = {n_fake}, N real = {n_real} (the score grows with N)"
    collected.add("vendi_ratio", outcome.fake / outcome.real, n_real, n_fake, note=note)


def _plan_shared_pass(real_t, fake_t, train_t, settings: MetricSettings, weights) -> _SharedPass:
    """Feature spaces and the jobs of the metrics asked for; raises before any pass on a bad size."""
    wanted = set(settings.metrics)
    n_real, n_fake = real_t.shape[0], fake_t.shape[0]
    dtype, dev = GRAM_DTYPES[settings.gram_dtype], real_t.device
    centre = real_t.mean(dim=0)
    real_space, fake_space = feature_space(real_t, centre, dtype), feature_space(fake_t, centre, dtype)
    kid = rbf = pr = dc = memo = vendi = None
    if "kid" in wanted:
        plan = plan_kid_subsets(
            n_real, n_fake, subsets=settings.kid_subsets, subset_size=settings.kid_subset_size, seed=settings.seed
        )
        kid = KidJob(plan, n_real, n_fake, dev, weights)
    if wanted & SAME_QUANTITY:
        rbf = (next(name for name in settings.metrics if name in SAME_QUANTITY), RbfMmdJob(real_space, fake_space, weights))
    if wanted & {"precision", "recall"}:
        k = check_neighbourhood(settings.k_prc, n_real, n_fake, "precision/recall")
        pr = PrecisionRecallJob(k, n_real, n_fake, weights)
    if wanted & {"density", "coverage"}:
        dc = DensityCoverageJob(check_density_coverage(settings.k_dc, n_real, n_fake), n_real, n_fake, weights)
    if wanted & VENDI_METRICS:
        vendi = VendiJob(real_space, fake_space, centre)
    if "memorisation" in wanted:
        train_space = real_space if train_t is None else feature_space(train_t, centre, dtype)
        require_samples(train_space.n, 2, "training", "memorisation")
        memo = MemorisationJob(
            train_space, fake_space, percentile=settings.memorisation_percentile, pairs=settings.memorisation_pairs
        )
    return _SharedPass(real_space, fake_space, kid, rbf, pr, dc, memo, vendi, separate_training_set=train_t is not None)
