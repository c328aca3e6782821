"""Shared rich console and progress bar, so every command looks and behaves the same.

Progress and tables go to stderr; stdout stays free for machine-readable output
(``slbench check --json``). Rich reads markup in what it prints, so every path or name that
goes into a printed string passes through :func:`plain` (or :func:`labelled`, which takes its
message as plain text): a folder called ``a[/]b`` neither breaks the output nor restyles it.
"""

from __future__ import annotations

import contextlib
import os
import sys

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from slbench.errors import BROKEN_PIPE_EXIT_CODE
from slbench.progress_display import FittingProgress, PlainProgress


def silence_standard_streams() -> None:
    """Point stdout and stderr at /dev/null: after a broken pipe nothing more can be shown, and the
    flush at exit must not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


class SlbenchConsole(Console):
    """Rich's console, ending on a broken pipe (``slbench ... 2>&1 | head``) with the shell's code
    for SIGPIPE instead of rich's 1, which slbench keeps for a failed check."""

    def on_broken_pipe(self) -> None:
        silence_standard_streams()
        raise SystemExit(BROKEN_PIPE_EXIT_CODE)


# No emoji codes: a folder called ":smile:" is printed as written.
console = SlbenchConsole(stderr=True, emoji=False)

CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {
    0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
# tab and newline kept: the layout of multi-line text such as a caption
LAYOUT_KEEPING_ESCAPES = {code: text for code, text in CONTROL_ESCAPES.items() if code not in (0x09, 0x0A)}


def printable(text: str, *, keep_layout: bool = False) -> str:
    """``text`` with its control characters written as escapes (``\\n``, ``\\x1b``): a name holding
    a terminal escape sequence cannot restyle the terminal, nor one holding a newline break a
    line, unless ``keep_layout`` keeps newlines and tabs."""
    return text.translate(LAYOUT_KEEPING_ESCAPES if keep_layout else CONTROL_ESCAPES)


def plain(value: object) -> str:
    """``value`` as text that rich prints as written, markup characters included; its newlines and
    tabs are kept (captions are several lines), every other control character shown as an escape."""
    text = printable(str(value), keep_layout=True)
    body = text.rstrip("\\")
    trailing = len(text) - len(body)
    if not trailing:
        return escape(text)
    # Rich halves backslashes only where a tag follows them, so doubled trailing backslashes end on
    # an empty tag: a path ending in a backslash prints it once, whatever markup comes after it.
    return escape(body) + "\\" * (2 * trailing) + "[bold][/bold]"


def labelled(label: str, style: str, message: object = "") -> Text:
    """``label`` in ``style``, then ``message`` as plain text, e.g. ``labelled("error:", "bold red", reason)``."""
    return Text.assemble((label, style), " " if str(message) else "", printable(str(message)))


def is_interactive() -> bool:
    """Whether stderr is a terminal that redraws a progress bar in place (not a log file, CI or a pipe)."""
    return console.is_terminal and not console.is_dumb_terminal


def progress_columns(*extra_columns) -> tuple:
    """The standard columns of a terminal progress bar, with task-specific ones after the counts."""
    return (SpinnerColumn(), TextColumn("{task.description}", style="bold", markup=False), BarColumn(),
            MofNCompleteColumn(), *extra_columns, TimeElapsedColumn(), TimeRemainingColumn())


def make_progress(*extra_columns, transient: bool = False) -> Progress:
    """A progress bar with the standard columns, plus any task-specific ones (losses, rates): on a
    terminal, fitted to its width; otherwise plain periodic lines (see :mod:`slbench.progress_display`)."""
    if not is_interactive():
        return PlainProgress(TextColumn("{task.description}"), *extra_columns, console=console,
                             extra_columns=extra_columns, transient=transient)
    return FittingProgress(*progress_columns(*extra_columns), console=console, transient=transient)


def print_warning(text: str) -> None:
    """One warning line on stderr; ``text`` is shown literally (no rich markup)."""
    console.print(f"[bold yellow]warning:[/] {plain(text)}", highlight=False)
