"""Progress in a log file (plain lines at a bounded rate) and on an 80-column terminal (nothing cut)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import TextColumn

import slbench.console
from slbench.progress_display import PLAIN_INTERVAL_S, PLAIN_MIN_GAP_S, FittingProgress, PlainProgress

ROOT = Path(__file__).resolve().parents[1]
ESCAPE = "\x1b"
STATUS = "12.34 kimg  D 0.123  G 0.456  123.4 img/s"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _plain(clock: Clock) -> tuple[PlainProgress, io.StringIO]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80)
    extra = (TextColumn("{task.fields[status]}"),)
    return PlainProgress(TextColumn("{task.description}"), *extra, console=console, extra_columns=extra,
                         get_time=clock), buffer


def _lines(buffer: io.StringIO) -> list[str]:
    text = buffer.getvalue()
    assert "\r" not in text and ESCAPE not in text
    return text.splitlines()


@pytest.mark.parametrize(("steps", "seconds_per_step"), [(1000, 0.1), (1000, 0.001), (50, 7.0), (5000, 0.2)])
def test_plain_lines_come_at_a_bounded_rate_and_end_with_the_total(steps, seconds_per_step):
    clock = Clock()
    progress, buffer = _plain(clock)
    with progress:
        task = progress.add_task("training dcgan MEL", total=steps, status="")
        for _ in range(steps):
            clock.now += seconds_per_step
            progress.update(task, advance=1, status=STATUS)
    lines = _lines(buffer)
    duration = steps * seconds_per_step
    assert 1 <= len(lines) <= 10 + duration / PLAIN_INTERVAL_S + 1
    assert len(lines) <= duration / PLAIN_MIN_GAP_S + 1
    assert lines[-1].startswith(f"training dcgan MEL: {steps}/{steps} (100%), ")
    assert lines[-1].endswith(", " + " ".join(STATUS.split()))
    for line in lines:
        assert re.match(r"training dcgan MEL: \d+/\d+ \(\d+%\), .*elapsed \d+:\d\d:\d\d", line), line
    if duration >= 20 * PLAIN_MIN_GAP_S:  # slow enough for a line per tenth
        assert len(lines) >= 10 and "remaining" in lines[0]


def test_a_task_without_total_or_progress_stays_quiet_between_intervals():
    clock = Clock()
    progress, buffer = _plain(clock)
    task = progress.add_task("waiting", total=None, status="")
    for _ in range(100):
        clock.now += 1.0
        progress.update(task, status="")
    lines = _lines(buffer)
    assert len(lines) == int(100 // PLAIN_INTERVAL_S)
    assert lines[0].startswith("waiting: 0, elapsed")


def test_a_terminal_of_80_columns_keeps_counts_and_losses_whole():
    for description in ("sl-stylegan MEL", "sl-stylegan/MEL: extracting features of the generated images " * 2):
        for extra in ((TextColumn("{task.fields[status]}"),), ()):
            buffer = io.StringIO()
            console = Console(file=buffer, width=80, force_terminal=True, color_system=None)
            progress = FittingProgress(*slbench.console.progress_columns(*extra), console=console)
            progress.add_task(description, total=10000, completed=1234, status=STATUS)
            console.print(progress.get_renderable())
            lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
            assert len(lines) == 1, lines
            assert len(lines[0]) <= 80
            assert "1234/10000" in lines[0]
            assert (STATUS in lines[0]) == bool(extra)
            assert re.search(r"\d:\d\d:\d\d", lines[0])


def test_make_progress_is_plain_when_stderr_is_no_terminal(monkeypatch):
    monkeypatch.setattr(slbench.console, "console", Console(file=io.StringIO()))
    assert isinstance(slbench.console.make_progress(), PlainProgress)
    monkeypatch.setattr(slbench.console, "console", Console(file=io.StringIO(), force_terminal=True))
    assert isinstance(slbench.console.make_progress(), FittingProgress)


@pytest.mark.usefixtures("one_thread")
def test_train_into_a_log_file_writes_plain_progress_lines(synthetic_dataset, tmp_path):
    log = tmp_path / "train.log"
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "COLUMNS": "80"}
    environment.pop("FORCE_COLOR", None)
    with open(log, "w") as handle:
        completed = subprocess.run(
            [sys.executable, "-m", "slbench", "train", "--model", "dcgan", "--category", "MEL", "--data",
             str(synthetic_dataset), "--resolution", "32", "--batch", "4", "--steps", "30", "--set", "ngf=4",
             "--set", "ndf=4", "--out", str(tmp_path / "checkpoints")],
            stdout=subprocess.DEVNULL, stderr=handle, env=environment, timeout=300,
        )
    assert completed.returncode == 0, log.read_text()
    text = log.read_text()
    assert "\r" not in text and ESCAPE not in text
    progress = [line for line in text.splitlines() if re.search(r": \d+/30 \(\d+%\)", line)]
    assert progress and progress[-1].split(": ", 1)[1].startswith("30/30 (100%)")
    assert "kimg" in progress[-1] and "img/s" in progress[-1]
    assert len(progress) <= 12
