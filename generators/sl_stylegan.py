"""SL-StyleGAN: the modified StyleGAN of Qin et al. (2020), ported from its Keras reference.

Reference: Z. Qin, Z. Liu, P. Zhu, Y. Xue, "A GAN-based image synthesis method for skin lesion
classification", Computer Methods and Programs in Biomedicine 195:105568 (2020), and its
published Keras code. The layer-by-layer description this file follows is
``docs/sl-stylegan-spec.md`` section 1.

Generator: z (100) -> 8 x [Dense(512), LeakyReLU(0.2)] -> w (512, shared by every style input,
no mixing). A Dense layer from the scalar 1.0 to 4x4x512 is the learned constant. The 4x4 block
has one conv3x3; each later block is bilinear x2 upsampling then two conv3x3. After every conv:
add noise (a learned 1x1 conv with bias of the central r x r crop of one 1-channel R x R noise
image), AdaIN (beta = Dense(w) with bias 0, gamma = Dense(w) with bias 1,
gamma * (x - mean) / (std + 1e-8) + beta, population std over space), LeakyReLU(0.01).
Output conv1x1 (16 -> 3) with a sigmoid: images in [0, 1].

Discriminator: blocks conv3x3 -> LeakyReLU(0.01) -> 2x2 average pool -> conv3x3 ->
LeakyReLU(0.01), then Flatten -> Dense(128) -> ReLU -> Dropout(0.6) -> Dense(1), a linear score.

Initialisation as Keras ``he_normal`` for every kernel (a normal truncated at two standard
deviations, rescaled so that the kept values have standard deviation sqrt(2 / fan_in)), biases
zero as Keras' default, except the AdaIN gamma biases (one).

Keras tensors are NHWC; the two places where the layout reaches a parameter (the reshape of
the constant's Dense output to 4x4x512 and the Flatten before the discriminator's Dense) follow
the Keras order, so Keras weights map onto these one to one. Bilinear upsampling uses
half-pixel centres (``align_corners=False``), as Keras' ``UpSampling2D`` in TensorFlow 2.

``fmap_max`` (default None: the reference's widths) caps the feature maps of every convolution
and of the constant, for runs that must be cheap; the mapping network and the discriminator's
Dense head keep their sizes.

Deliberate differences from the reference:

* Three kernels the reference leaves at Keras' default ``glorot_uniform`` (the output conv1x1
  and both Dense layers of the discriminator's head) are ``he_normal`` here, like every other
  kernel. With ``glorot_uniform`` on them, short CPU runs on the built-in data stopped
  learning: 15 steps no longer lowered FID in ``lesion`` space (209 before, 208 after, seed 0),
  and 100 to 200 steps at 32 px gave dark images at seeds 0 and 1, where ``he_normal`` gives
  skin with a lesion by step 80. Both initialisations have nearly the same scale on these
  layers (uniform and truncated normal), so an import of Keras weights is unaffected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import skip_init

from generators.base import Discriminator, Generator, check_images, check_latents
from generators.width_cap import capped, check_width_cap

Z_DIM = 100
W_DIM = 512
MAPPING_LAYERS = 8
CONST_CHANNELS = 512
ADAIN_EPS = 1e-8
SYNTHESIS_SLOPE = 0.01
MAPPING_SLOPE = 0.2
DROPOUT = 0.6
HEAD_UNITS = 128
# Keras' truncated normal keeps values within two standard deviations; dividing the standard
# deviation by the std of such a truncated unit normal makes the kept values' std exact.
TRUNCATED_NORMAL_STD = 0.87962566103423978


@dataclass(frozen=True)
class SLStyleGANConfig:
    """SL-StyleGAN's one size setting: the reference fixes every width, ``fmap_max`` can only cap them."""

    resolution: int  # output side in pixels, a power of two from 32 to 1024
    fmap_max: int | None = None  # at most this many feature maps per convolution; None: the reference's widths

    def __post_init__(self) -> None:
        if self.resolution < 32 or self.resolution > 1024 or self.resolution & (self.resolution - 1):
            raise ValueError(f"SL-StyleGAN resolution must be a power of two from 32 to 1024, got {self.resolution}")
        check_width_cap("SL-StyleGAN", self.fmap_max)

    def cap(self, channels: list[int]) -> list[int]:
        """``channels`` with each entry capped at ``fmap_max``."""
        return capped(channels, self.fmap_max)


