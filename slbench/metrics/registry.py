"""The metrics slbench reports: name, label, direction, paper, and the value type every result uses.

Each metric carries its direction (``higher_is_better``, as torchmetrics sets it on a metric
class) so a report can bold the best value and a regression gate can judge a change without a
hard-coded list. :class:`MetricValue` is one result; its fields are the metric columns of a tidy
result row (``reports.schema.COLUMNS``), ``NaN`` where a field does not apply.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from types import MappingProxyType

from slbench.errors import SlbenchError

NAN = float("nan")
RATE = (0.0, 1.0)  # shares of samples
NON_NEGATIVE = (0.0, math.inf)
UNBOUNDED = (-math.inf, math.inf)


@dataclass(frozen=True)
class MetricInfo:
    """What a metric is and which way is better."""

    name: str  # the name in result rows, e.g. "fid"
    label: str  # how tables print it, e.g. "FID"
    higher_is_better: bool
    paper: str  # the paper that defines it
    reference: str  # the reference code slbench matches
    description: str  # one line for table captions
    bootstrap: bool = False  # confidence intervals available (resampling the generated set)
    bounds: tuple[float, float] = UNBOUNDED  # the values the metric can take; intervals are clipped to them


@dataclass(frozen=True)
class MetricValue:
    """One metric's result for one (model, category) pair: the metric columns of a tidy row."""

    metric: str
    value: float
    ci_low: float
    ci_high: float
    std: float
    n_real: int
    n_fake: int
    higher_is_better: bool
    low_reliability: bool
    note: str

    def to_row(self) -> dict:
        """The fields as a dict, ready to join the table/model/category/features/seed columns."""
        return asdict(self)


def metric_value(
    name: str,
    value: float,
    *,
    n_real: int,
    n_fake: int,
    ci: tuple[float, float] = (NAN, NAN),
    std: float = NAN,
    low_reliability: bool = False,
    note: str = "",
) -> MetricValue:
    """A :class:`MetricValue` whose direction comes from the registry."""
    info = get_metric(name)
    return MetricValue(
        metric=info.name,
        value=float(value),
        ci_low=float(ci[0]),
        ci_high=float(ci[1]),
        std=float(std),
        n_real=int(n_real),
        n_fake=int(n_fake),
        higher_is_better=info.higher_is_better,
        low_reliability=bool(low_reliability),
        note=note,
    )


def _registry(*infos: MetricInfo) -> MappingProxyType:
    entries: dict[str, MetricInfo] = {}
    for info in infos:
        if info.name in entries:
            raise ValueError(f"metric {info.name!r} registered twice")
        if not info.name or any(c.isspace() or c in "/\\" for c in info.name):
            raise ValueError(f"metric name {info.name!r} must be non-empty without whitespace or path separators")
        entries[info.name] = info
    return MappingProxyType(entries)


_KYNKAANNIEMI = 'Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing Generative Models"'
_NAEEM = 'Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models"'
_CMMD = 'Jayasumana et al. 2024, "Rethinking FID: Towards a Better Evaluation Metric for Image Generation"'
_VENDI = 'Friedman and Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine Learning"'
_CONSISTENCY = "slbench, after the classifier-agreement checks of conditional GANs (Wilson 1927 for the interval)"
_PRD = 'Sajjadi et al. 2018, "Assessing Generative Models via Precision and Recall"'
_LPIPS = 'Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric"'

