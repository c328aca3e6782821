"""What a result was computed with, so that a number in a table can be traced and reproduced.

Recorded in ``metrics.json`` (never in ``metrics.csv``, which stays identical between two runs
with the same seed): package versions, the feature extractor (name, weights sha256, input
resolution, resize filter, whether the user trusted unknown weights), every checkpoint (sha256
and metadata), the data (root, layout, fingerprint, resize), seeds and timings.
"""

from __future__ import annotations

import platform
import time
from contextlib import contextmanager
from importlib import metadata
from typing import Any, Iterator

RECORDED_PACKAGES = (
    "slbench",
    "torch",
    "torchvision",
    "torch-fidelity",
    "lpips",
    "numpy",
    "scipy",
    "pandas",
    "pillow",
    "safetensors",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a number depends on, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def extractor_provenance(extractor: Any) -> dict[str, Any]:
    """The feature extractor as every result row's ``features`` column cannot say in full."""
    return {
        "name": extractor.name,
        "dim": int(extractor.dim),
        "weights_sha256": extractor.weights_sha256,
        "input_resolution": extractor.input_resolution,
        "resize_filter": extractor.resize_filter,
        "trusted_by_user": bool(extractor.trusted_by_user),
    }


def checkpoint_provenance(checkpoint: Any) -> dict[str, Any]:
    """A checkpoint file's sha256 and the metadata its training wrote beside it."""
    return {"path": str(checkpoint.path), "sha256": checkpoint.sha256, "metadata": checkpoint.metadata}


def data_provenance(dataset: Any, *, resize: str, resize_filter: str) -> dict[str, Any]:
    """Which images the real side came from and how they were brought to the evaluation resolution."""
    return {
        "root": str(dataset.root),
        "layout": dataset.layout,
        "fingerprint": dataset.fingerprint(),
        "resize": resize,
        "resize_filter": resize_filter,
    }


class Timings:
    """Wall-clock seconds per named stage, e.g. ``timings.stage("generate")``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 4)
