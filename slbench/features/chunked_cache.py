"""Cached features of a large image set (a class's real side) that survive an interruption.

An entry is named by what selects the images and everything that changes their features: the
dataset fingerprint, the class and its image ids in order, the evaluation resolution and
preprocessing, and the extractor (name, weights sha256, input resolution, resize filter). That
name is known before a single image is decoded, so ``slbench run`` can say up front which real
sides are cached. The entry's key text also holds the sha256 of the decoded images: features
are used only for the very pixels they were computed from, and anything else is recomputed.

While the features are computed, every finished chunk of :data:`REAL_CHUNK` images is saved
atomically beside the entry (``<entry>.partial/chunk-<i>.safetensors``, each carrying the same
key text). A run stopped halfway through a class of thousands of images finds those chunks and
extracts only the rest; once all are there the complete entry is written in one rename and the
chunks are removed. A full or unwritable cache disk only means nothing is stored
(:mod:`slbench.cache_space`). Every chunk is extracted on its own, so the features do not
depend on how many chunks an earlier, interrupted run finished.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from slbench.features.cache import CACHE_FORMAT, read_entry, write_entry
from slbench.features.extractor import FeatureExtractor
from slbench.paths import cache_dir

REAL_CHUNK = 1024  # images per saved chunk; a multiple of every power-of-two batch up to 1024


def set_key(extractor: FeatureExtractor, selection: dict[str, Any]) -> dict[str, Any]:
    """What an entry's name depends on: the image selection and the extractor."""
    return {
        "format": CACHE_FORMAT,
        "kind": "chunked",
        "chunk": REAL_CHUNK,
        "extractor": extractor.name,
        "weights_sha256": extractor.weights_sha256,
        "input_resolution": extractor.input_resolution,
        "resize_filter": extractor.resize_filter,
        "selection": selection,
    }


def chunk_spans(rows: int) -> list[slice]:
    """The row ranges of the chunks of a set of ``rows`` images."""
    return [slice(start, min(start + REAL_CHUNK, rows)) for start in range(0, rows, REAL_CHUNK)]


@dataclass(frozen=True)
class ChunkedEntry:
    """Where the features of one image set live, complete or chunk by chunk."""

    path: Path
    rows: int
    dim: int

    @classmethod
    def locate(cls, extractor: FeatureExtractor, selection: dict[str, Any], rows: int) -> "ChunkedEntry":
        text = json.dumps(set_key(extractor, selection), sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()
        return cls(cache_dir("features") / f"{extractor.name}-set-{digest[:40]}.safetensors", rows, extractor.dim)

    def exists(self) -> bool:
        """Whether a complete entry is stored (its content is checked only when it is read)."""
        return self.path.is_file()

    @property
    def partial_dir(self) -> Path:
        return self.path.with_name(self.path.stem + ".partial")

    def spans(self) -> list[slice]:
        return chunk_spans(self.rows)

    def chunk_path(self, index: int) -> Path:
        return self.partial_dir / f"chunk-{index:05d}.safetensors"

    def complete(self, images_sha256: str) -> np.ndarray | None:
        """The stored features of these exact images, or None."""
        return read_entry(self.path, self._key_text(images_sha256), self.rows, self.dim)

    def finished_chunks(self, images_sha256: str) -> dict[int, np.ndarray]:
        """The chunks an earlier, interrupted extraction of these images saved, by index."""
        found = {}
        for index, span in enumerate(self.spans()):
            features = read_entry(self.chunk_path(index), self._key_text(images_sha256, index),
                                  span.stop - span.start, self.dim)
            if features is not None:
                found[index] = features
        return found

    def save_chunk(self, images_sha256: str, index: int, features: np.ndarray) -> None:
        self._store(self.chunk_path(index), features, self._key_text(images_sha256, index))

    def finish(self, images_sha256: str, features: np.ndarray) -> None:
        """Store the complete entry and drop the chunks it was assembled from."""
        if self._store(self.path, features, self._key_text(images_sha256)):
            shutil.rmtree(self.partial_dir, ignore_errors=True)

    @staticmethod
    def _store(path: Path, features: np.ndarray, key_text: str) -> bool:
        """Write one entry (with its checksum); a full or unwritable cache only means it is not stored."""
        return write_entry(path, features, key_text)

    def _key_text(self, images_sha256: str, chunk: int | None = None) -> str:
        return json.dumps({"entry": self.path.name, "images_sha256": images_sha256, "rows": self.rows,
                           "chunk": chunk}, sort_keys=True)
