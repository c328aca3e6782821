"""Where slbench keeps things on disk by default."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_CHECKPOINTS = Path("checkpoints")
DEFAULT_RESULTS = Path("results")
DEFAULT_DATA = Path("Datasets")  # the reference code's data folder


def cache_dir(*parts: str) -> Path:
    """``$SLBENCH_CACHE`` (default ``~/.cache/slbench``), joined with ``parts``; created on demand."""
    root = Path(os.environ.get("SLBENCH_CACHE") or Path.home() / ".cache" / "slbench")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
