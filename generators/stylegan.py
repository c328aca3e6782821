"""StyleGAN: Karras, Laine and Aila, "A Style-Based Generator Architecture for Generative
Adversarial Networks" (CVPR 2019), ported from the official release (NVlabs/stylegan,
``training/networks_stylegan.py``: ``G_style``, ``G_mapping``, ``G_synthesis``, ``D_basic``).

Generator: z (512) -> pixel norm -> 8 equalised Dense(512) layers with lr multiplier 0.01 and
LeakyReLU(0.2) -> w (512), broadcast to one w per synthesis layer (2 per resolution). The
synthesis starts from a learned 4x4 constant (initialised to ones) that receives noise and AdaIN;
the 4x4 block has one 3x3 conv, each later block a nearest x2 upsample, a 3x3 conv and the
[1, 2, 1] blur, then a second 3x3 conv; every conv is followed by the layer epilogue (noise with a
per-channel scale, bias, LeakyReLU(0.2), instance norm, style). Feature maps at 2**s pixels:
``min(fmap_base / 2**(s - 1), fmap_max)``. Each resolution has its own ToRGB (1x1, gain 1).

* Progressive growing: ``stage`` is the output resolution being trained; the previous stage's
  ToRGB output, upscaled by nearest neighbour, is blended with the new one with weight
  ``1 - alpha`` (the official ``lerp_clip`` of the ``linear`` structure). ``stage=None`` is the
  full network, i.e. growing switched off.
* Style mixing (``mixing_prob``, 0.9 in training): with that probability per minibatch, the
  layers from a cutoff drawn uniformly in [1, active layers) take w of a second random latent.
* ``w_avg`` tracks the mean w with beta 0.995 when ``update_w_avg=True`` (training steps);
  truncation pulls w towards it: ``w_avg + psi * (w - w_avg)`` on the layers below the cutoff.

Discriminator: FromRGB (1x1) at each resolution; blocks of conv3x3 then blur, conv3x3 and 2x2
average pool; at 4x4 the minibatch standard deviation (group size 4), conv3x3, Dense(nf(0)),
Dense(1) (gain 1); LeakyReLU(0.2), equalised learning rate throughout. Under progressive
growing the input is the image at ``stage`` pixels and the new block's output is blended with
FromRGB of the 2x2-averaged image with weight ``1 - alpha``.

Deliberate differences from the official release:

* Under progressive growing the generator returns images at ``stage`` pixels and the
  discriminator takes images at ``stage`` pixels (the official graph upscales to, and reads at,
  the full resolution by nearest neighbour; the values are the same, only the array is smaller).
  ``sample`` upscales such images to the full resolution as the official graph does.
* The official code picks a fused transposed (strided) convolution for upsampling (downsampling)
  from 128 pixels up; here it is always nearest upsampling then conv (conv then 2x2 average).
  The fused downsampling computes conv-then-average exactly. The fused upsampling equals
  nearest-upsample-then-conv only with the 3x3 kernel rotated by 180 degrees (a transposed
  convolution correlates with the flipped kernel), so official weights of the up-convolutions at
  128 px and above must be flipped on import; trained from scratch, the two are the same family.
* Minibatch standard deviation with a batch that is not a multiple of the group size uses the
  largest group size that divides it (the official code requires a multiple).
* ``forward`` also accepts the noise images (``noise=``), so that a caller can fix them.
* ``sample`` uses psi = 1 (no truncation) unless told otherwise, as the official metrics do; the
  official release's default for showing images is ``TRUNCATION_PSI`` 0.7 with
  ``TRUNCATION_CUTOFF`` 8, exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from generators.base import Discriminator, Generator, check_images, check_latents
from generators.stylegan_layers import (
    LEAKY_SLOPE,
    Blur,
    EqualizedConv2d,
    EqualizedLinear,
    LayerEpilogue,
    downscale2d,
    minibatch_stddev,
    pixel_norm,
    upscale2d,
)

MAPPING_LR_MUL = 0.01
W_AVG_BETA = 0.995
STYLE_MIXING_PROB = 0.9  # what training passes as ``mixing_prob``
TRUNCATION_PSI = 0.7  # the official release's default for showing images
TRUNCATION_CUTOFF = 8


@dataclass(frozen=True)
class StyleGANConfig:
    """StyleGAN settings; the defaults are the official ones."""

    resolution: int  # output side in pixels, a power of two
    z_dim: int = 512  # latent size
    w_dim: int = 512  # intermediate latent size and mapping width
    mapping_layers: int = 8
    fmap_base: int = 8192  # feature maps at 2**s pixels: min(fmap_base / 2**(s - 1), fmap_max)
    fmap_max: int = 512
    mbstd_group_size: int = 4  # 1 switches the minibatch standard deviation layer off, as officially

    def __post_init__(self) -> None:
        for key in ("z_dim", "w_dim", "mapping_layers", "fmap_base", "fmap_max", "mbstd_group_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"StyleGAN {key} must be a positive integer, got {value!r}")
        if self.resolution < 8 or self.resolution & (self.resolution - 1):
            raise ValueError(f"StyleGAN resolution must be a power of two of at least 8, got {self.resolution}")
        if self.fmaps(self.log2_resolution - 1) < 1:
            raise ValueError(f"fmap_base {self.fmap_base} leaves no feature maps at {self.resolution} pixels")

    @property
    def log2_resolution(self) -> int:
        return self.resolution.bit_length() - 1

    def fmaps(self, stage: int) -> int:
        """The official ``nf(stage)``: feature maps of the layers at 2**(stage + 1) pixels."""
        return min(int(self.fmap_base / 2.0**stage), self.fmap_max)


def stage_level(stage: int | None, resolution: int) -> int:
    """Number of active resolutions (1 = 4x4 only) for ``stage`` pixels; None is all of them."""
    if stage is None:
        stage = resolution
    valid = [2**k for k in range(2, resolution.bit_length())]
    if stage not in valid:
        raise ValueError(f"stage {stage!r} is not a resolution of this network; supported: {valid}")
    return stage.bit_length() - 2


def check_alpha(alpha: float) -> float:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    return float(alpha)


class MappingNetwork(nn.Module):
    """z -> pixel norm -> equalised Dense + LeakyReLU(0.2) layers with lr multiplier 0.01 -> w."""

    def __init__(self, z_dim: int, w_dim: int, layers: int) -> None:
        super().__init__()
        widths = [z_dim] + [w_dim] * layers
        self.layers = nn.ModuleList(EqualizedLinear(a, b, lr_mul=MAPPING_LR_MUL) for a, b in zip(widths, widths[1:]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = pixel_norm(z)
        for layer in self.layers:
            x = F.leaky_relu(layer(x), LEAKY_SLOPE)
        return x


class SynthesisBlock(nn.Module):
    """One resolution: the 4x4 constant and a conv, or upsample-conv-blur and a conv; two epilogues."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, *, first: bool) -> None:
        super().__init__()
        self.first = first
        if first:
            self.constant = nn.Parameter(torch.ones(1, out_channels, 4, 4))
        else:
            self.conv_up = EqualizedConv2d(in_channels, out_channels, 3, bias=False)
            self.blur = Blur()
        self.conv = EqualizedConv2d(out_channels, out_channels, 3, bias=False)
        self.epilogue0 = LayerEpilogue(out_channels, w_dim)
        self.epilogue1 = LayerEpilogue(out_channels, w_dim)

    def forward(self, x: torch.Tensor | None, ws: torch.Tensor, noise: Sequence[torch.Tensor]) -> torch.Tensor:
        if self.first:
            x = self.constant.expand(ws.shape[0], -1, -1, -1)
        else:
            x = self.blur(self.conv_up(upscale2d(x)))
        x = self.epilogue0(x, ws[:, 0], noise[0])
        return self.epilogue1(self.conv(x), ws[:, 1], noise[1])


