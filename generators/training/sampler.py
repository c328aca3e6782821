"""Step-indexed batches: what a training step sees is a pure function of (seed, step, rank, world).

A run visits the images in epochs, each a fresh permutation seeded by (seed, epoch); the global
batch of step ``s`` is positions ``n ... n + B - 1`` of that endless stream, where ``n`` is the
number of images seen before the step (``s * B`` when every step has ``B`` images; StyleGAN's
minibatch changes with the resolution it grows to), and each process takes its contiguous share. Flips and latents are drawn from generators seeded by
(seed, step), for the whole global batch, and sharded the same way. Nothing depends on what was
drawn before, so a resumed run sees exactly the batches an uninterrupted one would have seen,
and the global batch is the same whatever the number of processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any tuple of plain values, stable across runs and platforms."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def seeded_generator(*parts: object) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded by :func:`derive_seed` of ``parts``."""
    return torch.Generator().manual_seed(derive_seed(*parts))


@dataclass(frozen=True)
class StepBatch:
    """This process's share of one step: dataset indices and which of them to mirror."""

    indices: torch.Tensor  # int64, local batch
    flips: torch.Tensor  # bool, local batch


class StepSampler:
    """Indices, flips and latents of any step, without state that needs saving."""

    def __init__(self, num_images: int, batch_size: int, *, seed: int, rank: int = 0,
                 world_size: int = 1, flip: bool = True) -> None:
        if num_images < 1:
            raise ValueError("no training images")
        if batch_size % world_size:
            raise ValueError(f"batch size {batch_size} is not divisible by the {world_size} processes")
        self.num_images = num_images
        self.batch_size = batch_size
        self.local_batch = batch_size // world_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.flip = flip
        self._permutations: dict[int, torch.Tensor] = {}

    def batch(self, step: int, *, start: int | None = None, size: int | None = None) -> StepBatch:
        """Step ``step``'s share: ``size`` images (default ``batch_size``) from stream position ``start``
        (default ``step * size``)."""
        size = self.batch_size if size is None else self._checked(size)
        start = step * size if start is None else start
        positions = torch.arange(start, start + size, dtype=torch.int64)
        epochs = positions // self.num_images
        indices = torch.empty_like(positions)
        for epoch in epochs.unique().tolist():
            chosen = epochs == epoch
            indices[chosen] = self._permutation(epoch)[positions[chosen] % self.num_images]
        if self.flip:
            flips = torch.rand(size, generator=seeded_generator(self.seed, "flip", step)) < 0.5
        else:
            flips = torch.zeros(size, dtype=torch.bool)
        return StepBatch(indices=self._shard(indices), flips=self._shard(flips))

    def latents(self, step: int, z_dim: int, *, stream: str, size: int | None = None) -> torch.Tensor:
        """Standard normal latents of this process's share of ``size`` (default ``batch_size``);
        ``stream`` tells D's from G's draws."""
        size = self.batch_size if size is None else self._checked(size)
        z = torch.randn(size, z_dim, generator=seeded_generator(self.seed, "latent", stream, step))
        return self._shard(z)

    def _checked(self, size: int) -> int:
        if size < 1 or size % self.world_size:
            raise ValueError(f"batch size {size} is not divisible by the {self.world_size} processes")
        return size

    def _shard(self, values: torch.Tensor) -> torch.Tensor:
        local = len(values) // self.world_size
        start = self.rank * local
        return values[start : start + local]

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch not in self._permutations:
            if len(self._permutations) >= 2:
                self._permutations.pop(min(self._permutations))
            generator = seeded_generator(self.seed, "epoch", epoch)
            self._permutations[epoch] = torch.randperm(self.num_images, generator=generator)
        return self._permutations[epoch]


def real_batch(images: torch.Tensor, batch: StepBatch, image_range: tuple[float, float]) -> torch.Tensor:
    """Gather uint8 images (on whatever device they live), mirror the chosen ones, map to a range."""
    indices = batch.indices.to(images.device, non_blocking=True)
    flips = batch.flips.to(images.device, non_blocking=True)
    x = images.index_select(0, indices).float()
    x = torch.where(flips[:, None, None, None], x.flip(3), x)
    low, high = image_range
    return x * ((high - low) / 255.0) + low