def synthesis_channels(resolution: int) -> list[int]:
    """Channels of the blocks after the 4x4 one, in order (the reference schedule)."""
    thresholds = ((1024, 512), (512, 384), (256, 256), (128, 192), (64, 128))
    return [channels for min_res, channels in thresholds if resolution >= min_res] + [64, 32, 16]


def discriminator_channels(resolution: int) -> list[int]:
    """Channels of the discriminator blocks, from the image inwards (the reference schedule)."""
    thresholds = ((32, 128), (64, 192), (128, 256), (256, 384), (512, 512))
    return [16, 32, 64] + [channels for above, channels in thresholds if resolution > above]


def keras_he_normal_(weight: torch.Tensor) -> torch.Tensor:
    """Keras ``he_normal``: truncated normal (+-2 std) whose kept values have std sqrt(2 / fan_in).

    Values outside two standard deviations are redrawn until none is left, which samples the
    truncated normal exactly (and much faster on CPU than inverse-CDF sampling).
    """
    fan_in = weight[0].numel()
    std = math.sqrt(2.0 / fan_in) / TRUNCATED_NORMAL_STD
    with torch.no_grad():
        flat = weight.view(-1)
        flat.normal_()
        outside = flat.abs() > 2.0
        while bool(outside.any()):
            flat[outside] = torch.randn(int(outside.sum()), dtype=flat.dtype, device=flat.device)
            outside = flat.abs() > 2.0
        return weight.mul_(std)


def _keras_layer(kind: type[nn.Linear] | type[nn.Conv2d], *args: Any, bias: float = 0.0, **kwargs: Any) -> nn.Module:
    """A Dense/Conv layer initialised as Keras: ``he_normal`` kernel, constant bias."""
    layer = skip_init(kind, *args, **kwargs)
    keras_he_normal_(layer.weight)
    nn.init.constant_(layer.bias, bias)
    return layer


def center_crop(noise: torch.Tensor, size: int) -> torch.Tensor:
    """The central ``size`` x ``size`` window of an N x C x R x R tensor (cropped, not resized)."""
    offset = (noise.shape[-1] - size) // 2
    return noise[..., offset : offset + size, offset : offset + size]


class AdaIN(nn.Module):
    """Adaptive instance norm with its own beta and gamma Dense maps from w."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.beta = _keras_layer(nn.Linear, W_DIM, channels, bias=0.0)
        self.gamma = _keras_layer(nn.Linear, W_DIM, channels, bias=1.0)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        mean = x32.mean(dim=(2, 3), keepdim=True)
        std = x32.std(dim=(2, 3), keepdim=True, unbiased=False)
        normalised = ((x32 - mean) / (std + ADAIN_EPS)).to(x.dtype)
        return self.gamma(w)[:, :, None, None] * normalised + self.beta(w)[:, :, None, None]


class StyledConv(nn.Module):
    """conv3x3 -> add learned 1x1 projection of the noise -> AdaIN -> LeakyReLU(0.01)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = _keras_layer(nn.Conv2d, in_channels, out_channels, 3, padding=1)
        self.noise = _keras_layer(nn.Conv2d, 1, out_channels, 1)
        self.adain = AdaIN(out_channels)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        x = self.conv(x) + self.noise(noise)
        return F.leaky_relu(self.adain(x, w), SYNTHESIS_SLOPE)


class SynthesisBlock(nn.Module):
    """The 4x4 block (one styled conv) or a later block (bilinear x2, two styled convs)."""

    def __init__(self, in_channels: int, out_channels: int, *, first: bool) -> None:
        super().__init__()
        self.first = first
        convs = [StyledConv(in_channels, out_channels)]
        if not first:
            convs.append(StyledConv(out_channels, out_channels))
        self.convs = nn.ModuleList(convs)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        if not self.first:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        crop = center_crop(noise, x.shape[-1])
        for conv in self.convs:
            x = conv(x, w, crop)
        return x


