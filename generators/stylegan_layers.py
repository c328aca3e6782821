"""Layers of the original StyleGAN (Karras, Laine and Aila, CVPR 2019), as in the official release
(NVlabs/stylegan ``training/networks_stylegan.py``): equalised learning rate, pixel and instance
norm, per-channel-scaled noise, style modulation, the [1, 2, 1] blur, minibatch standard deviation.

Equalised learning rate: a weight is stored as N(0, (1 / lr_mul)^2) and multiplied at run time
by ``gain / sqrt(fan_in) * lr_mul`` (the He constant times the learning-rate multiplier), so its
effective initial standard deviation is the He one while Adam sees every stored weight on the
same scale; a bias is stored from 0 and multiplied by ``lr_mul``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LEAKY_SLOPE = 0.2
NORM_EPS = 1e-8
HE_GAIN = math.sqrt(2.0)


class EqualizedLinear(nn.Module):
    """Dense layer with runtime weight scaling (``use_wscale``) and a learning-rate multiplier."""

    def __init__(self, in_features: int, out_features: int, *, gain: float = HE_GAIN, lr_mul: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.weight_gain = gain / math.sqrt(in_features) * lr_mul
        self.bias_gain = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)


class EqualizedConv2d(nn.Module):
    """'Same'-padded convolution with runtime weight scaling; the bias is optional."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, *, gain: float = HE_GAIN, bias: bool = True
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.padding)


class Blur(nn.Module):
    """Depthwise [1, 2, 1] x [1, 2, 1] / 16 low-pass filter, 'same' padding."""

    def __init__(self) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (taps[:, None] * taps[None, :] / 16.0)[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.kernel.to(x.dtype).expand(x.shape[1], 1, 3, 3)
        return F.conv2d(x, kernel, padding=1, groups=x.shape[1])


def pixel_norm(x: torch.Tensor) -> torch.Tensor:
    """Normalise each latent vector to unit root-mean-square over its features."""
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.square().mean(dim=1, keepdim=True) + NORM_EPS)).to(x.dtype)


def instance_norm(x: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit root-mean-square per sample and channel over the spatial positions."""
    x32 = x.float()
    x32 = x32 - x32.mean(dim=(2, 3), keepdim=True)
    return (x32 * torch.rsqrt(x32.square().mean(dim=(2, 3), keepdim=True) + NORM_EPS)).to(x.dtype)


def upscale2d(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour x2 (the official ``upscale2d``)."""
    return F.interpolate(x, scale_factor=2, mode="nearest")


def downscale2d(x: torch.Tensor) -> torch.Tensor:
    """2x2 box average (the official ``downscale2d``)."""
    return F.avg_pool2d(x, 2)


class LayerEpilogue(nn.Module):
    """What follows every synthesis convolution: noise, bias, LeakyReLU(0.2), instance norm, style.

    The noise image (N x 1 x H x W) is scaled per channel by a learned weight initialised to 0;
    the style is an equalised Dense map of w to a (scale, shift) pair, applied as
    ``x * (scale + 1) + shift`` after instance norm (AdaIN).
    """

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.noise_strength = nn.Parameter(torch.zeros(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.style = EqualizedLinear(w_dim, 2 * channels, gain=1.0)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        x = x + noise * self.noise_strength.view(1, -1, 1, 1)
        x = F.leaky_relu(x + self.bias.view(1, -1, 1, 1), LEAKY_SLOPE)
        scale, shift = self.style(w).view(-1, 2, x.shape[1], 1, 1).unbind(dim=1)
        return instance_norm(x) * (scale + 1) + shift


def minibatch_stddev(x: torch.Tensor, group_size: int) -> torch.Tensor:
    """Append one feature map: the standard deviation of each feature across a group, averaged.

    As in the official layer, sample ``i`` belongs to group ``i % (N / G)``. The official code
    requires the batch to be a multiple of the group size; here the group size falls to the
    largest divisor of N not above ``group_size`` instead.
    """
    n, c, h, w = x.shape
    group = next(g for g in range(min(group_size, n), 0, -1) if n % g == 0)
    y = x.float().view(group, -1, c, h, w)
    y = (y - y.mean(dim=0, keepdim=True)).square().mean(dim=0)
    y = torch.sqrt(y + NORM_EPS).mean(dim=(1, 2, 3))
    y = y.to(x.dtype).view(-1, 1, 1, 1).repeat(group, 1, h, w)
    return torch.cat([x, y], dim=1)
