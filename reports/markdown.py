"""Markdown rendering of the wide tables (GitHub-flavoured pipe tables).

Same content as the LaTeX tables: models as rows, ``<category> <metric> <arrow>`` as columns,
the best value per column in bold, ``± half-width`` of the confidence interval, a dagger on
low-reliability values and lettered notes under each table.
"""

from __future__ import annotations

import re

from reports.captions import DAGGER, caption, direction_arrow, table_notes
from reports.formatting import format_interval, format_number
from reports.names import metric_label
from reports.plain_text import one_line
from reports.results import ResultSet
from reports.tables import MAX_TABLE_COLUMNS, Cell, Column, WideTable, split_columns

MARKDOWN_SPECIALS = "\\`*_[]<>|#~$&"
"""Inline markup: emphasis, code spans, links, raw HTML and entities, cell borders, GitHub's
strikethrough and math. Each is backslash-escaped, which CommonMark allows for any ASCII
punctuation."""
BLOCK_MARKER = re.compile(r"^(\s*)([-+=]|\d+[.)])")
"""What opens a list, a setext heading underline or an ordered list at the start of a line."""


def md_escape(text: str) -> str:
    """Text Markdown shows as it is, on one line: no markup, no raw HTML, no cell border.

    Line breaks become spaces (:func:`reports.plain_text.one_line`), so a name cannot end a
    table row or start a block of its own; a leading list or heading marker is escaped too,
    for strings that open a line (notes).
    """
    escaped = "".join(f"\\{ch}" if ch in MARKDOWN_SPECIALS else ch for ch in one_line(text))
    return BLOCK_MARKER.sub(lambda match: f"{match.group(1)}{match.group(2)[:-1]}\\{match.group(2)[-1]}", escaped)


def md_code(text: str) -> str:
    """``text`` as one code span whatever it holds: the fence is one backtick longer than any
    run of backticks inside, so none can close it (code spans read no other markup)."""
    text = one_line(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def render_markdown(result_set: ResultSet, tables: list[WideTable]) -> str:
    """The whole Markdown report: a heading naming the runs, then every table with its notes."""
    runs = ", ".join(md_code(run.label) for run in result_set.runs())
    lines = ["# slbench report", "", f"Results: {runs}.", ""]
    for table in tables:
        lines.extend(markdown_table(table))
    return "\n".join(lines).rstrip("\n") + "\n"


def markdown_table(table: WideTable) -> list[str]:
    """One table as Markdown lines: heading, caption, pipe tables (split when wide), notes."""
    lines = [f"## {md_escape(table.heading)}", "", md_escape(caption(table)), ""]
    budget = ["kimg"] if table.shows_budget else []
    for part in split_columns(table, MAX_TABLE_COLUMNS):
        headers = [_header_cell(column, table.column_mark(column)) for column in part.columns]
        lines.append(_row([table.row_heading] + budget + headers))
        lines.append(_row([":--"] + ["--:"] * (len(budget) + len(part.columns))))
        for model in part.models:
            cells = [_cell_with_mark(table, part.cell(model, column), column) for column in part.columns]
            kimg = [table.kimg_text(model)] if budget else []  # digits, ".", "–", "?" only
            lines.append(_row([md_escape(model)] + kimg + cells))
        lines.append("")
    notes = table_notes(table)
    if notes:
        lines.extend(md_escape(f"{mark} {text}" if mark else text) + "  " for mark, text in notes)
        lines.append("")
    return lines


def _header_cell(column: Column, mark: str | None) -> str:
    name = f"{md_escape(column.category)} {md_escape(metric_label(column.metric))}"
    text = f"{name} {direction_arrow(column.higher_is_better)}"
    return text + (f" ({md_escape(mark)})" if mark else "")


def _cell_with_mark(table: WideTable, cell: Cell | None, column: Column) -> str:
    return markdown_cell(cell, column, table.cell_mark(cell, column) if cell is not None else None)


def markdown_cell(cell: Cell | None, column: Column, mark: str | None = None) -> str:
    """A value with its interval, bold when best, with its dagger and note mark."""
    if cell is None:
        return "–"
    value = format_number(cell.value, column.decimals, signed=column.signed)
    text = f"**{value}**" if cell.best else value
    interval = format_interval(cell.value, cell.ci_low, cell.ci_high, column.decimals)
    if interval is not None:
        text += {
            "symmetric": f" ± {interval.plus}",
            "asymmetric": f" +{interval.plus}/−{interval.minus}",
            "range": f" \\[{interval.low}, {interval.high}\\]",
        }[interval.kind]
    if cell.low_reliability:
        text += f" {DAGGER}"
    if mark:
        text += f" ({md_escape(mark)})"
    return text


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
