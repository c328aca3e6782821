"""Precision and recall for distributions, PRD (Sajjadi et al. 2018, "Assessing Generative Models via
Precision and Recall").

The real and generated features are clustered together (mini-batch k-means, 20 clusters), each
set becomes a histogram over the clusters, P (real) and Q (generated), and for every slope
``lambda = tan(angle)`` over 1001 angles in (0, pi/2)

    precision(lambda) = sum_w min(lambda P(w), Q(w)),    recall(lambda) = precision(lambda) / lambda,

the curve of every (recall, precision) pair that P and Q admit. Clustering is random, so the
curve is averaged over 10 runs. F_8 (the largest F_beta on the curve with beta = 8) summarises
recall, F_1/8 precision. Everything matches the reference ``prd_score.py``
(``compute_prd_from_embedding``, ``compute_prd``, ``prd_to_max_f_beta_pair``; the generated set
is its ``eval_data``, the real set its ``ref_data``), with these differences: the k-means runs
are seeded (``random_state = [seed, run]``), and where the two sets differ in size the larger is
subsampled, seeded, to the smaller instead of refused, since the reference needs equal sizes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.cluster import MiniBatchKMeans

from slbench.errors import SlbenchError
from slbench.metrics._inputs import ArrayLike, check_positive_int, feature_pair

NUM_CLUSTERS = 20
NUM_ANGLES = 1001
NUM_RUNS = 10
KMEANS_INITS = 10  # the reference's n_init
EPSILON = 1e-10
F_BETA = 8.0
SUBSAMPLE_STREAM = 2  # numpy.random.default_rng([seed, 2]) picks the subsample of the larger set


@dataclass(frozen=True)
class PrdSettings:
    num_clusters: int = NUM_CLUSTERS
    num_angles: int = NUM_ANGLES
    num_runs: int = NUM_RUNS

    def __post_init__(self) -> None:
        check_positive_int(self.num_clusters, "PRD clusters", minimum=2)
        check_positive_int(self.num_angles, "PRD angles", minimum=3)
        check_positive_int(self.num_runs, "PRD runs")

    def caption(self) -> str:
        return (f"{self.num_clusters} clusters, {self.num_angles} angles, {self.num_runs} runs averaged, "
                "equal set sizes")


@dataclass(frozen=True)
class PrdCurve:
    """The averaged PRD curve and its F_8 / F_1/8 summary."""

    precision: np.ndarray  # num_angles values, slope ascending
    recall: np.ndarray
    f_8: float  # recall-weighted summary
    f_1_8: float  # precision-weighted summary
    set_size: int  # samples per set after balancing
    settings: PrdSettings

    def to_json(self) -> dict:
        return {"precision": self.precision.tolist(), "recall": self.recall.tolist(), "f_8": self.f_8,
                "f_1_8": self.f_1_8, "set_size": self.set_size, "settings": asdict(self.settings)}


def compute_prd(eval_dist: np.ndarray, ref_dist: np.ndarray, num_angles: int = NUM_ANGLES,
                epsilon: float = EPSILON) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of the histogram ``eval_dist`` against ``ref_dist`` at ``num_angles`` slopes."""
    slopes = np.tan(np.linspace(epsilon, np.pi / 2 - epsilon, num=num_angles))
    precision = np.minimum(ref_dist[None, :] * slopes[:, None], eval_dist[None, :]).sum(axis=1)
    recall = precision / slopes
    return np.clip(precision, 0, 1), np.clip(recall, 0, 1)


def f_beta(precision: np.ndarray, recall: np.ndarray, beta: float, epsilon: float = EPSILON) -> np.ndarray:
    return (1 + beta**2) * (precision * recall) / ((beta**2 * precision) + recall + epsilon)


def max_f_beta_pair(precision: np.ndarray, recall: np.ndarray, beta: float = F_BETA) -> tuple[float, float]:
    """(F_beta, F_1/beta): the largest of each over the curve."""
    return float(np.max(f_beta(precision, recall, beta))), float(np.max(f_beta(recall, precision, beta)))


def balanced(real: np.ndarray, fake: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Both sets at the smaller one's size: a seeded subsample of the larger, in its original order."""
    n = min(len(real), len(fake))
    rng = np.random.default_rng([seed, SUBSAMPLE_STREAM])

    def pick(x: np.ndarray) -> np.ndarray:
        return x if len(x) == n else x[np.sort(rng.choice(len(x), n, replace=False))]

    return pick(real), pick(fake)


def cluster_histograms(fake: np.ndarray, real: np.ndarray, num_clusters: int, seed: int, run: int):
    """Cluster both sets together; each set's share of samples per cluster."""
    data = np.vstack([fake, real])
    kmeans = MiniBatchKMeans(n_clusters=num_clusters, n_init=KMEANS_INITS, random_state=np.random.RandomState([seed, run]))
    labels = kmeans.fit(data).labels_
    fake_bins = np.bincount(labels[: len(fake)], minlength=num_clusters) / len(fake)
    real_bins = np.bincount(labels[len(fake):], minlength=num_clusters) / len(real)
    return fake_bins, real_bins


def prd(real: ArrayLike, fake: ArrayLike, *, settings: PrdSettings = PrdSettings(), seed: int = 0) -> PrdCurve:
    """The PRD curve of ``fake`` against ``real``, averaged over ``settings.num_runs`` clusterings."""
    real_t, fake_t = feature_pair(real, fake, "cpu")
    real_np, fake_np = balanced(real_t.numpy(), fake_t.numpy(), seed)
    check_prd_sizes(len(real_np), settings)
    precisions, recalls = [], []
    for run in range(settings.num_runs):
        fake_bins, real_bins = cluster_histograms(fake_np, real_np, settings.num_clusters, seed, run)
        precision, recall = compute_prd(fake_bins, real_bins, settings.num_angles)
        precisions.append(precision)
        recalls.append(recall)
    precision, recall = np.mean(precisions, axis=0), np.mean(recalls, axis=0)
    f_8, f_1_8 = max_f_beta_pair(precision, recall)
    return PrdCurve(precision, recall, f_8, f_1_8, len(real_np), settings)


def check_prd_sizes(set_size: int, settings: PrdSettings) -> None:
    """k-means needs at least as many samples as clusters (both sets together)."""
    if 2 * set_size < settings.num_clusters:
        needed = -(-settings.num_clusters // 2)
        raise SlbenchError(
            f"PRD clusters both sets into {settings.num_clusters} clusters, but after balancing each holds {set_size} "
            f"samples; it needs at least {needed} real and {needed} generated samples"
        )
