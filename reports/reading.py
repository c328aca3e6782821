"""Reading files out of a results folder: regular files inside it, and nothing else.

A results folder may come from someone else. Its ``metrics.json`` names the artifacts to
embed, and the files themselves may be anything: a symbolic link to a private file elsewhere
(which the HTML page would then carry, base64-encoded, to whoever it is sent to), a FIFO that
blocks a reader forever, or a device. So a file is read only when its real path, links
resolved, lies inside the folder's real path, and only after opening it without blocking
(``O_NONBLOCK``, so a FIFO without writer does not hang) and without following a final link
(``O_NOFOLLOW``) shows a regular file of a sane size.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 256 * 1024 * 1024
OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
KIND_NAMES = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
    stat.S_IFLNK: "a symbolic link",
}


class RefusedFile(ValueError):
    """A file that is not read: missing, outside its folder, not a regular file, or too large."""


class MissingFile(RefusedFile):
    """The file does not exist (or cannot be opened for another plain reason)."""


def read_inside(folder: str | os.PathLike, path: str | os.PathLike, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file whose real path lies inside ``folder``.

    Raises :class:`RefusedFile` with a one-line reason otherwise (:class:`MissingFile` when
    it simply is not there).
    """
    path = Path(path)
    root = os.path.realpath(folder)
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root:
        raise RefusedFile(f"{path} leads outside the results folder {folder} (to {real}); refusing to read it")
    try:
        descriptor = os.open(real, OPEN_FLAGS)
    except FileNotFoundError:
        raise MissingFile(f"cannot read {path}: it does not exist") from None
    except OSError as err:
        raise MissingFile(f"cannot read {path}: {err.strerror or err}") from None
    try:
        return _read_regular(descriptor, path, max_bytes)
    finally:
        os.close(descriptor)


def _read_regular(descriptor: int, path: Path, max_bytes: int) -> bytes:
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        kind = KIND_NAMES.get(stat.S_IFMT(info.st_mode), "something else")
        raise RefusedFile(f"{path} is {kind}, not a regular file; refusing to read it")
    if info.st_size > max_bytes:
        raise RefusedFile(f"{path} is {info.st_size} bytes, more than the {max_bytes} a results file may have")
    chunks, total = [], 0
    while chunk := os.read(descriptor, 1 << 20):
        total += len(chunk)
        if total > max_bytes:
            raise RefusedFile(f"{path} grew past the {max_bytes} bytes a results file may have while being read")
        chunks.append(chunk)
    return b"".join(chunks)
