"""Wide CSV: one row per (table, protocol, extractor, resolution, model), one column per category and metric.

Column names are ``<category>/<metric>``, with ``<category>/<metric>/ci_low`` and ``/ci_high``
beside them where the column has intervals, and ``/std`` where it has a spread (KID over
subsets, utility over seeds). Tables that record training budgets start with
``<category>/kimg`` and ``<category>/step``: what the model's checkpoint for that class was
trained for; quality tables then say, per class, which real images quality was scored on
(``<category>/real_side``: all, test or train) and which memorisation used
(``<category>/memorisation_side``). Values are written at full precision (the tidy
``metrics.csv`` remains the complete record, with N and notes).

This file is meant for spreadsheets, so no text from the results may run there as a formula:
text cells and column names are put on one line (:func:`reports.plain_text.one_line`), and
one that starts with ``=``, ``+``, ``-`` or ``@`` gets a leading apostrophe. Numbers are numbers, never text, so a negative value
(``-0.21``) stays a negative number.
"""

from __future__ import annotations

import math

import pandas as pd

from reports.plain_text import one_line
from reports.tables import WideTable

ID_COLUMNS = ("table", "protocol", "features", "resolution", "model")
SIDE_COLUMNS = ("real_side", "memorisation_side")  # the real images quality and memorisation were scored against


def wide_frame(tables: list[WideTable]) -> pd.DataFrame:
    """The wide form of every table, stacked; columns absent from a table are empty."""
    records, columns, step_columns = [], list(ID_COLUMNS), set()
    for table in tables:
        if table.shows_budget:
            for category in table.categories():
                columns.extend(n for n in (f"{category}/kimg", f"{category}/step") if n not in columns)
                step_columns.add(f"{category}/step")
        for category in dict.fromkeys(category for _, category in table.real_sides):
            columns.extend(n for n in (f"{category}/{SIDE_COLUMNS[0]}", f"{category}/{SIDE_COLUMNS[1]}")
                           if n not in columns)
        for column in table.columns:
            base = f"{column.category}/{column.metric}"
            cells = [cell for model in table.models if (cell := table.cell(model, column)) is not None]
            names = [base]
            if any(cell.has_ci for cell in cells):
                names += [f"{base}/ci_low", f"{base}/ci_high"]
            if any(math.isfinite(cell.std) for cell in cells):
                names.append(f"{base}/std")
            columns.extend(name for name in names if name not in columns)
        for model in table.models:
            record = {"table": table.kind, "protocol": table.protocol, "features": table.features,
                      "resolution": table.resolution, "model": model}
            for (name, category), budget in table.budgets.items():
                if name == model and table.shows_budget:
                    record[f"{category}/kimg"], record[f"{category}/step"] = budget.kimg, budget.step
            for (name, category), sides in table.real_sides.items():
                if name == model:
                    for column, side in zip(SIDE_COLUMNS, sides):
                        record[f"{category}/{column}"] = spreadsheet_text(side)
            for column in table.columns:
                cell = table.cell(model, column)
                if cell is None:
                    continue
                base = f"{column.category}/{column.metric}"
                record[base] = cell.value
                if cell.has_ci:
                    record[f"{base}/ci_low"], record[f"{base}/ci_high"] = cell.ci_low, cell.ci_high
                if math.isfinite(cell.std):
                    record[f"{base}/std"] = cell.std
            records.append(record)
    frame = pd.DataFrame(records, columns=columns)
    frame["resolution"] = frame["resolution"].astype("Int64")
    for name in step_columns:
        frame[name] = frame[name].astype("Int64")
    return frame


FORMULA_STARTS = ("=", "+", "-", "@")


def spreadsheet_text(text: str) -> str:
    """``text`` on one line, as a spreadsheet shows text: an apostrophe in front of a formula start."""
    text = one_line(text)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def render_csv_wide(tables: list[WideTable]) -> str:
    """The wide table as CSV text, with every text cell and column name neutralised."""
    frame = wide_frame(tables)
    for name in ("table", "protocol", "features", "model"):
        frame[name] = frame[name].map(spreadsheet_text)
    frame.columns = [spreadsheet_text(str(name)) for name in frame.columns]
    return frame.to_csv(index=False, lineterminator="\n")
