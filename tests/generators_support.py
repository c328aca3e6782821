"""Shared pieces of the generator tests: tiny StyleGAN settings."""

from __future__ import annotations

# StyleGAN small enough for CPU tests: 16 feature maps at most, a 2-layer mapping, 32-d latents.
TINY_STYLEGAN = {"fmap_base": 64, "fmap_max": 16, "mapping_layers": 2, "z_dim": 32, "w_dim": 32}
