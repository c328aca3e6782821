"""The contract every slbench generator and discriminator keeps, whatever its architecture.

A generator maps latents ``z`` to images in its own ``image_range``; ``sample`` is the one
entry point the harness uses, and it always returns floats in [0, 1], N x 3 x R x R, on the CPU.
Sampling is deterministic for a seed: every latent and every noise image is drawn from one
``torch.Generator(device="cpu")`` seeded with ``seed``, in sample order (all latents first, then
each sample's noise in turn), so the images do not depend on ``batch_size`` or on the device.
"""

from __future__ import annotations

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

    def draw_noise(self, count: int, rng: torch.Generator, options: dict[str, Any]) -> dict[str, Any]:
        """Keyword inputs besides ``z`` that ``forward`` needs for ``count`` samples (none by default).

        Implementations draw each sample's noise with one call on ``rng``, sample after sample,
        so that the draws do not depend on how the samples are batched.
        """
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

        ``device`` is where the network runs (default: where its parameters are). Images produced
        at a lower resolution (a progressive model sampled mid-growth) are upscaled to R by
        nearest-neighbour repetition.
        """
        unknown = sorted(set(sampling_options) - self.sampling_options)
        if unknown:
            supported = ", ".join(sorted(self.sampling_options)) or "none"
            raise ValueError(f"unknown sampling option(s) {', '.join(unknown)}; supported: {supported}")
        if n < 0 or batch_size < 1:
            raise ValueError(f"need n >= 0 and batch_size >= 1, got n={n}, batch_size={batch_size}")
        device = torch.device(device) if device is not None else next(self.parameters()).device
        rng = torch.Generator(device="cpu").manual_seed(seed)
        latents = torch.randn(n, self.z_dim, generator=rng)
        batches = [torch.empty(0, 3, self.resolution, self.resolution)]
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                for start in range(0, n, batch_size):
                    z = latents[start : start + batch_size]
                    noise = _to_device(self.draw_noise(z.shape[0], rng, sampling_options), device)
                    images = self.to_unit_range(self(z.to(device), **noise, **sampling_options)).cpu()
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


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {key: _to_device(item, device) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(item, device) for item in value)
    return value
