"""`slbench report`: re-render stored results as Markdown, LaTeX, wide CSV and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from reports.render import FORMATS, render_report
from reports.results import ResultsError
from slbench.console import print_warning
from slbench.errors import SlbenchError


def report(
    results: Annotated[
        list[Path],
        typer.Argument(help="One or more results folders (as written by `slbench run` or `slbench utility`)."),
    ],
    formats: Annotated[
        str,
        typer.Option("--format", "-f", help=f"Comma-separated formats among {', '.join(FORMATS)}."),
    ] = ",".join(FORMATS),
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            help="Folder for the report files (default: the results folder; for several, combined-<hash> beside them).",
        ),
    ] = None,
) -> None:
    """Render stored results (no model, no GPU); several folders are combined into one report."""
    written = write_report(results=results, formats=formats, out=out)
    for name, path in written.items():
        typer.echo(f"{name}: {path}")


def write_report(*, results: list[Path], formats: str, out: Path | None) -> dict[str, Path]:
    """Run :func:`reports.render.render_report`, turning bad input into an :class:`SlbenchError`."""
    try:
        return render_report(results, formats=formats, out=out, on_warning=print_warning)
    except ResultsError as err:
        raise SlbenchError(str(err)) from None
    except OSError as err:
        target = err.filename or out or "the output folder"
        reason = err.strerror or err
        raise SlbenchError(f"cannot write the report to {target}: {reason}; choose another --out") from None


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("report")(report)
