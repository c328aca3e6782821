"""A named feature extractor: a network that maps uint8 images to one feature vector each.

Every extractor carries what a result must record about it (DESIGN.md, "Feature extractors"):
its name, the sha256 of its weights, whether the user vouched for those weights with
``--trust-weights``, the resolution its network sees and the filter that resizes images to it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from slbench.console import make_progress
from slbench.errors import SlbenchError

PROGRESS_MIN_BATCHES = 4  # fewer batches than this finish too fast for a progress bar to help


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as given, else CUDA when present, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class FeatureExtractor:
    """Runs ``network`` (uint8 N x 3 x H x W in, float N x dim out) in batches, without gradients."""

    def __init__(
        self,
        *,
        name: str,
        network: nn.Module,
        dim: int,
        weights_sha256: str,
        input_resolution: int,
        resize_filter: str,
        trusted_by_user: bool = False,
        weights_path: Path | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        self.name = name
        self.dim = dim
        self.weights_sha256 = weights_sha256
        self.input_resolution = input_resolution
        self.resize_filter = resize_filter
        self.trusted_by_user = trusted_by_user
        self.weights_path = weights_path
        self.device = resolve_device(device)
        self.network = network.to(self.device).eval().requires_grad_(False)

    def __repr__(self) -> str:
        return f"FeatureExtractor({self.name!r}, dim={self.dim}, weights={self.weights_sha256[:12]})"

    def provenance(self) -> dict:
        """What a result records about the features it was computed on."""
        return {
            "extractor": self.name,
            "feature_dim": self.dim,
            "weights_sha256": self.weights_sha256,
            "weights_trusted_by_user": self.trusted_by_user,
            "input_resolution": self.input_resolution,
            "resize_filter": self.resize_filter,
        }

    def extract(self, images_uint8: torch.Tensor, batch_size: int = 64) -> np.ndarray:
        """Features of ``images_uint8`` (N x 3 x H x W, uint8 RGB) as a float64 N x dim array."""
        _check_images(images_uint8)
        if batch_size < 1:
            raise SlbenchError(f"batch size must be at least 1, got {batch_size}")
        count = images_uint8.shape[0]
        features = np.empty((count, self.dim), dtype=np.float64)
        starts = range(0, count, batch_size)
        with torch.inference_mode(), make_progress(transient=True) as progress:
            task = progress.add_task(
                f"{self.name} features", total=count, visible=len(starts) >= PROGRESS_MIN_BATCHES
            )
            for start in starts:
                batch = images_uint8[start : start + batch_size].to(self.device)
                output = self.network(batch)
                features[start : start + len(batch)] = output.double().cpu().numpy()
                progress.advance(task, len(batch))
        return features


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
        kind = images.dtype if isinstance(images, torch.Tensor) else type(images).__name__
        raise SlbenchError(f"feature extraction needs a uint8 image tensor, got {kind}; convert images to uint8 RGB")
    if images.dim() != 4 or images.shape[1] != 3:
        raise SlbenchError(f"feature extraction needs N x 3 x H x W images, got shape {tuple(images.shape)}")