class StyleGANGenerator(Generator):
    """StyleGAN generator (``G_style``): images in [-1, 1]."""

    image_range = (-1.0, 1.0)
    sampling_options = frozenset({"psi", "truncation_cutoff", "stage", "alpha"})

    def __init__(self, config: StyleGANConfig) -> None:
        super().__init__()
        self.config = config
        self.resolution = config.resolution
        self.z_dim = config.z_dim
        self.num_layers = 2 * (config.log2_resolution - 1)
        self.mapping = MappingNetwork(config.z_dim, config.w_dim, config.mapping_layers)
        widths = [config.fmaps(1)] + [config.fmaps(res - 1) for res in range(2, config.log2_resolution + 1)]
        self.blocks = nn.ModuleList(
            SynthesisBlock(a, b, config.w_dim, first=index == 0) for index, (a, b) in enumerate(zip(widths, widths[1:]))
        )
        self.to_rgb = nn.ModuleList(EqualizedConv2d(c, 3, 1, gain=1.0) for c in widths[1:])
        self.register_buffer("w_avg", torch.zeros(config.w_dim))

    def layer_resolutions(self, stage: int | None = None) -> list[int]:
        """Side of the noise image of each active synthesis layer."""
        return [2 ** (index // 2 + 2) for index in range(2 * stage_level(stage, self.resolution))]

    def mapped_styles(
        self,
        z: torch.Tensor,
        *,
        psi: float = 1.0,
        truncation_cutoff: int | None = None,
        mixing_prob: float = 0.0,
        stage: int | None = None,
        update_w_avg: bool = False,
    ) -> torch.Tensor:
        """The per-layer w (N x num_layers x w_dim): mapping, w_avg update, mixing, truncation."""
        check_latents(z, self.z_dim)
        w = self.mapping(z)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(torch.lerp(w.detach().float().mean(dim=0), self.w_avg, W_AVG_BETA))
        layer = torch.arange(self.num_layers, device=z.device).view(1, -1, 1)
        ws = w.unsqueeze(1).expand(-1, self.num_layers, -1)
        if mixing_prob > 0:
            active = 2 * stage_level(stage, self.resolution)
            mixed = self.mapping(torch.randn_like(z))
            cutoff = active
            if torch.rand(()).item() < mixing_prob:
                cutoff = int(torch.randint(1, active, ()).item())
            ws = torch.where(layer < cutoff, ws, mixed.unsqueeze(1))
        if psi != 1.0:
            cutoff = self.num_layers if truncation_cutoff is None else truncation_cutoff
            w_avg = self.w_avg.to(ws.dtype)
            ws = torch.where(layer < cutoff, w_avg + (ws - w_avg) * psi, ws)
        return ws

    def synthesis(
        self,
        ws: torch.Tensor,
        *,
        stage: int | None = None,
        alpha: float = 1.0,
        noise: Sequence[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Images at ``stage`` pixels from per-layer w; ``noise`` is one N x 1 x r x r tensor per layer."""
        level, alpha = stage_level(stage, self.resolution), check_alpha(alpha)
        noise = self._checked_noise(noise, ws, stage)
        x = previous = None
        for index, block in enumerate(self.blocks[:level]):
            previous = x
            x = block(x, ws[:, 2 * index : 2 * index + 2], noise[2 * index : 2 * index + 2])
        images = self.to_rgb[level - 1](x)
        if level > 1 and alpha < 1.0:
            images = torch.lerp(upscale2d(self.to_rgb[level - 2](previous)), images, alpha)
        return images

    def forward(
        self,
        z: torch.Tensor,
        *,
        psi: float = 1.0,
        truncation_cutoff: int | None = None,
        mixing_prob: float = 0.0,
        stage: int | None = None,
        alpha: float = 1.0,
        update_w_avg: bool = False,
        noise: Sequence[torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Images in [-1, 1], N x 3 x stage x stage (full resolution when ``stage`` is None)."""
        ws = self.mapped_styles(
            z, psi=psi, truncation_cutoff=truncation_cutoff, mixing_prob=mixing_prob, stage=stage,
            update_w_avg=update_w_avg,
        )
        return self.synthesis(ws, stage=stage, alpha=alpha, noise=noise)

    def noise_shapes(self, options: dict[str, Any]) -> list[tuple[int, ...]]:
        return [(1, size, size) for size in self.layer_resolutions(options.get("stage"))]

    def noise_inputs(self, noise: list[torch.Tensor]) -> dict[str, Any]:
        return {"noise": noise}

    def _checked_noise(
        self, noise: Sequence[torch.Tensor] | None, ws: torch.Tensor, stage: int | None
    ) -> Sequence[torch.Tensor]:
        sizes = self.layer_resolutions(stage)
        if noise is None:
            return [torch.randn(ws.shape[0], 1, s, s, device=ws.device, dtype=ws.dtype) for s in sizes]
        if len(noise) < len(sizes):
            raise ValueError(f"noise needs one image per active layer ({len(sizes)}), got {len(noise)}")
        for tensor, size in zip(noise, sizes):
            if tuple(tensor.shape) != (ws.shape[0], 1, size, size):
                raise ValueError(f"noise images must be N x 1 x r x r with r = {sizes}, got {tuple(tensor.shape)}")
        return noise


class DiscriminatorBlock(nn.Module):
    """conv3x3 -> LeakyReLU, then blur -> conv3x3 -> 2x2 average -> LeakyReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3)
        self.blur = Blur()
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.leaky_relu(self.conv0(x), LEAKY_SLOPE)
        return F.leaky_relu(downscale2d(self.conv1(self.blur(x))), LEAKY_SLOPE)


class StyleGANDiscriminator(Discriminator):
    """StyleGAN discriminator (``D_basic``): images in [-1, 1] -> N x 1 logits."""

    image_range = (-1.0, 1.0)

    def __init__(self, config: StyleGANConfig) -> None:
        super().__init__()
        self.config = config
        self.resolution = config.resolution
        nf, top = config.fmaps, config.log2_resolution
        self.from_rgb = nn.ModuleList(EqualizedConv2d(3, nf(res - 1), 1) for res in range(2, top + 1))
        self.blocks = nn.ModuleList(DiscriminatorBlock(nf(res - 1), nf(res - 2)) for res in range(3, top + 1))
        self.mbstd_group_size = config.mbstd_group_size
        self.conv = EqualizedConv2d(nf(1) + (1 if config.mbstd_group_size > 1 else 0), nf(1), 3)
        self.dense0 = EqualizedLinear(nf(1) * 16, nf(0))
        self.dense1 = EqualizedLinear(nf(0), 1, gain=1.0)

    def forward(self, x: torch.Tensor, *, stage: int | None = None, alpha: float = 1.0) -> torch.Tensor:
        """Logits for images at ``stage`` pixels (the full resolution when ``stage`` is None)."""
        level, alpha = stage_level(stage, self.resolution), check_alpha(alpha)
        check_images(x, 4 * 2 ** (level - 1))
        h = F.leaky_relu(self.from_rgb[level - 1](x), LEAKY_SLOPE)
        if level > 1:
            h = self.blocks[level - 2](h)
            if alpha < 1.0:
                lower = F.leaky_relu(self.from_rgb[level - 2](downscale2d(x)), LEAKY_SLOPE)
                h = torch.lerp(lower, h, alpha)
            for block in reversed(self.blocks[: level - 2]):
                h = block(h)
        if self.mbstd_group_size > 1:
            h = minibatch_stddev(h, self.mbstd_group_size)
        h = F.leaky_relu(self.conv(h), LEAKY_SLOPE)
        h = F.leaky_relu(self.dense0(h.flatten(1)), LEAKY_SLOPE)
        return self.dense1(h)

