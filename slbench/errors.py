"""The one exception type for mistakes a user can fix.

An :class:`SlbenchError` carries a one-line message that says what is wrong and what to do.
Every CLI command prints it without a traceback and exits with code 2 (see
:mod:`slbench.cli`).
"""

from __future__ import annotations


class SlbenchError(Exception):
    """Bad input or usage: a one-line reason, exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
