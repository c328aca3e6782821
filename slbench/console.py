"""Shared rich console and progress bar, so every command looks and behaves the same.

Progress and tables go to stderr; stdout stays free for machine-readable output
(``slbench check --json``). The console reads no rich markup: every string it prints, a path
or name included, appears as written (a folder called ``a[/]b`` neither breaks the output nor
restyles it). Styles come from :func:`labelled` or explicit ``style=`` arguments.
"""

from __future__ import annotations

from rich.console import Console
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

console = Console(stderr=True, markup=False, highlight=False)


def labelled(label: str, style: str, message: object = "") -> Text:
    """``label`` in ``style``, then ``message`` as plain text, e.g. ``labelled("error:", "bold red", reason)``."""
    return Text.assemble((label, style), " " if str(message) else "", str(message))


def make_progress(*extra_columns, transient: bool = False) -> Progress:
    """A progress bar with the standard columns, plus any task-specific ones (losses, rates)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        *extra_columns,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    )
