"""Progressive growing schedule of StyleGAN (Karras et al. 2018 ProGAN, 2019 StyleGAN).

The official schedule (``TrainingSchedule`` in the StyleGAN release, with
``lod_training_kimg = lod_transition_kimg = 600``) trains at the start resolution for one phase,
then for each doubling fades the new block in over one phase (``alpha`` rising linearly from 0
to 1) and stabilises it for one phase. With ``phase_kimg = P`` and ``d`` doublings from the start
resolution, the network reaches full resolution after ``2 * d * P`` k images and stays there:

    kimg      [0, P)    [P, 2P)         [2P, 3P)      [3P, 4P)        ...   >= 2dP
    stage     start     2 * start       2 * start     4 * start       ...   resolution
    alpha     1         0 -> 1 (fade)   1 (stable)    0 -> 1 (fade)   ...   1

The minibatch follows the resolution being trained, as in the official 1-GPU preset
(``sched.minibatch_base = 4; sched.minibatch_dict = {4: 128, 8: 128, 16: 128, 32: 64, 64: 32,
128: 16, 256: 8, 512: 4}`` in ``train.py``, read by ``training_schedule`` in
``training/training_loop.py``), so the images seen after a number of steps are a sum over the
phases walked through: :func:`images_after` and :func:`steps_to_reach` walk the schedule one
stretch of constant minibatch at a time.

Two presets set the phase length (``StyleGANConfig.schedule``):

* ``official``: ``P = 600`` (``lod_training_kimg = lod_transition_kimg = 600``), whatever the
  run's length; a run shorter than ``2 * d * P`` ends before the network is fully grown;
* ``short``: ``P = total_kimg / (4 * d)``, so a run of any length reaches full resolution at
  half its length and trains there for the other half.

The phase length used is written into the checkpoint's config, so a resumed run keeps its
schedule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

OFFICIAL_PHASE_KIMG = 600.0
SCHEDULES = ("official", "short")

OFFICIAL_1GPU_MINIBATCH = {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4}
"""StyleGAN's ``minibatch_dict`` of its 1-GPU preset: images per step by resolution trained."""

OFFICIAL_1GPU_MINIBATCH_BASE = 4
"""Its ``minibatch_base``: the minibatch at resolutions the dict leaves out (1024)."""


def official_minibatch(stage: int) -> int:
    """The official 1-GPU minibatch at ``stage`` pixels."""
    return OFFICIAL_1GPU_MINIBATCH.get(stage, OFFICIAL_1GPU_MINIBATCH_BASE)


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


def resolve_phase_kimg(phase_kimg: float | None, *, schedule: str, resolution: int, start_resolution: int,
                       total_kimg: float | None) -> float:
    """The k images per phase: the given value, else the preset's (official 600, or short: fit the run)."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown StyleGAN schedule {schedule!r}; use one of {', '.join(SCHEDULES)}")
    if phase_kimg is not None:
        return float(phase_kimg)
    count = doublings(resolution, start_resolution)
    if schedule == "official" or count == 0:
        return OFFICIAL_PHASE_KIMG
    if total_kimg is None:
        raise ValueError("the short schedule fits its phases to the run's images: give the length as kimg")
    return total_kimg / (4 * count)


def images_after(steps: int, batch_at: Callable[[int], int], period: float | None) -> int:
    """Images seen after ``steps`` steps whose minibatch is ``batch_at(images seen before the step)``.

    ``batch_at`` may change only when the images seen pass a multiple of ``period`` images
    (None: never), which lets the walk take each stretch of constant minibatch in one stride.
    """
    images = done = 0
    while done < steps:
        batch, count = _stretch(images, batch_at, period)
        count = min(count, steps - done)
        images, done = images + count * batch, done + count
    return images


def steps_to_reach(target: float, batch_at: Callable[[int], int], period: float | None) -> int:
    """The fewest steps after which at least ``target`` images have been seen (see :func:`images_after`)."""
    images = steps = 0
    while images < target:
        batch, count = _stretch(images, batch_at, period)
        count = min(count, max(1, math.ceil((target - images) / batch)))
        images, steps = images + count * batch, steps + count
    return steps


def _stretch(images: int, batch_at: Callable[[int], int], period: float | None) -> tuple[int, int]:
    """The minibatch at ``images`` and how many steps keep it: those starting at or before the next
    multiple of ``period`` (the stage changes only just after one, see :func:`growth_phase`)."""
    batch = batch_at(images)
    if period is None:
        return batch, 1 << 62
    boundary = math.ceil(images / period) * period
    count = math.floor((boundary - images) / batch) + 1
    if count > 1 and batch_at(images + (count - 1) * batch) != batch:  # rounding at the boundary
        count -= 1
    return batch, count


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
