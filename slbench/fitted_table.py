"""Wide rich tables that stay readable on a narrow console.

Rich fits a table to the console by wrapping its cells and, where that is not enough, by
cutting words to ``…`` or folding them mid-word: an 80-column terminal showed the results table
as ``sl-s…`` and ``+3.4…``. Two layouts avoid that:

* :class:`FittedTable`, for tables of values (results, tracks, curves, checks), prints whole when it fits
  on one line per row. Otherwise it stacks each cell's parts (a value above its interval) and
  prints as several tables one above the other, each holding as many value columns as fit beside
  the key columns, which every part repeats; the title goes above the first part and the
  caption, at the console's width, below the last.
* :class:`RecordTable`, for listings of a few items with long names and paths, prints one block
  of ``field  value`` lines per item where the table's words do not fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

Cell = str | Text | tuple[str, ...]
"""A cell: rich markup or text, or the parts of one value (a value and its interval), printed side
by side when the table is whole and one above the other when it is split."""

UNBOUNDED = 100_000


@dataclass(frozen=True)
class Column:
    """A column's header and the layout of its cells."""

    header: str
    justify: str = "right"
    no_wrap: bool = False


class FittedTable:
    """Key columns and value columns, the values laid out in as few tables as the console allows.

    ``rows`` holds, per row, its key cells and its value cells. The title, the caption and string
    cells are rich markup, as in a :class:`rich.table.Table`: the caller escapes them."""

    def __init__(self, *, title: str, keys: Sequence[Column], values: Sequence[Column],
                 rows: Sequence[tuple[Sequence[Cell], Sequence[Cell]]], caption: str = "") -> None:
        self.title, self.caption = title, caption
        self.keys, self.values = list(keys), list(values)
        self.rows = [(list(key_cells), list(value_cells)) for key_cells, value_cells in rows]

    def table(self, columns: Sequence[int], *, stacked: bool) -> Table:
        """A table of the key columns and the value columns ``columns`` (by index), without title or caption."""
        table = Table()
        for column in (*self.keys, *(self.values[index] for index in columns)):
            table.add_column(column.header, justify=column.justify, no_wrap=column.no_wrap)
        separator = "\n" if stacked else " "
        for key_cells, value_cells in self.rows:
            cells = (*key_cells, *(value_cells[index] for index in columns))
            table.add_row(*(separator.join(cell) if isinstance(cell, tuple) else cell for cell in cells))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        whole = self.table(range(len(self.values)), stacked=False)
        if _natural_width(whole, console, options) <= options.max_width:
            whole.title, whole.title_justify = self.title, "left"
            whole.caption, whole.caption_justify = self.caption or None, "left"
            yield whole
            return
        for index, group in enumerate(self._groups(console, options)):
            part = self.table(group, stacked=True)
            if index == 0:
                part.title, part.title_justify = self.title, "left"
            yield part
        if self.caption:
            yield Text.from_markup(self.caption, style="table.caption")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table(range(len(self.values)), stacked=False))

    def _groups(self, console: Console, options: ConsoleOptions) -> Iterator[list[int]]:
        """Consecutive value columns, each group the most that fit, stacked, without wrapping."""
        group: list[int] = []
        for column in range(len(self.values)):
            wider = [*group, column]
            if group and _natural_width(self.table(wider, stacked=True), console, options) > options.max_width:
                yield group
                wider = [column]
            group = wider
        yield group


def _natural_width(table: Table, console: Console, options: ConsoleOptions) -> int:
    """The columns ``table`` takes with no cell wrapped."""
    return _unclamped(table, console, options).maximum


def _unclamped(table: Table, console: Console, options: ConsoleOptions) -> Measurement:
    """The widths ``table`` takes at its narrowest (no word cut) and widest (no cell wrapped), not
    clamped to the console's width as :meth:`rich.measure.Measurement.get` would."""
    return table.__rich_measure__(console, options.update_width(UNBOUNDED))


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
        if _unclamped(table, console, options).minimum <= options.max_width:
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