class SLStyleGANGenerator(Generator):
    """SL-StyleGAN generator: ``forward(z, *, noise=None)`` -> N x 3 x R x R in [0, 1]."""

    image_range = (0.0, 1.0)

    def __init__(self, config: SLStyleGANConfig) -> None:
        super().__init__()
        self.config = config
        self.resolution = config.resolution
        self.z_dim = Z_DIM
        layers: list[nn.Module] = []
        for index in range(MAPPING_LAYERS):
            layers += [_keras_layer(nn.Linear, Z_DIM if index == 0 else W_DIM, W_DIM), nn.LeakyReLU(MAPPING_SLOPE)]
        self.mapping = nn.Sequential(*layers)
        widths = config.cap([CONST_CHANNELS, CONST_CHANNELS, *synthesis_channels(config.resolution)])
        self.constant_channels = widths[0]
        self.constant = _keras_layer(nn.Linear, 1, 4 * 4 * widths[0])
        self.blocks = nn.ModuleList(
            SynthesisBlock(cin, cout, first=index == 0) for index, (cin, cout) in enumerate(zip(widths, widths[1:]))
        )
        self.to_rgb = _keras_layer(nn.Conv2d, widths[-1], 3, 1)

    def forward(self, z: torch.Tensor, *, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Images for latents ``z`` (N x 100); ``noise`` is N x 1 x R x R (standard normal if None)."""
        check_latents(z, self.z_dim)
        size = self.resolution
        if noise is None:
            noise = torch.randn(z.shape[0], 1, size, size, device=z.device, dtype=z.dtype)
        elif tuple(noise.shape) != (z.shape[0], 1, size, size):
            raise ValueError(f"noise must be {z.shape[0]} x 1 x {size} x {size}, got {tuple(noise.shape)}")
        w = self.mapping(z)
        ones = torch.ones(z.shape[0], 1, device=z.device, dtype=z.dtype)
        x = self.constant(ones).view(-1, 4, 4, self.constant_channels).permute(0, 3, 1, 2)
        for block in self.blocks:
            x = block(x, w, noise)
        return torch.sigmoid(self.to_rgb(x))

    def noise_shapes(self, options: dict[str, Any]) -> list[tuple[int, ...]]:
        return [(1, self.resolution, self.resolution)]

    def noise_inputs(self, noise: list[torch.Tensor]) -> dict[str, Any]:
        return {"noise": noise[0]}


class SLStyleGANDiscriminator(Discriminator):
    """SL-StyleGAN discriminator: images in [0, 1] -> N x 1 linear scores."""

    image_range = (0.0, 1.0)

    def __init__(self, config: SLStyleGANConfig) -> None:
        super().__init__()
        self.config = config
        self.resolution = config.resolution
        widths = [3, *config.cap(discriminator_channels(config.resolution))]
        self.blocks = nn.Sequential(*(self._block(cin, cout) for cin, cout in zip(widths, widths[1:])))
        side = config.resolution >> (len(widths) - 1)
        self.head = nn.Sequential(
            _keras_layer(nn.Linear, side * side * widths[-1], HEAD_UNITS),
            nn.ReLU(),
            nn.Dropout(DROPOUT),
            _keras_layer(nn.Linear, HEAD_UNITS, 1),
        )

    @staticmethod
    def _block(in_channels: int, out_channels: int) -> nn.Sequential:
        return nn.Sequential(
            _keras_layer(nn.Conv2d, in_channels, out_channels, 3, padding=1),
            nn.LeakyReLU(SYNTHESIS_SLOPE),
            nn.AvgPool2d(2),
            _keras_layer(nn.Conv2d, out_channels, out_channels, 3, padding=1),
            nn.LeakyReLU(SYNTHESIS_SLOPE),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, self.resolution)
        features = self.blocks(x).permute(0, 2, 3, 1).flatten(1)
        return self.head(features)
