"""Exponential moving average of generator weights (Karras et al. 2018, 2019: ``G_smoothing``).

After a step of ``batch`` images the average moves towards the live weights with
``beta = 0.5 ** (batch / (1000 * half_life_kimg))``, so the weight of any past value halves
every ``half_life_kimg`` thousand images, whatever the batch size. Buffers (StyleGAN's tracked
average ``w``, BatchNorm statistics) are copied, not averaged, as in the official code.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def ema_beta(batch_size: int, half_life_kimg: float) -> float:
    """The per-step decay that halves a past value's weight every ``half_life_kimg`` k images."""
    if half_life_kimg <= 0:
        raise ValueError("the half-life must be positive")
    return 0.5 ** (batch_size / (1000.0 * half_life_kimg))


def make_ema_copy(module: nn.Module) -> nn.Module:
    """A frozen copy of ``module`` in eval mode, to be updated by :func:`update_ema`."""
    average = copy.deepcopy(module).eval()
    average.requires_grad_(False)
    return average


@torch.no_grad()
def update_ema(average: nn.Module, live: nn.Module, beta: float) -> None:
    """``average = beta * average + (1 - beta) * live`` for parameters; buffers copied."""
    average_params = list(average.parameters())
    live_params = [p.detach() for p in live.parameters()]
    if len(average_params) != len(live_params):
        raise ValueError("the average and the live module have different parameters")
    torch._foreach_lerp_(average_params, live_params, 1.0 - beta)
    for average_buffer, live_buffer in zip(average.buffers(), live.buffers()):
        average_buffer.copy_(live_buffer)
