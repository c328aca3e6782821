"""A reader that goes away (`slbench ... | head`) ends the command with the shell's code for SIGPIPE,
never with 1, which only a failed `slbench check` returns."""

from __future__ import annotations

import os
import subprocess
import sys

from slbench.errors import BROKEN_PIPE_EXIT_CODE


def exit_code_with_the_reader_gone(*args: str) -> int:
    """Run ``slbench args`` with stdout and stderr into a pipe whose reading end is already closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "slbench", *args], stdout=write, stderr=write,
                              env=os.environ | {"OMP_NUM_THREADS": "1"}, timeout=120)
    finally:
        os.close(write)
    return done.returncode


def test_help_into_a_closed_pipe_exits_with_the_sigpipe_code():
    assert exit_code_with_the_reader_gone("train", "--help") == BROKEN_PIPE_EXIT_CODE


def test_a_command_printing_into_a_closed_pipe_exits_with_the_sigpipe_code(synthetic_dataset):
    assert exit_code_with_the_reader_gone("data", "info", str(synthetic_dataset)) == BROKEN_PIPE_EXIT_CODE
