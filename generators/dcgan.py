"""DCGAN: Radford, Metz and Chintala, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks" (ICLR 2016), as in the reference PyTorch port
(pytorch/examples ``dcgan/main.py``).

Generator: z (100) is projected to 4x4x(8*ngf) by a 4x4 transposed convolution from 1x1, then
each stride-2 4x4 transposed convolution doubles the resolution; BatchNorm and ReLU after every
layer but the last, tanh output in [-1, 1]. Discriminator: stride-2 4x4 convolutions with
LeakyReLU(0.2), BatchNorm on every layer but the first, and a final 4x4 convolution to a 1x1
logit. Weights from N(0, 0.02); BatchNorm weight from N(1, 0.02), bias 0. Convolutions carry no
bias, as in the reference (BatchNorm's shift makes one redundant).

Deliberate differences:

* The discriminator returns the logit (N x 1) without the reference's final sigmoid: the
  sigmoid is applied inside the binary cross-entropy loss (``BCEWithLogitsLoss``), which is the
  same loss computed without overflow.
* Resolutions other than the published 64x64 add or drop stride-2 stages. The channel rule
  keeps the published net exactly at 64 and the 4x4x(8*ngf) projection everywhere: the feature
  map at 4 * 2**i pixels has ngf * max(1, 8 / 2**i) channels (so 32 px drops the ngf stage and
  128/256 px add ngf stages); the discriminator mirrors it with ndf. ``fmap_max`` (default None:
  no cap) caps every feature map's channels, as StyleGAN's setting of that name does, so that
  the three models can be narrowed by one rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from generators.base import Discriminator, Generator, check_images, check_latents
from generators.width_cap import capped, check_width_cap

Z_DIM = 100
INIT_STD = 0.02
LEAKY_SLOPE = 0.2


@dataclass(frozen=True)
class DCGANConfig:
    """DCGAN settings."""

    resolution: int  # output side in pixels, a power of two from 32 to 256
    ngf: int = 64  # generator width: the last hidden feature map has ngf channels at 64 px
    ndf: int = 64  # discriminator width: its first feature map has ndf channels at 64 px
    fmap_max: int | None = None  # at most this many feature maps per layer; None: no cap

    def __post_init__(self) -> None:
        if self.resolution < 32 or self.resolution > 256 or self.resolution & (self.resolution - 1):
            raise ValueError(f"DCGAN resolution must be a power of two from 32 to 256, got {self.resolution}")
        for key in ("ngf", "ndf"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"DCGAN {key} must be a positive integer, got {value!r}")
        check_width_cap("DCGAN", self.fmap_max)


def feature_channels(resolution: int, width: int, fmap_max: int | None = None) -> list[int]:
    """Channels of the hidden feature maps at 4, 8, ..., resolution / 2 pixels, each at most ``fmap_max``."""
    stages = resolution.bit_length() - 3  # log2(resolution) - 2
    channels = [width * max(1, 8 >> index) for index in range(stages)]
    return capped(channels, fmap_max)


def init_dcgan_weights(module: nn.Module) -> None:
    """The reference initialisation: conv weights N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, INIT_STD)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, INIT_STD)
        nn.init.zeros_(module.bias)


class DCGANGenerator(Generator):
    """DCGAN generator: ``forward(z)`` with z N x 100 (or N x 100 x 1 x 1) -> images in [-1, 1]."""

    image_range = (-1.0, 1.0)

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        self.resolution = config.resolution
        self.z_dim = Z_DIM
        channels = feature_channels(config.resolution, config.ngf, config.fmap_max)
        layers: list[nn.Module] = [nn.ConvTranspose2d(Z_DIM, channels[0], 4, 1, 0, bias=False)]
        layers += [nn.BatchNorm2d(channels[0]), nn.ReLU()]
        for cin, cout in zip(channels, channels[1:]):
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        layers += [nn.ConvTranspose2d(channels[-1], 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.apply(init_dcgan_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 4 and z.shape[2:] == (1, 1):
            z = z.flatten(1)
        check_latents(z, self.z_dim)
        return self.main(z[:, :, None, None])


class DCGANDiscriminator(Discriminator):
    """DCGAN discriminator: images in [-1, 1] -> N x 1 logits (the sigmoid belongs to the loss)."""

    image_range = (-1.0, 1.0)

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        self.resolution = config.resolution
        channels = feature_channels(config.resolution, config.ndf, config.fmap_max)[::-1]
        layers: list[nn.Module] = [nn.Conv2d(3, channels[0], 4, 2, 1, bias=False), nn.LeakyReLU(LEAKY_SLOPE)]
        for cin, cout in zip(channels, channels[1:]):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(LEAKY_SLOPE)]
        layers += [nn.Conv2d(channels[-1], 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)
        self.apply(init_dcgan_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.resolution)
        return self.main(x).view(-1, 1)
