"""Rich tables of a scored study (every rater id, model and path printed as written, through plain())."""

from __future__ import annotations

from rich.table import Table

from slbench.console import plain


def percent(entry: dict) -> str:
    """``62% [52, 70]`` from a proportion record (exact values are in the written files); ``-`` when undefined."""
    if entry["value"] is None:
        return "-"
    return f"{100 * entry['value']:.0f}% [{100 * entry['ci_low']:.0f}, {100 * entry['ci_high']:.0f}]"


def p_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value >= 0.001 else "<0.001"


def rater_table(scores: dict) -> Table:
    table = Table(title="Raters: detecting synthetic images (95% Wilson intervals)")
    table.add_column("rater", no_wrap=True, overflow="fold")
    for name in ("n", "accuracy", "sensitivity", "specificity", "p vs 0.5", "median"):
        table.add_column(name, justify="right", no_wrap=True)
    for rater in scores["raters"]:
        median = rater["median_milliseconds"]
        table.add_row(plain(rater["rater_id"]), str(rater["answered"]), percent(rater["accuracy"]),
                      percent(rater["sensitivity"]), percent(rater["specificity"]), p_text(rater["p_value"]),
                      "-" if median is None else f"{median / 1000:.1f} s")
    return table


def model_table(scores: dict) -> Table:
    table = Table(title="Share of images taken for real (all raters)")
    for name in ("images of", "images", "answers", "taken for real"):
        table.add_column(name, justify="left" if name == "images of" else "right")
    for row in scores["models"]:
        share = row["taken_for_real"]
        table.add_row(plain(row["model"]), str(row["images"]), str(share["trials"]), percent(share))
    return table


def agreement_text(scores: dict) -> str:
    agreement = scores["agreement"]
    if agreement["statistic"] is None:
        return "agreement: one rater, no kappa"
    name = "Cohen's" if agreement["statistic"] == "cohen" else "Fleiss'"
    kappa = "undefined (every answer the same)" if agreement["kappa"] is None else f"{agreement['kappa']:.3f}"
    return f"agreement: {name} kappa {kappa} over {agreement['items']} items answered by all {agreement['raters']} raters"


def fooling_table(scores: dict) -> Table | None:
    """The synthetic images every rater who saw them took for real."""
    fooled = [row for row in scores["items"] if row["fooled_everyone"]]
    if not fooled:
        return None
    table = Table(title=f"Synthetic images that fooled every rater ({len(fooled)})")
    for name in ("item", "model", "class", "source"):
        table.add_column(name)
    for row in fooled:
        table.add_row(plain(row["item_id"]), plain(row["model"] or ""), plain(row["category"]), plain(row["source"]))
    return table


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
