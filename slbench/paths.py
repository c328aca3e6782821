"""Where slbench keeps things on disk by default."""

from __future__ import annotations

import os
from pathlib import Path

from slbench.errors import SlbenchError

DEFAULT_CHECKPOINTS = Path("checkpoints")
DEFAULT_RESULTS = Path("results")
DEFAULT_DATA = Path("Datasets")  # the reference code's data folder


def cache_dir(*parts: str) -> Path:
    """``$SLBENCH_CACHE`` (default ``~/.cache/slbench``), joined with ``parts``; created on demand.

    A cache location that is (or lies under) a file is a user error naming the setting to change.
    """
    root = Path(os.environ.get("SLBENCH_CACHE") or Path.home() / ".cache" / "slbench")
    path = root.joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise SlbenchError(f"the cache folder {path} cannot be created: a file is in the way; "
                           "remove it or set SLBENCH_CACHE to a folder") from None
    return path
