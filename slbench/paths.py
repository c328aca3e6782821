"""Where slbench keeps things on disk by default."""

from __future__ import annotations

import os
from pathlib import Path

from reports.schema import METRICS_CSV, METRICS_JSON
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


GENERATE_JSON = "generate.json"  # what `slbench generate` wrote into its folder
CHECKPOINT_FILES = "step-*.safetensors"  # the weights `slbench train` writes, one file per checkpoint

OTHER_COMMANDS_FILES = {
    METRICS_JSON: "the results of `slbench run` or `slbench utility`",
    METRICS_CSV: "the results of `slbench run` or `slbench utility`",
    GENERATE_JSON: "the images of `slbench generate`",
    CHECKPOINT_FILES: "the checkpoints of `slbench train`",
}
"""Files (names or glob patterns) that mark a folder as another command's output, and what they are."""


def refuse_other_commands_folder(folder: Path, option: str, holds: str, *, own: tuple[str, ...] = ()) -> None:
    """A user error when ``folder`` holds another command's output: ``option`` (e.g. ``--out``)
    must name a folder for ``holds`` (e.g. ``checkpoints``) alone, so neither output is mixed into
    the other. ``own`` lists the keys of :data:`OTHER_COMMANDS_FILES` the caller writes itself."""
    for pattern, what in OTHER_COMMANDS_FILES.items():
        if pattern in own:
            continue
        found = next((path for path in folder.glob(pattern) if path.is_file()), None)
        if found is not None:
            raise SlbenchError(f"{option} {folder} holds {what} ({found.name}), not {holds}; give a folder of its own")
