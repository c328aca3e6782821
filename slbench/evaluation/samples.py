"""Generated images for evaluation: seeded, generated in fixed chunks, brought to the evaluation
resolution and quantised to uint8 exactly like the real images.

Real images reach the feature extractor as uint8 at the evaluation resolution (the data layer
decodes and resizes them with its recorded filter); generated images take the same path, so
both sides differ only in where the pixels came from. Images are never upscaled: a model
trained at a higher resolution than the evaluation resolution is scaled down with the data
layer's filter (:data:`slbench.data.RESIZE_FILTER`).

The chunk size is a constant, not the ``--batch`` option, so the images (and hence every
metric) depend only on the checkpoint, N and the seed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

GENERATION_CHUNK = 256  # images per call to ``generator.sample``; fixed so results never depend on it


def chunk_seed(seed: int, chunk_index: int) -> int:
    """An independent 31-bit seed per chunk, derived from the run seed."""
    return int(np.random.SeedSequence(entropy=seed, spawn_key=(chunk_index,)).generate_state(1)[0] & 0x7FFFFFFF)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Floats in [0, 1] to uint8 by rounding to the nearest level (values outside are clipped)."""
    return (images.detach().float().cpu() * 255.0 + 0.5).clamp(0, 255).to(torch.uint8)


def resize_uint8(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Resize uint8 N x 3 x H x W to R x R as the data layer resizes real images: bicubic with
    antialiasing in torch's uint8 kernels (:data:`slbench.data.RESIZE_FILTER`)."""
    if images.shape[-2:] == (resolution, resolution):
        return images
    resized = F.interpolate(images, size=(resolution, resolution), mode="bicubic", antialias=True, align_corners=False)
    return resized.contiguous()


def generation_chunks(n: int) -> list[slice]:
    """The image ranges of the chunks that ``n`` generated images are made in."""
    return [slice(start, min(start + GENERATION_CHUNK, n)) for start in range(0, n, GENERATION_CHUNK)]


def generate_chunk(
    generator: torch.nn.Module,
    n: int,
    index: int,
    *,
    seed: int,
    resolution: int,
    batch_size: int = 64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Chunk ``index`` of ``n`` generated images (uint8, CPU); it depends only on its index, N and
    the seed, so any process can make any chunk (:mod:`slbench.evaluation.sharding`)."""
    span = generation_chunks(n)[index]
    with torch.no_grad():
        images = generator.sample(span.stop - span.start, seed=chunk_seed(seed, index), device=device,
                                  batch_size=batch_size)
    return resize_uint8(to_uint8(images), resolution)


def generate_uint8(
    generator: torch.nn.Module,
    n: int,
    *,
    seed: int,
    resolution: int,
    batch_size: int = 64,
    device: torch.device | str | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """``n`` generated images as uint8 N x 3 x R x R at the evaluation resolution ``R``.

    ``on_chunk(count)`` is called after each chunk with the number of images it produced.
    """
    chunks = []
    for index in range(len(generation_chunks(n))):
        chunks.append(generate_chunk(generator, n, index, seed=seed, resolution=resolution, batch_size=batch_size,
                                     device=device))
        if on_chunk is not None:
            on_chunk(len(chunks[-1]))
    return torch.cat(chunks) if chunks else torch.empty((0, 3, resolution, resolution), dtype=torch.uint8)
