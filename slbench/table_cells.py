"""The values of result rows as the terminal tables print them: the reports' precision and "±".

A terminal table and the reports must say the same thing about one row: each value is printed
at the precision of its report column (the table, protocol, extractor, resolution, class and
metric it belongs to), and its interval as every report prints it, ``± half-width`` where it is
symmetric at that precision, ``+upper/−lower`` where it is not, under the reports' own caption
(:data:`CI_NOTE`).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from reports.captions import CI_NOTE
from reports.formatting import column_decimals, plain_value_text
from reports.names import is_signed

__all__ = ["CI_NOTE", "cell_texts", "has_interval"]

CellKey = tuple[str, str, str]  # model, category, metric


def cell_texts(rows: Iterable[Mapping[str, Any]]) -> dict[CellKey, str]:
    """``value ± half-width`` (or the value alone) of every row, keyed by (model, category, metric)."""
    rows = list(rows)
    columns: dict[tuple, list[float]] = {}
    for row in rows:
        columns.setdefault(_column_key(row), []).append(row["value"])
    decimals = {key: column_decimals(values) for key, values in columns.items()}
    return {
        (row["model"], row["category"], row["metric"]): plain_value_text(
            row["value"], _bound(row, "ci_low"), _bound(row, "ci_high"), decimals[_column_key(row)],
            signed=is_signed(row["metric"]))
        for row in rows
    }


def has_interval(rows: Iterable[Mapping[str, Any]]) -> bool:
    """Whether any row has a finite confidence interval (so the caption must say what "±" is)."""
    return any(math.isfinite(_bound(row, "ci_low")) and math.isfinite(_bound(row, "ci_high")) for row in rows)


def _column_key(row: Mapping[str, Any]) -> tuple:
    return (row.get("table"), row.get("protocol") or "", row.get("features"), row.get("resolution"), row["category"],
            row["metric"])


def _bound(row: Mapping[str, Any], name: str) -> float:
    value = row.get(name)
    return math.nan if value is None else float(value)
