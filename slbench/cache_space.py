"""Writing to the caches without letting a full disk stop the work they only speed up.

A cache entry is an optimisation: when its disk (or the user's quota) is full, or the cache
folder cannot be written, the command goes on without storing it and says so once.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Callable

from slbench.console import console, labelled
from slbench.errors import is_disk_full

_CANNOT_WRITE = (errno.EACCES, errno.EPERM, errno.EROFS)
_warned: set[str] = set()


def store_in_cache(write: Callable[[], object], path: Path) -> bool:
    """Run ``write`` (which stores ``path``); on a full or unwritable cache warn once and return False."""
    try:
        write()
    except OSError as err:
        if not (is_disk_full(err) or err.errno in _CANNOT_WRITE):
            raise
        folder = str(path.parent)
        if folder not in _warned:
            _warned.add(folder)
            console.print(labelled("warning:", "yellow", f"cannot store cache entries in {folder} "
                                   f"({err.strerror}); continuing without the cache there. Free space or set "
                                   "SLBENCH_CACHE to another folder"), soft_wrap=True)
        return False
    return True
