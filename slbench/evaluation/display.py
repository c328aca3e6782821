"""What a run shows while it works: a progress bar over (model, category) pairs with the current
stage, and a table of results that fills in as each pair finishes."""

from __future__ import annotations

import math
from typing import Any, Iterable

from rich.console import Group, RenderableType
from rich.live import Live

from reports.budgets import budgets_from_rows, format_kimg, growth_note, steps_text, unequal_budget_warning
from slbench.console import console, is_interactive, make_progress, plain
from slbench.fitted_table import Column, FittedTable
from slbench.metrics import METRICS
from slbench.table_cells import CI_NOTE, cell_texts, has_interval

SHOWN_METRICS = ("fid", "kid", "cmmd", "precision", "recall", "density", "coverage", "memorisation", "lpips_ratio")
"""The headline metrics, those of them the rows hold shown (a protocol computes only its own set)."""


def results_table(rows: Iterable[dict[str, Any]], title: str = "results", warnings: Iterable[str] = ()) -> FittedTable:
    """One line per (model, category), one column per headline metric, arrows for direction.

    Values and their confidence intervals print as the reports print them (:mod:`slbench.table_cells`),
    ``*`` marks a low-reliability value; every other metric is in the results folder and its
    reports. The title names the protocol of the rows (one run has one); the caption names each
    model's checkpoint step, the growth stage of a model sampled before its network finished
    growing, and warns when the models of one class were trained for unequal budgets (kimg), then
    gives ``warnings``, what the rows cannot tell (models trained on different images). On a
    console too narrow for every metric the table prints in parts (:mod:`slbench.fitted_table`)."""
    rows = list(rows)
    protocols = sorted({str(row.get("protocol") or "") for row in rows})
    title += " · " + (", ".join(f"protocol {name}" for name in protocols) if any(protocols) else "no protocol named")
    shown = [name for name in SHOWN_METRICS if any(row["metric"] == name for row in rows)]
    budgets = budgets_from_rows(rows)
    caption = "* N below the feature dimension: low reliability"
    if has_interval(rows):
        caption += "\n" + CI_NOTE
    steps = steps_text(budgets)
    if steps:
        caption += "\ncheckpoint steps: " + steps
    growth = growth_note(budgets)
    if growth:
        caption += "\n" + growth
    for warning in (unequal_budget_warning(budgets), *warnings):
        if warning:
            caption += "\nwarning: " + warning
    texts = cell_texts(rows)
    by_pair: dict[tuple[str, str], dict[str, dict]] = {}
    for row in rows:
        by_pair.setdefault((row["model"], row["category"]), {})[row["metric"]] = row
    lines = [([plain(model), plain(category), format_kimg(budgets[(model, category)].kimg)],
              [tuple(_cell(texts, metrics.get(name)).split(" ", 1)) for name in shown])  # value, then interval
             for (model, category), metrics in by_pair.items()]
    values = [Column(f"{METRICS[name].label} {'↑' if METRICS[name].higher_is_better else '↓'}") for name in shown]
    return FittedTable(title=plain(title), keys=KEY_COLUMNS, values=values, rows=lines, caption=plain(caption))


KEY_COLUMNS = (Column("model", "left"), Column("category", "left"), Column("kimg"))


def _cell(texts: dict, row: dict[str, Any] | None) -> str:
    """The row's value as the reports print it, ``*`` when flagged low-reliability, ``-`` when missing."""
    if row is None or row.get("value") is None or not math.isfinite(row["value"]):
        return "-"
    return plain(texts[(row["model"], row["category"], row["metric"])]) + ("*" if row.get("low_reliability") else "")


class RunDisplay:
    """Progress over pairs plus the live results table, in one rich live display on stderr.

    Where stderr is no terminal (a log file), the progress prints plain lines instead and the
    table is printed once, at the end."""

    def __init__(self, total_pairs: int, done_rows: list[dict[str, Any]], *, completed: int = 0,
                 warnings: tuple[str, ...] = ()) -> None:
        self.warnings = warnings  # for the table's caption: see results_table
        self.progress = make_progress()
        self.task = self.progress.add_task("evaluating", total=total_pairs, completed=completed)
        self.rows = list(done_rows)
        self.live = Live(self, console=console, refresh_per_second=4, transient=False) if is_interactive() else None

    def __rich__(self) -> RenderableType:
        parts: list[RenderableType] = [self.progress]
        if self.rows:
            parts.insert(0, results_table(self.rows, warnings=self.warnings))
        return Group(*parts)

    def __enter__(self) -> "RunDisplay":
        if self.live is not None:
            self.live.start(refresh=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.live is not None:
            self.live.stop()
        elif self.rows:
            console.print(results_table(self.rows, warnings=self.warnings))

    def stage(self, pair_key: str, stage: str) -> None:
        self.progress.update(self.task, description=f"{pair_key}: {stage}")

    def pair_done(self, rows: list[dict[str, Any]]) -> None:
        self.rows.extend(rows)
        self.progress.advance(self.task)
        if self.live is not None:
            self.live.refresh()
