"""The ``slbench`` command line: one typer app, one module per command group.

Each command module exposes ``register(app)``; commands are thin and hand off to plain
keyword-only functions in the library, so tests can call either. Every command callback is
wrapped once here so that an :class:`~slbench.errors.SlbenchError` anywhere below prints a
single ``error: ...`` line and exits with code 2, under the console script and typer's
``CliRunner`` alike.
"""

from __future__ import annotations

import functools
from typing import Callable

import typer
from rich.markup import escape

from slbench.cli import (
    check_cmd,
    data_cmd,
    demo_cmd,
    features_cmd,
    generate_cmd,
    reader_study_cmd,
    report_cmd,
    run_cmd,
    track_cmd,
    train_cmd,
    utility_cmd,
)
from slbench.console import console
from slbench.errors import SlbenchError

COMMAND_MODULES = (
    data_cmd,
    train_cmd,
    generate_cmd,
    features_cmd,
    run_cmd,
    track_cmd,
    check_cmd,
    report_cmd,
    utility_cmd,
    reader_study_cmd,
    demo_cmd,
)


def reporting_user_errors(callback: Callable) -> Callable:
    """Turn an SlbenchError raised by a command into one line on stderr and exit code 2."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except SlbenchError as err:
            console.print(f"[bold red]error:[/] {escape(str(err))}", soft_wrap=True, highlight=False)
            raise typer.Exit(err.exit_code) from None

    return wrapper


def _wrap_commands(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        info.callback = reporting_user_errors(info.callback)
    for group in typer_app.registered_groups:
        _wrap_commands(group.typer_instance)


def build_app() -> typer.Typer:
    typer_app = typer.Typer(
        name="slbench",
        help="Evaluate GANs that synthesise dermoscopic skin-lesion images, per lesion class.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )
    for module in COMMAND_MODULES:
        module.register(typer_app)
    _wrap_commands(typer_app)
    return typer_app


app = build_app()


def main() -> None:
    """Console-script entry point."""
    app()
