"""Shared pieces of the generator tests: tiny StyleGAN settings and a one-thread fixture."""

from __future__ import annotations

import pytest
import torch

# StyleGAN small enough for CPU tests: 16 feature maps at most, a 2-layer mapping, 32-d latents.
TINY_STYLEGAN = {"fmap_base": 64, "fmap_max": 16, "mapping_layers": 2, "z_dim": 32, "w_dim": 32}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny networks gain nothing from intra-op threads, and on a shared machine threads contend."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
