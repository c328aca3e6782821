"""Wide rich tables that stay readable on a narrow console.

Rich fits a table to the console by wrapping its cells and, where that is not enough, by
cutting words to ``…`` or folding them mid-word: an 80-column terminal showed the results table
as ``sl-s…`` and ``+3.4…``. Two layouts avoid that:

* :class:`FittedTable`, for tables of values (results, tracks, curves), prints whole when it fits
  on one line per row. Otherwise it stacks each cell's parts (a value above its interval) and
  prints as several tables one above the other, each holding as many value columns as fit beside
  the key columns, which every part repeats; the title goes above the first part and the
  caption, at the console's width, below the last.
* :class:`RecordTable`, for listings of a few items with long names and paths, prints one block
  of ``field  value`` lines per item where the table's words do not fit.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

BuildTable = Callable[[Sequence[int], bool], Table]
"""``build(value_columns, stacked)``: the table with those value columns (by index), without title
or caption, each cell's parts on lines of their own when ``stacked``."""

UNBOUNDED = 100_000


class FittedTable:
    """``count`` value columns, laid out by ``build`` in as few tables as the console's width allows.

    ``title`` and ``caption`` are rich markup (escaped by the caller)."""

    def __init__(self, build: BuildTable, count: int, *, title: str, caption: str = "") -> None:
        self.build = build
        self.count = count
        self.title = title
        self.caption = caption

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        whole = self.build(range(self.count), False)
        if _natural_width(whole, console, options) <= options.max_width:
            whole.title, whole.title_justify = self.title, "left"
            whole.caption, whole.caption_justify = self.caption or None, "left"
            yield whole
            return
        for index, group in enumerate(self._groups(console, options)):
            part = self.build(group, True)
            if index == 0:
                part.title, part.title_justify = self.title, "left"
            yield part
        if self.caption:
            yield Text.from_markup(self.caption, style="table.caption")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.build(range(self.count), False))

    def _groups(self, console: Console, options: ConsoleOptions) -> Iterator[list[int]]:
        """Consecutive value columns, each group the most that fit, stacked, without wrapping."""
        group: list[int] = []
        for column in range(self.count):
            wider = [*group, column]
            if group and _natural_width(self.build(wider, True), console, options) > options.max_width:
                yield group
                wider = [column]
            group = wider
        yield group


def _natural_width(table: Table, console: Console, options: ConsoleOptions) -> int:
    """The columns ``table`` takes with no cell wrapped (measured unclamped by the console)."""
    return table.__rich_measure__(console, options.update_width(UNBOUNDED)).maximum


class RecordTable:
    """A listing, one row per item, that prints as a table where every word of it fits the console
    and otherwise as one block of ``field  value`` lines per item, so no name or path is broken.

    The title and string cells are rich markup, as in a :class:`rich.table.Table`: escape them."""

    def __init__(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[str | Text]]) -> None:
        self.title = title
        self.headers = list(headers)
        self.rows = [list(row) for row in rows]

    def table(self) -> Table:
        table = Table(title=self.title)
        for header in self.headers:
            table.add_column(header, overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.table()
        if table.__rich_measure__(console, options.update_width(UNBOUNDED)).minimum <= options.max_width:
            yield table
            return
        yield Text.from_markup(self.title, style="table.title")
        for row in self.rows:
            block = Table.grid(padding=(0, 2))
            block.add_column(style="bold", no_wrap=True)
            block.add_column(overflow="fold")
            for header, value in zip(self.headers, row):
                block.add_row(header, value)
            yield Text()
            yield block

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table())
