"""LaTeX tables for papers (booktabs), meant to be ``\\input`` into a document.

Each wide table becomes a ``table``/``table*`` float: models as rows, a two-level header
(category over its metrics, each with ``$\\downarrow$``/``$\\uparrow$``), ``\\textbf`` on the
best value per column, ``$\\pm$`` half-widths of confidence intervals, a dagger on
low-reliability values with a table note, a caption naming the extractor, resolution and N,
and a ``\\label``. Tables wider than :data:`reports.tables.MAX_TABLE_COLUMNS` are split
at category boundaries; wide ones shrink to the text width (never grow). The document needs
``booktabs`` and ``graphicx``.
"""

from __future__ import annotations

from reports.captions import caption, direction_arrow, table_notes
from reports.formatting import format_interval, format_number
from reports.names import metric_label_latex
from reports.plain_text import one_line
from reports.results import ResultSet
from reports.tables import MAX_TABLE_COLUMNS, Cell, Column, WideTable, split_columns

WIDE_FLOAT_COLUMNS = 4
PREAMBLE_NOTE = "% slbench report tables. Preamble: \\usepackage{booktabs} and \\usepackage{graphicx}."

LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "[": "{[}",
    "]": "{]}",
    "*": "{*}",
}
"""Characters TeX reads as markup. Brackets and the star are braced because a cell that starts
with them right after a row's ``\\`` would otherwise be read as its optional argument."""
UNICODE_TO_LATEX = {
    "±": r"$\pm$",
    "∞": r"$\infty$",
    "↓": r"$\downarrow$",
    "↑": r"$\uparrow$",
    "–": "--",
    "—": "---",
    "−": r"$-$",
    "†": r"\dag{}",
    "Δ": r"$\Delta$",
    "×": r"$\times$",
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "·": r"$\cdot$",
}


def latex_escape(text: str) -> str:
    """Text safe in LaTeX text mode, on one line: specials escaped, common symbols as math,
    backtick-quoted code in ``\\texttt``.

    With every backslash, brace and caret escaped no control sequence and no ``^^`` notation
    can form, and with line breaks gone (:func:`reports.plain_text.one_line`) none can end
    a ``%`` comment either, so nothing from the results is ever read as a command.
    """
    line = one_line(text)
    parts = line.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: every one printed as itself
        return r"\textasciigrave{}".join(_latex_text(part) for part in parts)
    # `code` (a command to run, in the captions' Markdown style) in typewriter type
    return "".join(_latex_text(part) if index % 2 == 0 else rf"\texttt{{{_latex_text(part)}}}"
                   for index, part in enumerate(parts))


def _latex_text(text: str) -> str:
    return "".join(_latex_char(ch, text[index + 1:index + 2]) for index, ch in enumerate(text))


def _latex_char(ch: str, following: str) -> str:
    """One character for LaTeX; a hyphen before another is closed with ``{}`` so that ``--kimg``
    prints as two hyphens, not TeX's en dash (``--``) or em dash (``---``) ligature."""
    if ch == "-" and following == "-":
        return "-{}"
    return LATEX_SPECIALS.get(ch, UNICODE_TO_LATEX.get(ch, ch))


def render_latex(result_set: ResultSet, tables: list[WideTable]) -> str:
    """Every table of the report as LaTeX floats, one after the other."""
    runs = ", ".join(latex_escape(run.label) for run in result_set.runs())
    chunks = [PREAMBLE_NOTE, f"% Results: {runs}", ""]
    for table in tables:
        parts = split_columns(table, MAX_TABLE_COLUMNS)
        for index, part in enumerate(parts):
            suffix = f"-part{index + 1}" if len(parts) > 1 else ""
            continued = f" (part {index + 1} of {len(parts)})" if len(parts) > 1 else ""
            chunks.append(latex_table(part, label=f"tab:slbench-{table.slug}{suffix}", continued=continued))
    return "\n".join(chunks).rstrip("\n") + "\n"


