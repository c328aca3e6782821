"""Rich tables of a scored study (every rater id, model and path printed as written, through plain()).

The rater and model tables are :class:`slbench.fitted_table.FittedTable`s and the list of fooling
images a :class:`slbench.fitted_table.RecordTable`, so a long rater id, an interval or a path is
never cut on a narrow console."""

from __future__ import annotations

from rich.table import Table

from slbench.console import plain
from slbench.fitted_table import Column, FittedTable, RecordTable


def percent(entry: dict) -> tuple[str, ...]:
    """``("62%", "[52, 70]")`` from a proportion record (exact values are in the written files): the
    share and its interval, side by side or stacked; ``("-",)`` when undefined."""
    if entry["value"] is None:
        return ("-",)
    return f"{100 * entry['value']:.0f}%", f"[{100 * entry['ci_low']:.0f}, {100 * entry['ci_high']:.0f}]"


def p_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value >= 0.001 else "<0.001"


def rater_table(scores: dict) -> FittedTable:
    values = [Column(name) for name in ("n", "accuracy", "sensitivity", "specificity", "p vs 0.5", "median")]
    rows = []
    for rater in scores["raters"]:
        median = rater["median_milliseconds"]
        rows.append(([plain(rater["rater_id"])],
                     [str(rater["answered"]), percent(rater["accuracy"]), percent(rater["sensitivity"]),
                      percent(rater["specificity"]), p_text(rater["p_value"]),
                      "-" if median is None else f"{median / 1000:.1f} s"]))
    return FittedTable(title="Raters: detecting synthetic images (95% Wilson intervals)",
                       keys=[Column("rater", "left")], values=values, rows=rows)


def model_table(scores: dict) -> FittedTable:
    rows = [([plain(row["model"])], [str(row["images"]), str(row["taken_for_real"]["trials"]),
                                     percent(row["taken_for_real"])])
            for row in scores["models"]]
    return FittedTable(title="Share of images taken for real (all raters)", keys=[Column("images of", "left")],
                       values=[Column("images"), Column("answers"), Column("taken for real")], rows=rows)


def agreement_text(scores: dict) -> str:
    agreement = scores["agreement"]
    if agreement["statistic"] is None:
        return "agreement: one rater, no kappa"
    name = "Cohen's" if agreement["statistic"] == "cohen" else "Fleiss'"
    kappa = "undefined (every answer the same)" if agreement["kappa"] is None else f"{agreement['kappa']:.3f}"
    return f"agreement: {name} kappa {kappa} over {agreement['items']} items answered by all {agreement['raters']} raters"


def fooling_table(scores: dict) -> RecordTable | None:
    """The synthetic images every rater who saw them took for real."""
    fooled = [row for row in scores["items"] if row["fooled_everyone"]]
    if not fooled:
        return None
    return RecordTable(f"Synthetic images that fooled every rater ({len(fooled)})", ("item", "model", "class", "source"),
                       [(plain(row["item_id"]), plain(row["model"] or ""), plain(row["category"]), plain(row["source"]))
                        for row in fooled])


def confusion_table(scores: dict) -> Table | None:
    confusion = scores["confusion"]
    if confusion is None:
        return None
    table = Table(title=f"Class guesses: true class (rows) x guessed class ({confusion['guesses']} guesses)")
    table.add_column("true \\ guess")
    for label in confusion["labels"]:
        table.add_column(plain(label), justify="right")
    for label, counts in zip(confusion["labels"], confusion["matrix"]):
        table.add_row(plain(label), *(str(count) for count in counts))
    return table
