"""The feature cache: the features of an image set are computed once per extractor and settings.

The key is a sha256 over everything that changes the features: the content of the images (the
uint8 tensor's shape and bytes, not file paths), the extractor's name, the sha256 of its weights,
its input resolution and resize filter, and the caller's ``key`` (category, preprocessing, ...).
As in stylegan2-ada-pytorch's ``metric_utils`` feature-stats cache, the entry's file name is that
hash and it is written to a temporary file and renamed into place, so two runs computing the same
entry at once both end with the same complete file. Entries are safetensors whose metadata holds
the full key as JSON and the sha256 of the features' bytes; an entry that fails to parse, whose
checksum, key or shape disagrees, is discarded with a one-line warning and recomputed, never
trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generators.safe_io import UnsafeWeightsError, load_safetensors_with_metadata, save_safetensors
from slbench.cache_entries import content_sha256, discard_damaged
from slbench.cache_space import store_in_cache
from slbench.features.extractor import FeatureExtractor
from slbench.paths import cache_dir

CACHE_FORMAT = 2
FEATURES_TENSOR = "features"
KEY_METADATA = "slbench_key"
CHECKSUM_METADATA = "slbench_features_sha256"


def image_content_sha256(images_uint8: torch.Tensor) -> str:
    """sha256 of a uint8 image tensor's shape and bytes: equal content gives an equal hash."""
    images = images_uint8.detach().to("cpu").contiguous()
    digest = hashlib.sha256(f"{images.dtype}:{tuple(images.shape)}:".encode())
    digest.update(images.numpy().data)
    return digest.hexdigest()


def cache_key(extractor: FeatureExtractor, images_sha256: str, key: dict[str, Any]) -> dict[str, Any]:
    """Everything the cached features depend on."""
    return {
        "format": CACHE_FORMAT,
        "images_sha256": images_sha256,
        "extractor": extractor.name,
        "weights_sha256": extractor.weights_sha256,
        "input_resolution": extractor.input_resolution,
        "resize_filter": extractor.resize_filter,
        "key": key,
    }


def entry_path(full_key: dict[str, Any]) -> tuple[Path, str]:
    """The cache file for ``full_key`` and the key's canonical JSON text."""
    text = json.dumps(full_key, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return cache_dir("features") / f"{full_key['extractor']}-{digest[:40]}.safetensors", text


def read_entry(path: Path, key_text: str, rows: int, dim: int) -> np.ndarray | None:
    """The features stored at ``path`` if the entry is intact and for this key; otherwise None.

    A damaged or mismatching entry is deleted, with a warning, so that the recomputed one
    replaces it.
    """
    if not path.is_file():
        return None
    try:
        tensors, metadata = load_safetensors_with_metadata(path)
        features = tensors[FEATURES_TENSOR].numpy()
    except (UnsafeWeightsError, KeyError, ValueError):
        discard_damaged(path, "feature", "cannot be read")
        return None
    except FileNotFoundError:
        return None
    if metadata.get(CHECKSUM_METADATA) != content_sha256(features.data):
        discard_damaged(path, "feature", "does not match its checksum")
        return None
    if metadata.get(KEY_METADATA) != key_text or features.dtype != np.float64 or features.shape != (rows, dim):
        discard_damaged(path, "feature", "does not match its key")
        return None
    return features


def write_entry(path: Path, features: np.ndarray, key_text: str) -> bool:
    """Store one entry with its key and the checksum :func:`read_entry` verifies; a full or
    unwritable cache only means it is not stored (see :mod:`slbench.cache_space`)."""
    features = np.ascontiguousarray(features, dtype=np.float64)
    tensors = {FEATURES_TENSOR: torch.from_numpy(features)}
    metadata = {KEY_METADATA: key_text, CHECKSUM_METADATA: content_sha256(features.data)}
    return store_in_cache(lambda: save_safetensors(path, tensors, metadata=metadata), path)


def cached_features(
    extractor: FeatureExtractor, images_uint8: torch.Tensor, *, key: dict[str, Any], batch_size: int = 64
) -> np.ndarray:
    """``extractor.extract(images_uint8)``, computed at most once for the same images, extractor and key."""
    full_key = cache_key(extractor, image_content_sha256(images_uint8), key)
    path, key_text = entry_path(full_key)
    features = read_entry(path, key_text, int(images_uint8.shape[0]), extractor.dim)
    if features is None:
        features = extractor.extract(images_uint8, batch_size=batch_size)
        write_entry(path, features, key_text)
    return features