def latex_table(table: WideTable, *, label: str, continued: str = "") -> str:
    """One booktabs float for a wide table."""
    env = "table*" if len(table.columns) > WIDE_FLOAT_COLUMNS else "table"
    budget = "r" if table.shows_budget else ""
    lines = [
        f"\\begin{{{env}}}[tbp]",
        "\\centering",
        f"\\caption{{{latex_escape(caption(table) + continued)}}}",
        f"\\label{{{label}}}",
        "\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%",
        f"\\begin{{tabular}}{{l{budget}{'r' * len(table.columns)}}}",
        "\\toprule",
        *_header(table),
        "\\midrule",
        *_body(table),
        "\\bottomrule",
        "\\end{tabular}}",
        *_notes(table),
        f"\\end{{{env}}}",
        "",
    ]
    return "\n".join(lines)


def _header(table: WideTable) -> list[str]:
    lead = ["", ""] if table.shows_budget else [""]
    names = [table.row_heading, "kimg"] if table.shows_budget else [table.row_heading]
    groups, rules, start = [], [], len(lead) + 1
    for category, columns in table.category_spans():
        groups.append(f"\\multicolumn{{{len(columns)}}}{{c}}{{{latex_escape(category)}}}")
        rules.append(f"\\cmidrule(lr){{{start}-{start + len(columns) - 1}}}")
        start += len(columns)
    metrics = [_metric_header(column, table.column_mark(column)) for column in table.columns]
    return [" & ".join(lead + groups) + " \\\\", " ".join(rules), " & ".join(names + metrics) + " \\\\"]


def _metric_header(column: Column, mark: str | None) -> str:
    label = metric_label_latex(column.metric) or latex_escape(column.metric)
    text = f"{label} {latex_escape(direction_arrow(column.higher_is_better))}"
    return text + (f"\\textsuperscript{{{latex_escape(mark)}}}" if mark else "")


def _body(table: WideTable) -> list[str]:
    lines = []
    for model in table.models:
        cells = []
        for column in table.columns:
            cell = table.cell(model, column)
            cells.append(latex_cell(cell, column, table.cell_mark(cell, column) if cell is not None else None))
        kimg = [latex_escape(table.kimg_text(model))] if table.shows_budget else []
        lines.append(" & ".join([latex_escape(model)] + kimg + cells) + " \\\\")
    return lines


def latex_cell(cell: Cell | None, column: Column, mark: str | None = None) -> str:
    """A value with its interval, bold when best, with a dagger and note mark as superscripts."""
    if cell is None:
        return "--"
    value = _number(format_number(cell.value, column.decimals, signed=column.signed))
    text = f"\\textbf{{{value}}}" if cell.best else value
    interval = format_interval(cell.value, cell.ci_low, cell.ci_high, column.decimals)
    if interval is not None:
        text += {
            "symmetric": f" $\\pm$ {interval.plus}",
            "asymmetric": f"$^{{+{interval.plus}}}_{{-{interval.minus}}}$",
            "range": f" [{_number(interval.low)}, {_number(interval.high)}]",
        }[interval.kind]
    marks_here = (["\\dag"] if cell.low_reliability else []) + ([latex_escape(mark)] if mark else [])
    if marks_here:
        text += f"\\textsuperscript{{{','.join(marks_here)}}}"
    return text


def _number(text: str) -> str:
    """A formatted number in text mode: a real minus sign instead of a hyphen; ``--`` for missing."""
    if text == "–":
        return "--"
    return f"$-${text[1:]}" if text.startswith("-") else text


def _notes(table: WideTable) -> list[str]:
    notes = table_notes(table)
    if not notes:
        return []
    lines = ["\\par\\smallskip", "{\\footnotesize"]
    for mark, text in notes:
        symbol = "\\dag" if mark == "†" else latex_escape(mark)
        prefix = f"\\textsuperscript{{{symbol}}}\\," if mark else ""
        lines.append(f"{prefix}{latex_escape(text)}\\par")
    lines.append("}")
    return lines
