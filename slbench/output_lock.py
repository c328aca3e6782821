"""The lock a command holds on its output folder while it writes there."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from generators.folder_lock import FolderBusyError, folder_lock
from generators.safe_io import remove_partial_writes
from slbench.errors import SlbenchError


@contextlib.contextmanager
def locked_output_folder(folder: Path, command: str) -> Iterator[None]:
    """Hold ``folder``'s lock for ``command`` and clear what an interrupted write left there;
    a folder another process holds is a one-line user error."""
    try:
        with folder_lock(folder, command):
            remove_partial_writes(folder)
            yield
    except FolderBusyError as err:
        raise SlbenchError(str(err)) from None
