"""The decoded-and-resized uint8 image cache, so a second pass over a dataset decodes nothing.

One ``.npy`` file (read with ``allow_pickle=False``) per request, under
``slbench.paths.cache_dir("images")``, named by a sha256 over everything that changes its
pixels: the content hash of every file in order, the resolution, the resize mode, the resize
filter and :data:`CACHE_FORMAT_VERSION`. A changed file therefore gets a new entry. Each entry
ends with a trailer, :data:`CHECKSUM_TAG` and the sha256 of everything before it, so an entry
that fails to parse or to match its checksum is deleted with a one-line warning and recomputed.
Entries are written in one atomic rename; the decoded images are placed straight into the
file's buffer, so writing costs no second copy.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import torch

from generators.safe_io import atomic_write_bytes
from slbench.cache_entries import content_sha256, discard_damaged
from slbench.data.decode import RESIZE_FILTER
from slbench.paths import cache_dir

CACHE_FORMAT_VERSION = 2
CHECKSUM_TAG = b"slbench-sha256:"
TRAILER_BYTES = len(CHECKSUM_TAG) + 64
HEADER_LIMIT = 1 << 16  # an .npy 1.0 header is at most 64 KiB


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
    """The cached images at ``path``, or ``None`` when absent; a damaged, mis-shaped or
    checksum-failing entry is deleted, with a warning, and ``None`` returned."""
    try:
        with open(path, "rb") as handle:
            data = bytearray(handle.read())
    except (FileNotFoundError, IsADirectoryError):
        return None
    body, trailer = memoryview(data)[:-TRAILER_BYTES], bytes(data[-TRAILER_BYTES:])
    if len(data) < TRAILER_BYTES or trailer != CHECKSUM_TAG + content_sha256(body).encode():
        discard_damaged(path, "image", "does not match its checksum")
        return None
    try:
        array = _parse_npy(body)
    except ValueError:
        array = None
    if array is None or array.dtype != np.uint8 or array.shape != shape:
        discard_damaged(path, "image", "does not hold the images it is named for")
        return None
    return torch.from_numpy(array)


def _parse_npy(body: memoryview) -> np.ndarray:
    """The array of an ``.npy`` image in memory, without copying its data (never a pickle)."""
    stream = io.BytesIO(body[:HEADER_LIMIT])  # the header only: a BytesIO copies what it gets
    if np.lib.format.read_magic(stream) != (1, 0):
        raise ValueError("not an .npy version 1.0 entry")
    shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    if fortran_order or dtype != np.uint8:
        raise ValueError("not a C-ordered uint8 array")
    count = int(np.prod(shape))
    if len(body) - stream.tell() != count:
        raise ValueError("truncated")
    return np.frombuffer(body, dtype=np.uint8, count=count, offset=stream.tell()).reshape(shape)


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
        body = memoryview(self._buffer)
        atomic_write_bytes(path, body, CHECKSUM_TAG + content_sha256(body).encode())
