"""Progressive growing schedule of StyleGAN (Karras et al. 2018 ProGAN, 2019 StyleGAN).

The official schedule (``TrainingSchedule`` in the StyleGAN release, with
``lod_training_kimg = lod_transition_kimg = 600``) trains at the start resolution for one phase,
then for each doubling fades the new block in over one phase (``alpha`` rising linearly from 0
to 1) and stabilises it for one phase. With ``phase_kimg = P`` and ``d`` doublings from the start
resolution, the network reaches full resolution after ``2 * d * P`` k images and stays there:

    kimg      [0, P)    [P, 2P)         [2P, 3P)      [3P, 4P)        ...   >= 2dP
    stage     start     2 * start       2 * start     4 * start       ...   resolution
    alpha     1         0 -> 1 (fade)   1 (stable)    0 -> 1 (fade)   ...   1

A run too short for the official 600k images per phase gets ``P = total_kimg / (4 * d)``
instead, so it reaches full resolution at half its length and trains there for the other half;
the value used is written into the checkpoint's config, so a resumed run keeps its schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OFFICIAL_PHASE_KIMG = 600.0


@dataclass(frozen=True)
class GrowthPhase:
    """Where growing stands: the output resolution and the fade-in weight of its newest block."""

    stage: int
    alpha: float


def doublings(resolution: int, start_resolution: int) -> int:
    """How many times the network grows from ``start_resolution`` to ``resolution``."""
    if start_resolution > resolution:
        raise ValueError(f"start resolution {start_resolution} exceeds the resolution {resolution}")
    return int(round(math.log2(resolution / start_resolution)))


def resolve_phase_kimg(phase_kimg: float | None, *, resolution: int, start_resolution: int,
                       total_kimg: float) -> float:
    """The k images per phase: the given value, else the official 600 capped to fit the run."""
    if phase_kimg is not None:
        return float(phase_kimg)
    count = doublings(resolution, start_resolution)
    if count == 0:
        return OFFICIAL_PHASE_KIMG
    return min(OFFICIAL_PHASE_KIMG, total_kimg / (4 * count))


def growth_phase(kimg: float, *, resolution: int, start_resolution: int, phase_kimg: float) -> GrowthPhase:
    """The stage and fade-in after ``kimg`` thousand images (official ``TrainingSchedule``)."""
    count = doublings(resolution, start_resolution)
    period = 2.0 * phase_kimg
    index = math.floor(kimg / period)
    within = kimg - index * period
    lod = count - index - max(within - phase_kimg, 0.0) / phase_kimg
    lod = max(lod, 0.0)
    level = math.floor(lod)
    return GrowthPhase(stage=resolution >> level, alpha=1.0 - (lod - level))
