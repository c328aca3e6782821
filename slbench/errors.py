"""What a failed command says, and which exit code it ends with.

There are two kinds of failure, and a CI job must be able to tell them from each other and from a
failed ``slbench check`` (exit 1):

* a mistake the user can fix or a fault of the environment: an :class:`SlbenchError` raised by
  slbench itself, or an error the operating system or Python reports about the user's files
  (an unwritable, full or read-only disk, a path whose parent is a file, a name that is not
  UTF-8, a file nested too deeply to parse, memory running out). It ends with one line naming
  the thing and what to do, and exit code 2;
* anything else is a bug in slbench: a short message saying so and how to report it, and exit
  code :data:`INTERNAL_ERROR_EXIT_CODE`; ``SLBENCH_TRACEBACK=1`` shows the traceback.

:func:`describe_failure` makes that decision in one place; :mod:`slbench.cli` applies it to
every command.
"""

from __future__ import annotations

import errno

USER_ERROR_EXIT_CODE = 2
INTERNAL_ERROR_EXIT_CODE = 70  # EX_SOFTWARE in sysexits.h: an internal software error
INTERRUPTED_EXIT_CODE = 130  # the shell's code for a process stopped by Ctrl-C
SIGTERM_EXIT_CODE = 143  # 128 + 15, the shell's code for a process ended by SIGTERM
BROKEN_PIPE_EXIT_CODE = 141  # 128 + 13, the shell's code for a process ended by SIGPIPE (`| head`)
TRACEBACK_VARIABLE = "SLBENCH_TRACEBACK"


class SlbenchError(Exception):
    """Bad input or usage: a one-line reason, exit code 2."""

    exit_code = USER_ERROR_EXIT_CODE

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


_DISK_FULL = "free space there or choose another location"
_OS_ERROR_ADVICE = {
    errno.EACCES: "check its permissions or choose another location",
    errno.EPERM: "check its permissions or choose another location",
    errno.ENOSPC: _DISK_FULL,
    errno.EDQUOT: "the disk quota is used up; " + _DISK_FULL,
    errno.EFBIG: "the file is too large for that file system; choose another location",
    errno.EROFS: "that file system is read-only; choose a writable location",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "it is a folder where a file is expected; give a file",
    errno.ENOENT: "check that the path exists",
    errno.EEXIST: "something is already there; remove it or choose another path",
    errno.ENOTEMPTY: "the folder is not empty; empty it or choose another path",
    errno.ENAMETOOLONG: "shorten the path",
    errno.ELOOP: "the path loops through symbolic links; fix the link",
    errno.EXDEV: "the path crosses file systems; choose a location on one file system",
    errno.EMFILE: "too many files are open; raise the limit (ulimit -n) and try again",
    errno.ENFILE: "too many files are open; raise the limit (ulimit -n) and try again",
    errno.ENOMEM: "memory ran out; use a smaller --batch or fewer samples",
    errno.EIO: "the disk reported an input/output error; check the disk",
}


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` says that a disk (or the user's quota on it) has no room left."""
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def describe_failure(err: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for an exception that ended a command.

    User mistakes and environment faults give exit code 2; anything else is a bug and gives
    :data:`INTERNAL_ERROR_EXIT_CODE`.
    """
    reason = _user_fault(err)
    if reason is not None:
        return " ".join(reason.split()), USER_ERROR_EXIT_CODE
    detail = " ".join(str(err).split())[:300]
    return (
        f"internal error ({type(err).__name__}{': ' + detail if detail else ''}). This is a bug in slbench, "
        f"not a problem with your input: please report it with the command line and the traceback "
        f"({TRACEBACK_VARIABLE}=1 prints it) to the slbench maintainers",
        INTERNAL_ERROR_EXIT_CODE,
    )


def _user_fault(err: BaseException) -> str | None:
    if isinstance(err, SlbenchError):
        return str(err)
    if isinstance(err, OSError) and err.errno in _OS_ERROR_ADVICE:
        where = " -> ".join(str(name) for name in (err.filename, err.filename2) if name is not None)
        what = err.strerror or errno.errorcode.get(err.errno, "error")
        return f"{where + ': ' if where else ''}{what}; {_OS_ERROR_ADVICE[err.errno]}"
    if isinstance(err, UnicodeEncodeError):
        return (f"a file or folder name (or text) cannot be written as UTF-8 ({err.reason} at "
                f"{err.object[err.start:err.end]!r}); rename it with UTF-8 characters")
    if isinstance(err, UnicodeDecodeError):
        return f"a file that should be UTF-8 text is not ({err.reason}); check the input files"
    if isinstance(err, RecursionError):
        return "an input file is nested too deeply to read; check that it is the file slbench wrote"
    if isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError":
        return "memory ran out; use a smaller --batch, fewer samples or a smaller model"
    return None
