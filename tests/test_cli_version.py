"""`slbench --version` prints the installed distribution's version."""

from __future__ import annotations

import importlib.metadata

from typer.testing import CliRunner

from slbench.cli import app


def test_version_is_the_installed_one():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"slbench {importlib.metadata.version('slbench')}"
