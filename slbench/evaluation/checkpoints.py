"""Checkpoints as a run sees them: where one is, what it says about itself, and the loaded generator.

Validation before a run reads only the small JSON metadata of each checkpoint; the weights are
loaded (and checked against the sha256 the metadata records) when that checkpoint's turn comes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from generators.checkpoint import (
    CheckpointError,
    growth_stage_text,
    load_checkpoint,
    non_finite_tensors,
    read_checkpoint_metadata,
    resolve_checkpoint,
)
from generators.safe_io import sha256_file
from slbench.data.decode import DEFAULT_RESIZE, RESIZE_MODES
from slbench.errors import SlbenchError


@dataclass(frozen=True)
class CheckpointInfo:
    """A resolved checkpoint: its weights file and the metadata written beside it."""

    path: Path
    metadata: dict[str, Any]

    @cached_property
    def sha256(self) -> str:
        return sha256_file(self.path)

    @property
    def resolution(self) -> int | None:
        value = self.metadata.get("resolution")
        return int(value) if isinstance(value, (int, float)) and int(value) > 0 else None

    @property
    def step(self) -> int | None:
        """The training step the checkpoint was saved at, when recorded."""
        value = self.metadata.get("step")
        return int(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

    @property
    def kimg(self) -> float | None:
        """Thousands of real images the model was trained on, when recorded."""
        value = self.metadata.get("images_seen")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            return None
        return value / 1000.0

    @property
    def stage(self) -> str:
        """``"16 px, fade-in 0.50"`` when saved before its network finished growing, else ``""``."""
        return growth_stage_text(self.metadata)

    @property
    def resize(self) -> str:
        """How the training images were made square (``slbench train --resize``); older checkpoints,
        which record none, were trained on squashed images, the only mode there was."""
        data = self.metadata.get("data")
        recorded = data.get("resize") if isinstance(data, dict) else None
        return recorded if recorded in RESIZE_MODES else DEFAULT_RESIZE

    @property
    def model(self) -> str | None:
        return self.metadata.get("model")

    @property
    def category(self) -> str | None:
        category = self.metadata.get("category")
        return str(category).upper() if category is not None else None


def read_checkpoint_info(path: str | Path) -> CheckpointInfo:
    """Resolve a checkpoint file or folder (its ``latest``) and read its metadata, not its weights."""
    try:
        weights = resolve_checkpoint(path)
        return CheckpointInfo(weights, read_checkpoint_metadata(weights))
    except (CheckpointError, OSError) as err:
        raise SlbenchError(str(err)) from None


class NonFiniteWeightsError(SlbenchError):
    """A checkpoint whose generator holds NaN or infinite weights: it cannot produce images."""


def load_generator(info: CheckpointInfo, device: torch.device) -> torch.nn.Module:
    """The checkpoint's generator on ``device`` in eval mode; a refused, corrupt or non-finite file is a
    user error."""
    try:
        generator, _ = load_checkpoint(info.path)
    except CheckpointError as err:
        raise SlbenchError(str(err)) from None
    broken = non_finite_tensors(generator.state_dict())
    if broken:
        raise NonFiniteWeightsError(f"{info.path} holds non-finite generator weights ({broken[0]}"
                                    f"{f' and {len(broken) - 1} more' if len(broken) > 1 else ''}); "
                                    "evaluate an earlier checkpoint")
    return generator.to(device).eval()