METRICS = _registry(
    MetricInfo(
        name="fid",
        label="FID",
        higher_is_better=False,
        paper='Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium"',
        reference="torch-fidelity metric_fid",
        description="Fréchet distance between Gaussians fitted to the features",
        bootstrap=True,
        bounds=NON_NEGATIVE,
    ),
    MetricInfo(
        name="fid_infinity",
        label="FID∞",
        higher_is_better=False,
        paper='Chong and Forsyth 2020, "Effectively Unbiased FID and Inception Score and where to find them"',
        reference="mchong6/FID_IS_infinity",
        description="FID extrapolated linearly in 1/N to an infinite generated set",
    ),
    MetricInfo(
        name="kid",
        label="KID",
        higher_is_better=False,
        paper='Binkowski et al. 2018, "Demystifying MMD GANs"',
        reference="torch-fidelity metric_kid",
        description="unbiased MMD^2 with a cubic polynomial kernel, mean over subsets",
        bootstrap=True,
    ),
    MetricInfo(
        name="precision",
        label="Precision",
        higher_is_better=True,
        paper=_KYNKAANNIEMI,
        reference="torch-fidelity metric_prc",
        description="share of generated samples inside the real k-NN manifold (fidelity)",
        bootstrap=True,
        bounds=RATE,
    ),
    MetricInfo(
        name="recall",
        label="Recall",
        higher_is_better=True,
        paper=_KYNKAANNIEMI,
        reference="torch-fidelity metric_prc",
        description="share of real samples inside the generated k-NN manifold (diversity)",
        bootstrap=True,
        bounds=RATE,
    ),
    MetricInfo(
        name="density",
        label="Density",
        higher_is_better=True,
        paper=_NAEEM,
        reference="prdc compute_prdc",
        description="real k-NN balls per generated sample, over k (1 when the distributions match)",
        bootstrap=True,
        bounds=NON_NEGATIVE,
    ),
    MetricInfo(
        name="coverage",
        label="Coverage",
        higher_is_better=True,
        paper=_NAEEM,
        reference="prdc compute_prdc",
        description="share of real samples whose k-NN ball holds a generated sample",
        bootstrap=True,
        bounds=RATE,
    ),
    MetricInfo(
        name="memorisation",
        label="Memorisation",
        higher_is_better=False,
        paper='slbench, after Meehan et al. 2020, "A Non-Parametric Test to Detect Data-Copying in Generative Models"',
        reference="slbench",
        description="share of generated samples nearer a training image than training images are to each other",
        bounds=RATE,
    ),
    MetricInfo(
        name="mmd_rbf",
        label="MMD-RBF",
        higher_is_better=False,
        paper=_CMMD + " (its distance, on features other than CLIP ViT-L/14@336)",
        reference="google-research cmmd/distance.py",
        description="MMD^2 x 1000, Gaussian RBF kernel (sigma 10) on L2-normalised features, biased estimator",
        bootstrap=True,
        bounds=NON_NEGATIVE,
    ),
    MetricInfo(
        name="cmmd",
        label="CMMD",
        higher_is_better=False,
        paper=_CMMD,
        reference="google-research cmmd/distance.py",
        description="MMD^2 x 1000, Gaussian RBF kernel (sigma 10) on L2-normalised CLIP ViT-L/14@336 embeddings",
        bootstrap=True,
        bounds=NON_NEGATIVE,
    ),
    MetricInfo(
        name="vendi_fake",
        label="Vendi (generated)",
        higher_is_better=True,
        paper=_VENDI,
        reference="vendi-score (score_X / score_dual)",
        description="effective number of distinct generated samples (cosine kernel; diversity, no reference set)",
    ),
    MetricInfo(
        name="vendi_real",
        label="Vendi (real)",
        higher_is_better=True,
        paper=_VENDI,
        reference="vendi-score (score_X / score_dual)",
        description="effective number of distinct real images of the class (cosine kernel; for scale)",
    ),
    MetricInfo(
        name="vendi_ratio",
        label="Vendi ratio",
        higher_is_better=True,
        paper=_VENDI,
        reference="vendi-score (score_X / score_dual)",
        description="generated over real Vendi score: well below 1 signals mode collapse",
    ),
    MetricInfo(
        name="prd_f8",
        label="PRD F8",
        higher_is_better=True,
        paper=_PRD,
        reference="msmsajjadi/precision-recall-distributions prd_score.py",
        description="largest F_8 on the PRD curve: recall (diversity) weighted",
    ),
    MetricInfo(
        name="prd_f1_8",
        label="PRD F1/8",
        higher_is_better=True,
        paper=_PRD,
        reference="msmsajjadi/precision-recall-distributions prd_score.py",
        description="largest F_1/8 on the PRD curve: precision (fidelity) weighted",
    ),
    MetricInfo(
        name="class_consistency",
        label="Class consistency",
        higher_is_better=True,
        paper=_CONSISTENCY,
        reference="slbench (lesion classifier head, Wilson 95% interval)",
        description="share of generated samples the lesion classifier assigns to the generator's class",
    ),
    MetricInfo(
        name="class_consistency_real",
        label="Class consistency (real)",
        higher_is_better=True,
        paper=_CONSISTENCY,
        reference="slbench (lesion classifier head, Wilson 95% interval)",
        description="the same share for real images of the class: the ceiling with this classifier",
    ),
    MetricInfo(
        name="lpips_fake",
        label="LPIPS (generated)",
        higher_is_better=True,
        paper=_LPIPS,
        reference="lpips (AlexNet, v0.1)",
        description="mean LPIPS between random pairs of generated images (diversity)",
    ),
    MetricInfo(
        name="lpips_real",
        label="LPIPS (real)",
        higher_is_better=True,
        paper=_LPIPS,
        reference="lpips (AlexNet, v0.1)",
        description="mean LPIPS between random pairs of real images (the class's own diversity)",
    ),
    MetricInfo(
        name="lpips_ratio",
        label="LPIPS ratio",
        higher_is_better=True,
        paper=_LPIPS,
        reference="lpips (AlexNet, v0.1)",
        description="generated over real LPIPS diversity: near 1 is ideal, well below 1 signals mode collapse",
    ),
)

FEATURE_METRICS = (
    "fid", "fid_infinity", "kid", "mmd_rbf", "cmmd", "precision", "recall", "density", "coverage", "memorisation",
    "vendi_fake", "vendi_real", "vendi_ratio", "prd_f8", "prd_f1_8",
)
"""The metrics :func:`slbench.metrics.evaluate_features` computes from feature arrays, in report order."""

DEFAULT_FEATURE_METRICS = tuple(name for name in FEATURE_METRICS if name != "cmmd")
"""What an evaluation computes unless told otherwise: ``cmmd`` replaces ``mmd_rbf`` only on CMMD's embedding."""

SAME_QUANTITY = frozenset({"mmd_rbf", "cmmd"})  # one value under two names: ask for one


def get_metric(name: str) -> MetricInfo:
    """The registered metric ``name``, or an error listing the valid names."""
    try:
        return METRICS[name]
    except KeyError:
        raise SlbenchError(f"unknown metric {name!r}; choose from {', '.join(METRICS)}") from None

