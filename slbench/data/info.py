"""What ``slbench data info`` shows: a table per category and every problem found.

Exit rule: the command fails (exit code 2, one-line reason) only when the dataset is
unusable, i.e. no labelled image passed the checks (no labels at all, labels that match no
file, every labelled image unreadable or truncated). Any other problem is listed and the
command succeeds, since the usable images can still be evaluated.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.table import Table

from slbench.console import console, plain
from slbench.data.categories import CATEGORIES, FULL_NAMES
from slbench.data.dataset import Dataset, load_dataset
from slbench.data.layouts import LAYOUT_DESCRIPTIONS
from slbench.data.records import Problem
from slbench.errors import SlbenchError


@dataclass(frozen=True)
class CategorySummary:
    """One row of the per-category table."""

    category: str
    name: str
    images: int
    lesions: int | None
    share: float
    typical_size: tuple[int, int] | None


def typical_size(sizes: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The most common (width, height), ties broken by the larger image; ``None`` for no sizes."""
    if not sizes:
        return None
    return max(Counter(sizes).items(), key=lambda item: (item[1], item[0]))[0]


def summarise(dataset: Dataset) -> list[CategorySummary]:
    total = len(dataset)
    rows = []
    for category in CATEGORIES:
        records = dataset.records(category)
        sizes = [size for record in records if (size := dataset.image_size(record)) is not None]
        rows.append(
            CategorySummary(
                category=category,
                name=FULL_NAMES[category],
                images=len(records),
                lesions=dataset.lesion_count(category),
                share=len(records) / total if total else 0.0,
                typical_size=typical_size(sizes),
            )
        )
    return rows


def category_table(dataset: Dataset, rows: list[CategorySummary]) -> Table:
    table = Table(title=f"{plain(dataset.root)}: {LAYOUT_DESCRIPTIONS[dataset.layout]}", title_justify="left")
    table.add_column("class")
    table.add_column("lesion type")
    for header in ("images", "lesions", "share", "typical size"):
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(
            row.category,
            row.name,
            str(row.images),
            "-" if row.lesions is None else str(row.lesions),
            f"{100 * row.share:.1f}%",
            "-" if row.typical_size is None else f"{row.typical_size[0]}x{row.typical_size[1]}",
        )
    known = [row.lesions for row in rows if row.images]
    total_lesions = str(sum(known)) if known and None not in known else "-"  # only when every class knows them
    table.add_row("total", "", str(len(dataset)), total_lesions, "100.0%" if len(dataset) else "-", "", style="bold")
    return table


def problem_table(problems: list[Problem], max_per_kind: int) -> Table:
    table = Table(title=f"{len(problems)} problem(s)", title_justify="left")
    table.add_column("problem")
    table.add_column("detail", overflow="fold")
    by_kind: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_kind[problem.kind.value].append(problem)
    for kind, found in by_kind.items():
        shown = found if max_per_kind <= 0 else found[:max_per_kind]
        for problem in shown:
            table.add_row(kind, plain(problem.message))
        if len(found) > len(shown):
            table.add_row(kind, f"... and {len(found) - len(shown)} more (--max-problems 0 lists all)", style="dim")
    return table


def info_json(dataset: Dataset, rows: list[CategorySummary]) -> dict:
    return {
        "root": str(dataset.root),
        "layout": dataset.layout,
        "images": len(dataset),
        "usable": dataset.unusable_reason() is None,
        "categories": [asdict(row) for row in rows],
        "problems": [
            {"kind": p.kind.value, "message": p.message, "path": str(p.path) if p.path else None}
            for p in dataset.problems
        ],
    }


def show_dataset(dataset: Dataset, *, max_problems: int = 20, as_json: bool = False) -> None:
    """Print the category table and the problems (rich, on stderr); with ``as_json``, a JSON summary on stdout."""
    rows = summarise(dataset)
    console.print(category_table(dataset, rows))
    if dataset.problems:
        console.print(problem_table(dataset.problems, max_problems))
    else:
        console.print("no problems found", style="green")
    if as_json:
        print(json.dumps(info_json(dataset, rows), indent=2))


def data_info(*, path: Path, max_problems: int = 20, as_json: bool = False) -> Dataset:
    """``slbench data info``: show the dataset, then fail with the reason when it is unusable (see module docstring)."""
    dataset = load_dataset(path)
    show_dataset(dataset, max_problems=max_problems, as_json=as_json)
    reason = dataset.unusable_reason()
    if reason:
        raise SlbenchError(reason)
    return dataset
