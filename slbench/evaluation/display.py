"""What a run shows while it works: a progress bar over (model, category) pairs with the current
stage, and a table of results that fills in as each pair finishes."""

from __future__ import annotations

import math
from typing import Any, Iterable

from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from reports.budgets import budgets_from_rows, format_kimg, unequal_budget_warning
from slbench.console import console, make_progress
from slbench.metrics import METRICS

SHOWN_METRICS = ("fid", "kid", "precision", "recall", "density", "coverage", "memorisation", "lpips_ratio")


def format_value(row: dict[str, Any]) -> str:
    """``value`` to four significant digits, ``*`` when flagged low-reliability, ``-`` when missing."""
    value = row.get("value")
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4g}" + ("*" if row.get("low_reliability") else "")


def results_table(rows: Iterable[dict[str, Any]], title: str = "results") -> Table:
    """One line per (model, category), one column per headline metric, arrows for direction.

    Confidence intervals and every other metric are in the results folder and its reports. The
    caption warns when the models of one class were trained for unequal budgets (kimg)."""
    rows = list(rows)
    budgets = budgets_from_rows(rows)
    caption = "* N below the feature dimension: low reliability"
    warning = unequal_budget_warning(budgets)
    if warning:
        caption += "\nwarning: " + warning
    table = Table(title=escape(title), title_justify="left", caption=escape(caption), caption_justify="left")
    table.add_column("model")
    table.add_column("category")
    table.add_column("kimg", justify="right")
    for name in SHOWN_METRICS:
        arrow = "↑" if METRICS[name].higher_is_better else "↓"
        table.add_column(f"{METRICS[name].label} {arrow}", justify="right")
    by_pair: dict[tuple[str, str], dict[str, dict]] = {}
    for row in rows:
        by_pair.setdefault((row["model"], row["category"]), {})[row["metric"]] = row
    for (model, category), metrics in by_pair.items():
        kimg = format_kimg(budgets[(model, category)].kimg)
        table.add_row(escape(model), escape(category), kimg,
                      *(format_value(metrics.get(name, {})) for name in SHOWN_METRICS))
    return table


class RunDisplay:
    """Progress over pairs plus the live results table, in one rich live display on stderr."""

    def __init__(self, total_pairs: int, done_rows: list[dict[str, Any]], *, completed: int = 0) -> None:
        self.progress = make_progress()
        self.task = self.progress.add_task("evaluating", total=total_pairs, completed=completed)
        self.rows = list(done_rows)
        self.live = Live(self, console=console, refresh_per_second=4, transient=False)

    def __rich__(self) -> RenderableType:
        parts: list[RenderableType] = [self.progress]
        if self.rows:
            parts.insert(0, results_table(self.rows))
        return Group(*parts)

    def __enter__(self) -> "RunDisplay":
        self.live.start(refresh=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.live.stop()

    def stage(self, pair_key: str, stage: str) -> None:
        self.progress.update(self.task, description=f"{pair_key}: {stage}")

    def pair_done(self, rows: list[dict[str, Any]]) -> None:
        self.rows.extend(rows)
        self.progress.advance(self.task)
        self.live.refresh()
