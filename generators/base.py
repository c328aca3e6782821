"""The contract every slbench generator and discriminator keeps, whatever its architecture.

A generator maps latents ``z`` to images in its own ``image_range``; ``sample`` is the one
entry point the harness uses, and it always returns floats in [0, 1], N x 3 x R x R, on the CPU.
Sampling is deterministic for a seed: every latent and every noise image is drawn from one
``torch.Generator(device="cpu")`` seeded with ``seed``, one draw per sample in sample order (the
sample's latent, then its noise images), so the images depend neither on ``batch_size`` nor on
the device, and the first k of n samples are the k samples drawn with the same seed.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    """Base of the generators in the registry."""

    z_dim: int
    resolution: int
    image_range: ClassVar[tuple[float, float]]
    sampling_options: ClassVar[frozenset[str]] = frozenset()

    def num_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    @property
    def default_sampling(self) -> dict[str, Any]:
        """Options ``sample`` uses unless told otherwise (a checkpoint saved mid-growth sets its stage)."""
        return dict(getattr(self, "_default_sampling", {}))

    def set_default_sampling(self, **options: Any) -> None:
        """Make ``options`` the defaults of :meth:`sample`; unknown options are refused."""
        unknown = sorted(set(options) - self.sampling_options)
        if unknown:
            raise ValueError(f"unknown sampling option(s) {', '.join(unknown)} for {type(self).__name__}")
        self._default_sampling = dict(options)

    def noise_shapes(self, options: dict[str, Any]) -> list[tuple[int, ...]]:
        """Shapes of one sample's noise images for ``sample`` with these options (none by default)."""
        return []

    def noise_inputs(self, noise: list[torch.Tensor]) -> dict[str, Any]:
        """Keyword inputs of ``forward`` for batched noise images (one tensor per shape above)."""
        return {}

    def to_unit_range(self, images: torch.Tensor) -> torch.Tensor:
        """Map images from ``image_range`` to [0, 1], clamping what falls outside."""
        low, high = self.image_range
        return ((images.float() - low) / (high - low)).clamp(0.0, 1.0)

    def sample(
        self,
        n: int,
        seed: int = 0,
        *,
        device: torch.device | str | None = None,
        batch_size: int = 64,
        **sampling_options: Any,
    ) -> torch.Tensor:
        """``n`` images, N x 3 x R x R floats in [0, 1] on the CPU, in eval mode and without grad.

        ``device`` is where the network runs (default: where its parameters are). Options not given
        take :attr:`default_sampling`. Images produced at a lower resolution (a progressive model
        sampled mid-growth) are upscaled to R by nearest-neighbour repetition.
        """
        sampling_options = {**self.default_sampling, **sampling_options}
        unknown = sorted(set(sampling_options) - self.sampling_options)
        if unknown:
            supported = ", ".join(sorted(self.sampling_options)) or "none"
            raise ValueError(f"unknown sampling option(s) {', '.join(unknown)}; supported: {supported}")
        if n < 0 or batch_size < 1:
            raise ValueError(f"need n >= 0 and batch_size >= 1, got n={n}, batch_size={batch_size}")
        device = torch.device(device) if device is not None else next(self.parameters()).device
        rng = torch.Generator(device="cpu").manual_seed(seed)
        shapes = self.noise_shapes(sampling_options)
        sizes = [self.z_dim] + [math.prod(shape) for shape in shapes]
        batches = [torch.empty(0, 3, self.resolution, self.resolution)]
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                for start in range(0, n, batch_size):
                    count = min(batch_size, n - start)
                    draws = torch.stack([torch.randn(sum(sizes), generator=rng) for _ in range(count)])
                    z, *noise = draws.to(device).split(sizes, dim=1)
                    noise = [piece.reshape(count, *shape) for piece, shape in zip(noise, shapes)]
                    images = self(z, **self.noise_inputs(noise), **sampling_options)
                    images = self.to_unit_range(images).cpu()
                    if images.shape[-1] != self.resolution:
                        images = F.interpolate(images, size=(self.resolution, self.resolution), mode="nearest")
                    batches.append(images)
        finally:
            self.train(was_training)
        return torch.cat(batches)


class Discriminator(nn.Module):
    """Base of the discriminators in the registry: ``forward(x) -> N x 1`` scores or logits."""

    resolution: int
    image_range: ClassVar[tuple[float, float]]

    def num_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def check_images(x: torch.Tensor, resolution: int, what: str = "images") -> None:
    """Refuse an input that is not N x 3 x resolution x resolution."""
    if x.dim() != 4 or x.shape[1] != 3 or x.shape[2] != resolution or x.shape[3] != resolution:
        raise ValueError(f"{what} must be N x 3 x {resolution} x {resolution}, got {tuple(x.shape)}")


def check_latents(z: torch.Tensor, z_dim: int) -> None:
    """Refuse latents that are not N x z_dim."""
    if z.dim() != 2 or z.shape[1] != z_dim:
        raise ValueError(f"z must be N x {z_dim}, got {tuple(z.shape)}")

