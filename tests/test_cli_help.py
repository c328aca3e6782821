"""Every command's `--help` reads whole on an 80-column terminal: no word cut, no ragged lines."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from slbench.cli import app, reflowed_help


def _command_paths(command, path=()):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*path, name))


COMMAND_PATHS = list(_command_paths(typer.main.get_command(app)))


def test_every_command_is_listed():
    assert ("train",) in COMMAND_PATHS and ("reader-study", "score") in COMMAND_PATHS


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda path: " ".join(path) or "slbench")
def test_help_at_80_columns_cuts_no_word(path):
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "…" not in result.output


def test_hard_wrapped_docstring_prints_as_one_paragraph_per_blank_line():
    docstring = """First line
    goes on.

        Second paragraph,
        wrapped   in source.
    """
    assert reflowed_help(docstring) == "First line goes on.\n\nSecond paragraph, wrapped in source."


def test_command_help_keeps_no_line_break_inside_a_paragraph():
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert "the ranks share generation and feature extraction and rank 0 writes" in result.output
