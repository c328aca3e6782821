"""Memorisation: generated samples that sit closer to a training image than training images sit
to one another.

For every generated sample, the distance to its nearest training sample in feature space is
compared with a low percentile (the 5th by default) of the training set's own nearest-neighbour
distances (each training sample to its nearest *other* training sample). A generated sample at
or below that threshold is nearer to one training image than 95 % of the training images are to
any other: a copy, or close to one. The metric is the share of such generated samples (lower is
better; a GAN that memorises scores high). slbench defines the metric this way; the idea of
judging generated-to-training nearest-neighbour distances against distances among real images
follows the data-copying test of Meehan et al. (2020, "A Non-Parametric Test to Detect
Data-Copying in Generative Models"). The closest (generated, training) pairs are kept so a
report can show them side by side.

The distances come from the shared blocked pass (:mod:`slbench.metrics.knn`): the training
set's nearest neighbours from its self pass, each generated sample's nearest training sample
from the generated-versus-training cross pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from slbench.errors import SlbenchError
from slbench.metrics._inputs import ArrayLike, check_positive_int, feature_pair, require_samples
from slbench.metrics.knn import DEFAULT_BLOCK_SIZE, FeatureSpace, Neighbours, Reducer, RowNearest
from slbench.metrics.knn import exact_sq_distances, feature_space, run_passes

DEFAULT_PERCENTILE = 5.0
DEFAULT_PAIRS = 16


@dataclass(frozen=True)
class MemorisationResult:
    """The share of generated samples at or below the threshold, and the evidence behind it."""

    share: float  # generated samples with nearest-training distance <= threshold, as a share
    threshold: float  # the percentile of the training set's own nearest-neighbour distances
    percentile: float
    nearest_distance: np.ndarray  # per generated sample: distance to its nearest training sample
    nearest_index: np.ndarray  # per generated sample: index of that training sample
    closest_pairs: np.ndarray  # P x 2 (generated index, training index), closest first
    closest_distances: np.ndarray  # P distances of those pairs
    n_train: int
    n_fake: int

    @property
    def note(self) -> str:
        return self.describe("training samples")

    def describe(self, reference: str) -> str:
        """The note, naming what the ``n_train`` reference images are (e.g. ``"training samples"``)."""
        return (
            f"share of generated samples at or below the {self.percentile:g}th percentile "
            f"({self.threshold:.4g}) of the nearest-neighbour distances among the {self.n_train} {reference}"
        )


def check_percentile(percentile: float) -> float:
    if not 0.0 <= float(percentile) <= 100.0:
        raise SlbenchError(f"memorisation percentile must lie in [0, 100]; got {percentile!r}")
    return float(percentile)


class MemorisationJob:
    """Memorisation's share of the blocked pass, with the training set on the pass's real side."""

    real_neighbours = 1
    fake_neighbours = 0

    def __init__(self, train: FeatureSpace, fake: FeatureSpace, *, percentile: float, pairs: int):
        self.train, self.fake = train, fake
        self.percentile, self.pairs = check_percentile(percentile), check_positive_int(pairs, "memorisation pairs", 0)
        self._nearest = RowNearest(fake.n, fake.shifted.device)
        self._train_nn: Neighbours | None = None

    def self_reducers(self, side: Literal["real", "fake"]) -> list[Reducer]:
        return []

    def cross_reducers(self, real_nn: Neighbours | None, fake_nn: Neighbours | None) -> list[Reducer]:
        self._train_nn = real_nn
        return [self._nearest]

    def result(self) -> MemorisationResult:
        """Distances of the nearest pairs found by the pass, recomputed exactly in float64."""
        train_rows = torch.arange(self.train.n, device=self.train.exact.device)
        train_nn = exact_sq_distances(self.train, train_rows, self.train, self._train_nn.indices[:, 0])
        threshold = float(np.percentile(train_nn.sqrt().cpu().numpy(), self.percentile))
        fake_rows = torch.arange(self.fake.n, device=self.fake.exact.device)
        distance = exact_sq_distances(self.fake, fake_rows, self.train, self._nearest.indices).sqrt().cpu().numpy()
        index = self._nearest.indices.cpu().numpy()
        order = np.argsort(distance, kind="stable")[: self.pairs]
        return MemorisationResult(
            share=float(np.mean(distance <= threshold)),
            threshold=threshold,
            percentile=self.percentile,
            nearest_distance=distance,
            nearest_index=index,
            closest_pairs=np.stack([order, index[order]], axis=1),
            closest_distances=distance[order],
            n_train=self.train.n,
            n_fake=self.fake.n,
        )


def memorisation(
    train: ArrayLike,
    fake: ArrayLike,
    *,
    percentile: float = DEFAULT_PERCENTILE,
    pairs: int = DEFAULT_PAIRS,
    block_size: int = DEFAULT_BLOCK_SIZE,
    gram_dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
) -> MemorisationResult:
    """Share of generated samples closer to a training sample than the training set's ``percentile``."""
    train_t, fake_t = feature_pair(train, fake, device, reference_name="training")
    require_samples(train_t.shape[0], 2, "training", "memorisation")
    centre = train_t.mean(dim=0)
    train_space, fake_space = feature_space(train_t, centre, gram_dtype), feature_space(fake_t, centre, gram_dtype)
    job = MemorisationJob(train_space, fake_space, percentile=percentile, pairs=pairs)
    run_passes(train_space, fake_space, [job], block_size=block_size)
    return job.result()
