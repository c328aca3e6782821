"""How long the metric suite of one pair takes, from its complexity and a short warm-up on this device.

The suite (:func:`slbench.metrics.run_evaluation`) has parts that grow differently with the
set sizes ``Nr`` (real), ``Nf`` (generated), the feature dimension ``d`` and the ``B``
half-sample replicates of ``--bootstrap``; scaling one small timing of the whole suite by
``N^2`` mixes them up (at 256 rows PRD's k-means dominates; at 10,000 the Gram pass does), and
so misjudged large classes several times over. Each part is therefore timed on its own at a
small size and scaled by its own cost. A single timing is noisy: the suite's first call in a
process costs about twice what later ones do, and later ones of a fraction of a second still
vary by up to a factor of 2 on a busy machine. So one small call of every part comes first,
untimed, and the two Gram passes, which dominate large classes, take the median of
:data:`GRAM_TIMINGS` timings:

``gram``
    The blocked pass over the real-real, fake-fake and fake-real Gram matrices, with KID's
    subset sums, the RBF MMD, every k-NN radius and ball (precision/recall, density/coverage):
    ``Nr^2 + Nf^2 + Nr Nf`` entries, each a length-``d`` product plus its reductions, so
    seconds per entry at this ``d``.
``memorisation``
    Its own pass over the training images ``Nt`` the models saw (``run`` always passes them,
    even when they are the real side): ``Nt^2 + Nf^2 + Nt Nf`` entries.
``replicates``
    What the half-samples add to that pass (weighted kernel sums, k-NN radii recomputed in each
    half-sample): ``B`` times the entries.
``gaussian``
    FID and FID-infinity: covariances ``(Nr + (1 + B + P) Nf) d^2`` and one eigen
    decomposition or matrix square root ``d^3`` per fit (the real fit, the estimate, ``B``
    replicates and FID-infinity's ``P`` subset sizes).
``vendi``
    The Vendi scores: per set of ``n`` rows, the eigenvalues of the ``k x k`` kernel with
    ``k = min(n, d)``: ``n k^2 + k^3``.
``prd``
    PRD's 10 mini-batch k-means runs (batches of 1,024) over both sets at the smaller one's
    size. A run stops when its inertia stops improving, so its time grows much more slowly than
    the data; measured on this code at 256 to 8,192 rows per set (1 thread, d = 128), it grows
    about as the square root of the rows up to :data:`PRD_SATURATION` rows and stays flat
    beyond, which is the model.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from slbench.metrics import MetricSettings
from slbench.metrics import run_evaluation as compute_metrics

GRAM_WARMUP = 1024  # rows per set: near the Gram block size, where a pass costs what large ones do per entry
REPLICATE_WARMUP = 512
REPLICATES_WARMUP = 8
VENDI_WARMUP = 512
PRD_WARMUP = 256
PRD_SATURATION = 4096
PRIMING_ROWS = 64
GRAM_TIMINGS = 3
GRAM_METRICS = ("kid", "mmd_rbf", "cmmd", "precision", "recall", "density", "coverage")
VENDI_METRICS = ("vendi_fake", "vendi_real", "vendi_ratio")
PRD_METRICS = ("prd_f8", "prd_f1_8")


def gram_entries(n_real: int, n_fake: int) -> float:
    return float(n_real * n_real + n_fake * n_fake + n_real * n_fake)


def gaussian_units(n_real: int, n_fake: int, dim: int, *, replicates: int, points: int) -> float:
    fits = 1 + replicates + points
    return float((n_real + fits * n_fake) * dim**2 + (1 + fits) * dim**3)


def vendi_units(n_real: int, n_fake: int, dim: int) -> float:
    return float(sum(n * min(n, dim) ** 2 + min(n, dim) ** 3 for n in (n_real, n_fake)))


def prd_units(n_real: int, n_fake: int) -> float:
    return math.sqrt(min(min(n_real, n_fake), PRD_SATURATION))


@dataclass(frozen=True)
class MetricCost:
    """Seconds per unit of each part of the suite (see the module docstring), measured on one device."""

    dim: int
    bootstrap: int
    fid_infinity_points: int
    gram: float  # per Gram entry
    memorisation: float  # per entry of memorisation's pass
    replicate: float  # per Gram entry and replicate
    gaussian: float  # per gaussian unit
    vendi: float  # per vendi unit
    prd: float  # per prd unit

    def seconds(self, n_real: int, n_fake: int, n_train: int | None = None) -> dict[str, float]:
        """Expected seconds of each part for sets of ``n_real``, ``n_fake`` and ``n_train`` (memorisation's
        training images; default ``n_real``) rows."""
        entries = gram_entries(n_real, n_fake)
        return {
            "gram": self.gram * entries,
            "memorisation": self.memorisation * gram_entries(n_real if n_train is None else n_train, n_fake),
            "replicates": self.replicate * self.bootstrap * entries,
            "gaussian": self.gaussian * gaussian_units(n_real, n_fake, self.dim, replicates=self.bootstrap,
                                                       points=self.fid_infinity_points),
            "vendi": self.vendi * vendi_units(n_real, n_fake, self.dim),
            "prd": self.prd * prd_units(n_real, n_fake),
        }

    def total(self, n_real: int, n_fake: int, n_train: int | None = None) -> float:
        return sum(self.seconds(n_real, n_fake, n_train).values())


def measure_metric_cost(dim: int, settings: MetricSettings, device: torch.device | str) -> MetricCost:
    """Time each part of the suite that ``settings`` computes once on random features of dimension
    ``dim`` (a few seconds); a part the run does not compute (a protocol names its own metric set)
    costs nothing."""
    wanted = set(settings.metrics)
    _seconds(tuple(settings.metrics), dim, PRIMING_ROWS, settings, device, 0)

    def per_unit(group: tuple[str, ...], rows: int, units: float, bootstrap: int = 0, timings: int = 1) -> float:
        metrics = tuple(name for name in group if name in wanted)
        if not metrics:
            return 0.0
        return statistics.median(_seconds(metrics, dim, rows, settings, device, bootstrap)
                                 for _ in range(timings)) / units

    entries = gram_entries(GRAM_WARMUP, GRAM_WARMUP)
    gram = per_unit(GRAM_METRICS, GRAM_WARMUP, entries, timings=GRAM_TIMINGS)
    replicate = 0.0
    if settings.bootstrap and gram:
        with_replicates = per_unit(GRAM_METRICS, REPLICATE_WARMUP, gram_entries(REPLICATE_WARMUP, REPLICATE_WARMUP),
                                   REPLICATES_WARMUP)
        replicate = max(0.0, with_replicates - gram) / REPLICATES_WARMUP
    gaussian = 0.0
    if wanted & {"fid", "fid_infinity"}:  # one FID fit stands for every fit: at d = 2048 each costs seconds
        gaussian = _seconds(("fid",), dim, GRAM_WARMUP, settings, device, 0) / gaussian_units(
            GRAM_WARMUP, GRAM_WARMUP, dim, replicates=0, points=0)
    points = settings.fid_infinity_points if "fid_infinity" in wanted else 0
    return MetricCost(
        dim=dim, bootstrap=settings.bootstrap, fid_infinity_points=points, gram=gram,
        memorisation=per_unit(("memorisation",), GRAM_WARMUP, entries, timings=GRAM_TIMINGS),
        replicate=replicate, gaussian=gaussian,
        vendi=per_unit(VENDI_METRICS, VENDI_WARMUP, vendi_units(VENDI_WARMUP, VENDI_WARMUP, dim)),
        prd=per_unit(PRD_METRICS, PRD_WARMUP, prd_units(PRD_WARMUP, PRD_WARMUP)),
    )


def _seconds(metrics: tuple[str, ...], dim: int, rows: int, settings: MetricSettings, device: torch.device | str,
             bootstrap: int) -> float:
    """Seconds of ``metrics`` on ``rows`` random real, generated and training rows, as ``run`` passes them."""
    rng = np.random.default_rng(0)
    real, fake, train = (rng.standard_normal((rows, dim)) for _ in range(3))
    chosen = MetricSettings(metrics=metrics, bootstrap=bootstrap, seed=settings.seed, block_size=settings.block_size,
                            gram_dtype=settings.gram_dtype)
    start = time.perf_counter()
    compute_metrics(real, fake, train_real=train, settings=chosen, device=device)
    return time.perf_counter() - start
