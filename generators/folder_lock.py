"""One writer per output folder: an exclusive ``flock`` on ``<folder>/.slbench.lock``.

Two ``slbench run``s (or two ``train``s) writing one folder at once would interleave their
files and overwrite each other's checkpoints, so the second is refused while the first holds
the lock. The kernel releases an ``flock`` when its holder exits, however it exits, so a lock
file left by a killed process never blocks anyone (the file stays; only the lock counts). The
file names the holder (pid and command) for the message the second process prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

LOCK_NAME = ".slbench.lock"


class FolderBusyError(RuntimeError):
    """Another process holds the folder's lock."""


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, command: str) -> Iterator[Path]:
    """Hold ``folder``'s lock (creating the folder) for the ``with`` block; raise
    :class:`FolderBusyError` at once, without waiting, when another process holds it.

    The lock file is never deleted: a process waiting on a deleted file's lock would think it
    holds the folder while a newcomer locks a new file of the same name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise FolderBusyError(
                f"{folder} is being written by another slbench process ({holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"pid {os.getpid()}: {command}\n".encode(), 0)
        yield path
    finally:
        os.close(descriptor)
