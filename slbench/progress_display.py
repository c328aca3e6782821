"""The two faces of slbench's progress bars: a rich bar that fits the terminal, and plain lines for logs.

On a terminal, :class:`FittingProgress` lays its columns out for the console's width: counts,
losses and times are never cut; the bar gets what room is left and is dropped when there is
too little, then the description is shortened. When stderr is not a terminal (a log file, a
CI job, ``| tee``), a redrawn bar would be carriage returns and escape codes in the file, or
nothing at all until the end, so :class:`PlainProgress` prints one plain line per task each
time it passes another tenth of its total, or :data:`PLAIN_INTERVAL_S` seconds after its last
line, never more than one line per :data:`PLAIN_MIN_GAP_S` seconds (its last line always):
``description: done/total (percent), rate, elapsed, remaining, then the extra columns``.
"""

from __future__ import annotations

import math
from typing import Iterable

from rich.console import Console
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.table import Column, Table
from rich.text import Text

PLAIN_INTERVAL_S = 30.0  # a line at least this often while a task moves
PLAIN_MIN_GAP_S = 2.0  # and never two lines of one task closer than this, but for its last
MIN_BAR_WIDTH = 10  # a narrower bar says nothing; it is dropped instead
MAX_BAR_WIDTH = 40


class FittingProgress(Progress):
    """A rich progress bar whose row never wraps: see the module docstring for what gives way first."""

    def make_tasks_table(self, tasks: Iterable[Task]) -> Table:
        tasks = [task for task in tasks if task.visible]
        if not tasks or not hasattr(self, "live"):  # rich lays out an empty table while it is built
            return super().make_tasks_table(tasks)
        widths = [self._column_width(column, tasks) for column in self.columns]
        kept = [i for i, column in enumerate(self.columns) if not isinstance(column, BarColumn)]
        fixed = sum(widths[i] for i in kept if not self._is_description(i)) + len(kept) - 1
        description = max((widths[i] for i in kept if self._is_description(i)), default=0)
        room = self.console.width - fixed
        bar_width = min(MAX_BAR_WIDTH, room - description - 1)
        shown = list(range(len(self.columns))) if bar_width >= MIN_BAR_WIDTH else kept
        table = Table.grid(*(self._table_column(i, max(room, 1)) for i in shown), padding=(0, 1))
        for task in tasks:
            cells = []
            for i in shown:
                column = self.columns[i]
                if isinstance(column, BarColumn):
                    column.bar_width = bar_width
                cells.append(column.format(task=task) if isinstance(column, str) else column(task))
            table.add_row(*cells)
        return table

    def _is_description(self, index: int) -> bool:
        column = self.columns[index]
        return isinstance(column, TextColumn) and "task.description" in column.text_format

    def _table_column(self, index: int, description_room: int) -> Column:
        column = self.columns[index]
        if self._is_description(index):
            return Column(no_wrap=True, overflow="ellipsis", max_width=description_room)
        if isinstance(column, str):
            return Column(no_wrap=True)
        table_column = column.get_table_column().copy()
        table_column.no_wrap = True
        return table_column

    def _column_width(self, column: str | ProgressColumn, tasks: list[Task]) -> int:
        if isinstance(column, BarColumn):
            return 0
        widths = [Measurement.get(self.console, self.console.options,
                                  column.format(task=task) if isinstance(column, str) else column(task)).maximum
                  for task in tasks]
        return max(widths, default=0)


class PlainProgress(Progress):
    """Progress as plain lines for logs (see the module docstring); nothing is ever redrawn."""

    def __init__(self, *columns: str | ProgressColumn, console: Console, extra_columns: tuple = (), **kwargs) -> None:
        super().__init__(*columns, console=console, disable=True, **kwargs)
        self.extra_columns = extra_columns
        self._last_line: dict[TaskID, tuple[float, int]] = {}  # time of the task's last line, tenth it showed

    def add_task(self, *args, **kwargs) -> TaskID:
        task_id = super().add_task(*args, **kwargs)
        self._last_line[task_id] = (self.get_time(), self._tenth(self._tasks[task_id]))
        return task_id

    def update(self, task_id: TaskID, *args, **kwargs) -> None:
        super().update(task_id, *args, **kwargs)
        self._maybe_print(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._maybe_print(task_id)

    def remove_task(self, task_id: TaskID) -> None:
        super().remove_task(task_id)
        self._last_line.pop(task_id, None)

    def _maybe_print(self, task_id: TaskID) -> None:
        task = self._tasks.get(task_id)
        if task is None or task_id not in self._last_line:
            return
        now, (last_time, last_tenth) = self.get_time(), self._last_line[task_id]
        tenth = self._tenth(task)
        if task.finished:
            due = True
        elif now - last_time < PLAIN_MIN_GAP_S:
            due = False
        else:
            due = tenth > last_tenth or now - last_time >= PLAIN_INTERVAL_S
        if due:
            self.console.print(self.line(task), markup=False, highlight=False, soft_wrap=True, crop=False)
            if task.finished:
                del self._last_line[task_id]
            else:
                self._last_line[task_id] = (now, tenth)

    def line(self, task: Task) -> str:
        """``description: done/total (percent), rate, elapsed, remaining, extras`` for one task."""
        done = _count(task.completed)
        parts = [f"{done}/{_count(task.total)} ({task.percentage:.0f}%)" if task.total else done]
        if task.speed:
            parts.append(f"{task.speed:.3g}/s")
        parts.append(f"elapsed {_duration(task.finished_time if task.finished else task.elapsed)}")
        if not task.finished and task.time_remaining is not None:
            parts.append(f"remaining {_duration(task.time_remaining)}")
        for column in self.extra_columns:
            rendered = column.format(task=task) if isinstance(column, str) else column(task)
            text = rendered.plain if isinstance(rendered, Text) else str(rendered)
            if text.strip():
                parts.append(" ".join(text.split()))
        return f"{task.description}: " + ", ".join(parts)

    @staticmethod
    def _tenth(task: Task) -> int:
        return int(10 * task.completed // task.total) if task.total else 0


def _count(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
