"""The decoded-and-resized uint8 image cache, so a second pass over a dataset decodes nothing.

One ``.npy`` file (read with ``allow_pickle=False``) per request, under
``slbench.paths.cache_dir("images")``, named by a sha256 over everything that changes its
pixels: the content hash of every file in order, the resolution, the resize mode, the resize
filter and :data:`CACHE_FORMAT_VERSION`. A changed file therefore gets a new entry, and an entry
that fails to parse is deleted and recomputed. Entries are written in one atomic rename; the
decoded images are placed straight into the file's buffer, so writing costs no second copy.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import torch

from generators.safe_io import atomic_write_bytes
from slbench.data.decode import RESIZE_FILTER
from slbench.paths import cache_dir

CACHE_FORMAT_VERSION = 1


def cache_key(digests: list[str], resolution: int, resize: str) -> str:
    """sha256 hex naming the cache entry of these files (by content, in order) at this preprocessing."""
    description = {
        "version": CACHE_FORMAT_VERSION,
        "resolution": resolution,
        "resize": resize,
        "filter": RESIZE_FILTER,
        "files": digests,
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


def cache_path(key: str) -> Path:
    return cache_dir("images") / f"{key}.npy"


def read_entry(path: Path, shape: tuple[int, ...]) -> torch.Tensor | None:
    """The cached images at ``path``, or ``None`` (deleting the file) when it is absent, corrupt or mis-shaped."""
    if not path.is_file():
        return None
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError):
        array = None
    if array is None or array.dtype != np.uint8 or array.shape != shape:
        path.unlink(missing_ok=True)
        return None
    return torch.from_numpy(array)


class EntryBuffer:
    """An ``.npy`` file under construction: header bytes followed by the uint8 array the caller fills."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": shape})
        offset = header.tell()
        self._buffer = np.empty(offset + int(np.prod(shape)), dtype=np.uint8)
        self._buffer[:offset] = np.frombuffer(header.getvalue(), dtype=np.uint8)
        self.images = torch.from_numpy(self._buffer[offset:].reshape(shape))

    def write(self, path: Path) -> None:
        atomic_write_bytes(path, memoryview(self._buffer))
