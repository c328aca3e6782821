"""The ``slbench`` command line: one typer app, one module per command group.

Each command module exposes ``register(app)``; commands are thin and hand off to plain
keyword-only functions in the library, so tests can call either. Every command's help is
reflowed to the terminal's width, and its callback wrapped once here: whatever ends a command
early prints one ``error: ...`` line, never a traceback, and exits with the code
:func:`slbench.errors.describe_failure` gives it (2 for a user mistake or an environment fault,
70 for a bug, 130 for Ctrl-C; 1 stays reserved for a failed ``slbench check``), under the
console script and typer's ``CliRunner`` alike.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import inspect
import os
import traceback
from typing import Annotated, Callable

import rich.console
import typer
from typer.core import TyperGroup

from slbench.cli import (
    check_cmd,
    data_cmd,
    demo_cmd,
    features_cmd,
    generate_cmd,
    pool_cmd,
    protocols_cmd,
    reader_study_cmd,
    report_cmd,
    run_cmd,
    track_cmd,
    train_cmd,
    utility_cmd,
)
from slbench.console import SlbenchConsole, console, labelled, silence_standard_streams
from slbench.errors import BROKEN_PIPE_EXIT_CODE, INTERRUPTED_EXIT_CODE, TRACEBACK_VARIABLE, describe_failure

COMMAND_MODULES = (
    data_cmd,
    train_cmd,
    generate_cmd,
    features_cmd,
    protocols_cmd,
    run_cmd,
    track_cmd,
    check_cmd,
    report_cmd,
    pool_cmd,
    utility_cmd,
    reader_study_cmd,
    demo_cmd,
)


def reporting_failures(callback: Callable) -> Callable:
    """Turn any exception that ends a command into one line on stderr and its exit code."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            console.print(labelled("interrupted", "bold yellow"))
            raise typer.Exit(INTERRUPTED_EXIT_CODE) from None
        except BrokenPipeError:
            silence_standard_streams()  # the reader of stdout went away (`| head`)
            raise typer.Exit(BROKEN_PIPE_EXIT_CODE) from None
        except Exception as err:  # noqa: BLE001 - the one place every failure is reported
            message, code = describe_failure(err)
            if os.environ.get(TRACEBACK_VARIABLE):
                traceback.print_exc()
            console.print(labelled("error:", "bold red", message), soft_wrap=True)
            raise typer.Exit(code) from None

    return wrapper


USAGE_ERROR = next(base for base in typer.BadParameter.__mro__ if base.__name__ == "UsageError")
"""The usage error of the click that typer runs on (its own copy in newer typer releases, click itself
in older ones): every mistake on the command line, unknown options and commands included."""


class OneLineUsageErrors(TyperGroup):
    """The top-level group: a mistake on the command line (an unknown command or option, an option
    value a command cannot accept such as ``--seed 1e23`` or ``--kimg nan``, a missing required
    option) is reported like every other mistake, in one ``error:`` line pointing at ``--help``,
    exit 2, instead of click's framed usage panel."""

    def make_context(self, info_name, args, parent=None, **extra):
        with _one_line_usage_errors(info_name or "slbench"):
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: typer.Context):
        with _one_line_usage_errors(ctx.command_path):
            return super().invoke(ctx)


@contextlib.contextmanager
def _one_line_usage_errors(command_path: str):
    try:
        yield
    except USAGE_ERROR as err:
        if type(err).__name__ == "NoArgsIsHelpError":  # a group called bare shows its help
            raise
        where = err.ctx.command_path if err.ctx is not None else command_path
        console.print(labelled("error:", "bold red", f"{err.format_message().rstrip('.')}; see `{where} --help`"),
                      soft_wrap=True)
        raise typer.Exit(err.exit_code) from None


def reflowed_help(text: str) -> str:
    """``text`` with each paragraph on one line.

    Typer's help keeps every line break of a docstring, so source wrapped at 100 columns would
    print with a short line every other line; rich wraps a one-line paragraph to the terminal.
    """
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def _wrap_commands(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        info.help = reflowed_help(info.help or inspect.getdoc(info.callback) or "")
        info.callback = reporting_failures(info.callback)
    for group in typer_app.registered_groups:
        _wrap_commands(group.typer_instance)


def installed_version() -> str:
    """The version the installed distribution records, else the package's own."""
    try:
        return importlib.metadata.version("slbench")
    except importlib.metadata.PackageNotFoundError:
        from slbench import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        print(f"slbench {installed_version()}")
        raise typer.Exit()


def _global_options(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    """Evaluate GANs that synthesise dermoscopic skin-lesion images, per lesion class."""


def build_app() -> typer.Typer:
    typer_app = typer.Typer(
        name="slbench",
        cls=OneLineUsageErrors,
        help="Evaluate GANs that synthesise dermoscopic skin-lesion images, per lesion class.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )
    typer_app.callback()(_global_options)
    for module in COMMAND_MODULES:
        module.register(typer_app)
    _wrap_commands(typer_app)
    return typer_app


app = build_app()


def main() -> None:
    """Console-script entry point.

    Typer prints the help pages through rich consoles of its own; in the command-line program
    they too end a broken pipe with SIGPIPE's exit code instead of rich's 1."""
    rich.console.Console.on_broken_pipe = SlbenchConsole.on_broken_pipe
    app()
