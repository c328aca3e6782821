"""Reading the label tables that come with the datasets (ground truth, metadata, lesion groupings).

The official files are comma-separated; copies passed around as ``.tab`` or re-saved by a
spreadsheet may use tabs or semicolons and carry a byte-order mark, so the delimiter is sniffed
from the header line. A table that cannot be read is a user error: without it no label is known.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from slbench.errors import SlbenchError


@dataclass(frozen=True)
class Table:
    """A CSV file as its header (stripped names) and rows (dicts from header name to stripped cell).

    Every row has every column: the cells a short row lacks read as empty, so a malformed row
    becomes an empty label (reported as a problem by whoever reads it), never a missing key.
    """

    path: Path
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]

    def require_columns(self, *names: str) -> None:
        missing = [name for name in names if name not in self.header]
        if missing:
            raise SlbenchError(
                f"{self.path} lacks the column(s) {', '.join(missing)} (it has {', '.join(self.header) or 'none'}); "
                "use the file as published"
            )


def read_table(path: Path) -> Table:
    """Read a delimited text table; an unreadable or empty file is an :class:`SlbenchError`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise SlbenchError(f"cannot read {path} ({err.__class__.__name__}: {err}); check the file") from err
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise SlbenchError(f"{path} is empty: it needs a header line and one row per image")
    delimiter = max((",", "\t", ";"), key=lines[0].count)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = tuple(name.strip() for name in next(reader))
        rows = []
        for row in reader:
            if not any(c.strip() for c in row):
                continue
            if any(c.strip() for c in row[len(header):]):
                raise SlbenchError(f"{path} line {reader.line_num} has {len(row)} cells under a header of "
                                   f"{len(header)}; check the file (a cell holding {delimiter!r} must be quoted)")
            rows.append({name: cell.strip() for name, cell in zip(header, [*row, *[""] * (len(header) - len(row))])})
    except csv.Error as err:
        raise SlbenchError(f"{path} is not a readable CSV table ({err}); check the file") from err
    return Table(path=path, header=header, rows=tuple(rows))
