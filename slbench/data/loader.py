"""Images of a dataset as one uint8 tensor, and seeded training batches drawn from it.

:func:`load_images` decodes and resizes on a thread pool (:mod:`slbench.data.decode`) and
keeps the result in the content-keyed cache (:mod:`slbench.data.image_cache`): a second call
on unchanged files only hashes them and reads one file. :func:`training_batches` is the
sampling the SL-StyleGAN reference trains with: shuffled epochs and random horizontal flips,
here drawn from a seeded generator so that a run can be repeated exactly.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import torch

from generators.safe_io import sha256_file
from slbench.cache_space import store_in_cache
from slbench.data.dataset import Dataset
from slbench.data.decode import check_resize_mode, decode_resized
from slbench.data.image_cache import EntryBuffer, cache_key, cache_path, read_entry
from slbench.data.records import ImageRecord
from slbench.data.workers import thread_map
from slbench.errors import SlbenchError


def _content_digest(record: ImageRecord) -> str:
    try:
        return sha256_file(record.path)
    except OSError as err:
        raise SlbenchError(f"cannot read {record.path} ({err.strerror or err}); check the dataset") from err


def _decode_into(images: torch.Tensor, records: Sequence[ImageRecord], resolution: int, resize: str) -> None:
    def decode(index: int) -> None:
        images[index].copy_(decode_resized(records[index].path, resolution, resize))

    thread_map(decode, range(len(records)), description="Decoding images")


def load_images(
    records: Sequence[ImageRecord], resolution: int, *, resize: str = "squash", cache: bool = True
) -> torch.Tensor:
    """N x 3 x R x R uint8 RGB tensor of the records' images, in order (see module docstring)."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1:
        raise SlbenchError(f"resolution must be a positive whole number of pixels, not {resolution!r}")
    check_resize_mode(resize)
    records = list(records)
    shape = (len(records), 3, resolution, resolution)
    if not records:
        return torch.empty(shape, dtype=torch.uint8)
    if not cache:
        images = torch.empty(shape, dtype=torch.uint8)
        _decode_into(images, records, resolution, resize)
        return images
    digests = thread_map(_content_digest, records, description="Hashing images")
    path = cache_path(cache_key(digests, resolution, resize))
    cached = read_entry(path, shape)
    if cached is not None:
        return cached
    entry = EntryBuffer(shape)
    _decode_into(entry.images, records, resolution, resize)
    store_in_cache(lambda: entry.write(path), path)
    return entry.images


def load_category(
    dataset: Dataset, category: str, resolution: int, *, resize: str = "squash", cache: bool = True
) -> torch.Tensor:
    """All usable images of one category of a dataset; an empty category is an :class:`SlbenchError`."""
    records = dataset.records(category)
    if not records:
        raise SlbenchError(
            f"{dataset.root} has no usable {category} image; run `slbench data info {dataset.root}` for details"
        )
    return load_images(records, resolution, resize=resize, cache=cache)


def training_batches(
    images: torch.Tensor, batch_size: int, *, seed: int = 0, hflip: bool = True
) -> Iterator[torch.Tensor]:
    """Endless batches of ``images``: each pass a fresh seeded permutation, each image flipped left-right with p=1/2.

    Batches run across pass boundaries, so every batch is full even when there are fewer
    images than ``batch_size``. Same images, batch size and seed: same batches.
    """
    if len(images) == 0:
        raise SlbenchError("no images to train on; check the dataset with `slbench data info`")
    if batch_size < 1:
        raise SlbenchError(f"batch size must be at least 1, not {batch_size}")
    generator = torch.Generator().manual_seed(seed)
    pending = torch.empty(0, dtype=torch.long)
    while True:
        while len(pending) < batch_size:
            pending = torch.cat([pending, torch.randperm(len(images), generator=generator)])
        indices, pending = pending[:batch_size], pending[batch_size:]
        batch = images[indices]
        if hflip:
            flip = torch.rand(batch_size, generator=generator) < 0.5
            batch[flip] = batch[flip].flip(-1)
        yield batch
