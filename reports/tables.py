"""The wide table every report format renders: models as rows, metrics per category as columns.

One :class:`WideTable` per table kind (``quality``, ``utility``), evaluation protocol, feature
extractor and evaluation resolution: values computed under different protocols, in different
feature spaces or at different resolutions are never put in one column. The best value of each column is chosen by the
direction its rows carry (``higher_is_better``), at the precision the column is printed with,
so values that print the same tie; a column whose values all print the same marks none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Iterable

import pandas as pd

from reports.budgets import (
    Budget,
    any_unknown,
    budgets_from_rows,
    generator_budgets_from_rows,
    growth_note,
    model_kimg_text,
    unequal_budget_warning,
)
from reports.formatting import MISSING, column_decimals, format_count_range
from reports.measurement_space import measurement_space
from reports.names import category_sort_key, is_signed, metric_sort_key, model_sort_key
from reports.results import ResultsError
from reports.sample_parity import unequal_sample_warning
from reports.schema import TABLES

TABLE_TITLES = {"quality": "Image quality", "utility": "Utility for classification", "track": "Training track"}
MAX_TABLE_COLUMNS = 12
"""Wider tables are split at category boundaries (see :func:`split_columns`)."""


@dataclass(frozen=True)
class Column:
    """One column: a metric in a category, its direction and its printed precision."""

    category: str
    metric: str
    higher_is_better: bool
    decimals: int
    note: str = ""  # a note every value of the column carries (marked once, in the header)

    @property
    def signed(self) -> bool:
        return is_signed(self.metric)


@dataclass(frozen=True)
class Cell:
    """One value of the table with what a report needs to print and flag it."""

    value: float
    ci_low: float
    ci_high: float
    std: float
    low_reliability: bool
    note: str
    best: bool = False

    @property
    def has_ci(self) -> bool:
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)


@dataclass(frozen=True)
class SampleSize:
    """How many real and generated images values rest on (a range when they vary).

    ``group`` is a category for quality tables (every model sees the same real images of a
    class) and a model (a training arm) for utility tables (arms differ in what they train on).
    """

    group: str
    n_real: str
    n_fake: str


@dataclass(frozen=True)
class WideTable:
    """Rows of one table kind, extractor and resolution, pivoted for rendering."""

    kind: str
    features: str
    resolution: int | None
    models: tuple[str, ...]
    columns: tuple[Column, ...]
    cells: dict[tuple[str, str, str], Cell]
    sample_sizes: tuple[SampleSize, ...]
    notes: tuple[str, ...]  # every distinct note, in order of appearance
    shared_notes: tuple[str, ...] = ()  # notes every value carries: listed under the table, unmarked
    checkpoint_note: str = ""  # which checkpoint each model's values come from, when chosen from a track
    pooling_note: str = ""  # what the values are when they pool training runs (:mod:`reports.pooling`)
    real_side_note: str = ""  # which real images quality and memorisation were scored against
    real_sides: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (model, category) -> sides
    budgets: dict[tuple[str, str], Budget] = field(default_factory=dict)  # (model, category) -> training budget
    unranked: tuple[tuple[str, str], ...] = ()  # (model, category) pairs never bolded: see degenerate_pairs
    protocol: str = ""  # the named evaluation protocol of every value; "" when the runs named none
    sample_warning: str = ""  # models of one column measured on unequal N (:mod:`reports.sample_parity`)
    training_data_warning: str = ""  # models of one class trained on different images (:mod:`reports.training_data`)

    @property
    def title(self) -> str:
        return TABLE_TITLES.get(self.kind, self.kind)

    @property
    def row_heading(self) -> str:
        """What the first column names: the model (or training arm), or a track's step."""
        return "Step" if self.kind == "track" else "Model"

    @property
    def heading(self) -> str:
        """``Image quality · protocol lesion · lesion · 64 px``: what the table measures, and how."""
        return f"{self.title} · {self.space}"

    @property
    def space(self) -> str:
        """``protocol lesion · lesion · 64 px``: where every value of the table was measured."""
        return measurement_space(self.features, self.resolution, self.protocol)

    @property
    def slug(self) -> str:
        """A short identifier for labels and anchors, e.g. ``quality-inception-fid-inception-256``."""
        parts = [self.kind] + ([self.protocol] if self.protocol else []) + [self.features]
        parts += [str(self.resolution)] if self.resolution is not None else []
        return "-".join("".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in part).strip("-") for part in parts)

    def cell(self, model: str, column: Column) -> Cell | None:
        return self.cells.get((model, column.category, column.metric))

    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(column.category for column in self.columns))

    def category_spans(self) -> list[tuple[str, list[Column]]]:
        """Consecutive columns grouped by category, for a two-level header."""
        return [(category, [c for c in self.columns if c.category == category]) for category in self.categories()]

    def note_marks(self) -> dict[str, str]:
        """A footnote letter per distinct note that needs a mark, in order of appearance."""
        marked = [note for note in self.notes if note not in self.shared_notes]
        return {note: chr(ord("a") + index % 26) * (1 + index // 26) for index, note in enumerate(marked)}

    def column_mark(self, column: Column) -> str | None:
        """The footnote letter for a note that every value of the column carries."""
        if not column.note or column.note in self.shared_notes:
            return None
        return self.note_marks().get(column.note)

    def cell_mark(self, cell: Cell, column: Column) -> str | None:
        """The footnote letter of a cell's own note (``None`` when the header or table note covers it)."""
        if not cell.note or cell.note == column.note or cell.note in self.shared_notes:
            return None
        return self.note_marks().get(cell.note)

    @property
    def shows_budget(self) -> bool:
        """Whether the table has a kimg column: always for generators; for utility arms when recorded."""
        return self.kind == "quality" or any(budget.known for budget in self.budgets.values())

    def kimg_text(self, model: str) -> str:
        """The kimg ``model`` was trained for (a range when it differs by category), ``?`` when unknown;
        ``–`` for a utility arm without synthetic images, which no generator's budget concerns."""
        if self.kind == "utility" and any(size.group == model and size.n_fake == "0" for size in self.sample_sizes):
            return MISSING
        return model_kimg_text(self.budgets, model)

    @property
    def budget_warning(self) -> str | None:
        """A warning when the models compared on one class were trained for unequal budgets."""
        return unequal_budget_warning(self.budgets) if self.shows_budget else None

    @property
    def warnings(self) -> tuple[str, ...]:
        """What a reader must not miss about the fairness of the table's comparison, in caption order."""
        return tuple(warning for warning in (self.budget_warning, self.training_data_warning, self.sample_warning)
                     if warning)

    @property
    def growth_note(self) -> str:
        """Which models were sampled before their network finished growing, and at what stage."""
        return growth_note(self.budgets)

    @property
    def budget_unknown(self) -> bool:
        return self.shows_budget and any_unknown(self.budgets)

    @property
    def any_low_reliability(self) -> bool:
        return any(cell.low_reliability for cell in self.cells.values())

    @property
    def any_ci(self) -> bool:
        return any(cell.has_ci for cell in self.cells.values())

    def metrics(self) -> tuple[str, ...]:
        return tuple(sorted({column.metric for column in self.columns}, key=metric_sort_key))


def build_tables(rows: pd.DataFrame) -> list[WideTable]:
    """One :class:`WideTable` per (table kind, protocol, extractor, resolution), in report order."""
    if rows.empty:
        return []
    groups = rows.groupby(["table", "protocol", "features", rows["resolution"].fillna(-1)], sort=False, dropna=False)
    tables = [_build_table(frame) for _, frame in groups]
    return sorted(tables, key=lambda t: (TABLES.index(t.kind), t.protocol, t.features, t.resolution or -1))


def _build_table(frame: pd.DataFrame) -> WideTable:
    first = frame.iloc[0]
    directions = _metric_directions(frame)
    models = tuple(sorted(frame["model"].unique(), key=model_sort_key))
    keys = sorted(
        {(row.category, row.metric) for row in frame.itertuples()},
        key=lambda key: (category_sort_key(key[0]), metric_sort_key(key[1])),
    )
    columns, cells = [], {}
    unranked = degenerate_pairs(frame)
    for category, metric in keys:
        part = frame[(frame["category"] == category) & (frame["metric"] == metric)]
        notes = set(part["note"])
        shared = notes.pop() if len(notes) == 1 else ""
        column = Column(category, metric, directions[metric], column_decimals(part["value"]), shared)
        columns.append(column)
        cells.update(_column_cells(part, column, unranked))
    every_note = set(frame["note"])
    resolution = first["resolution"]
    return WideTable(
        kind=str(first["table"]),
        features=str(first["features"]),
        resolution=None if pd.isna(resolution) else int(resolution),
        models=models,
        columns=tuple(columns),
        cells=cells,
        sample_sizes=_sample_sizes(_sized(frame), by="model" if first["table"] == "utility" else "category"),
        notes=_reading_order_notes(models, columns, cells),
        shared_notes=tuple(every_note) if len(every_note) == 1 and "" not in every_note else (),
        budgets=_budgets(frame),
        protocol=str(first["protocol"]),
        sample_warning=(unequal_sample_warning(frame) or "") if first["table"] == "quality" else "",
        unranked=tuple(sorted(unranked, key=lambda key: (model_sort_key(key[0]), category_sort_key(key[1])))),
    )


def degenerate_pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    """(model, category) pairs none of whose generated images lies among the real ones (precision
    0): their recall, diversity or memorisation then describe something other than lesions, so no
    column may call them best."""
    precision = frame[(frame["metric"] == "precision") & (frame["value"] == 0)]
    return {(row.model, row.category) for row in precision.itertuples()}


def _budgets(frame: pd.DataFrame) -> dict[tuple[str, str], Budget]:
    """Per (model, category), the budget of its rows; a utility arm without a generator has none."""
    rows = frame.to_dict("records")
    if str(frame.iloc[0]["table"]) == "quality":
        return budgets_from_rows(rows)
    return generator_budgets_from_rows(rows)


def _reading_order_notes(
    models: tuple[str, ...], columns: list[Column], cells: dict[tuple[str, str, str], Cell]
) -> tuple[str, ...]:
    """Distinct notes as a reader meets them: header notes left to right, then values row by row."""
    found = [column.note for column in columns if column.note]
    for model in models:
        for column in columns:
            cell = cells.get((model, column.category, column.metric))
            if cell is not None and cell.note:
                found.append(cell.note)
    return tuple(dict.fromkeys(found))


def _metric_directions(frame: pd.DataFrame) -> dict[str, bool]:
    directions = frame.groupby("metric")["higher_is_better"].unique()
    for metric, values in directions.items():
        if len(values) > 1:
            raise ResultsError(f"metric {metric} is marked both higher- and lower-is-better; fix the results rows")
    return {metric: bool(values[0]) for metric, values in directions.items()}


def _column_cells(part: pd.DataFrame, column: Column,
                  unranked: set[tuple[str, str]]) -> dict[tuple[str, str, str], Cell]:
    cells = {
        (row.model, column.category, column.metric): Cell(
            value=float(row.value),
            ci_low=float(row.ci_low),
            ci_high=float(row.ci_high),
            std=float(row.std),
            low_reliability=bool(row.low_reliability),
            note=str(row.note),
        )
        for row in part.itertuples()
    }
    rankable = {key: cell for key, cell in cells.items() if _rankable(key, cell, column, unranked)}
    best = best_rounded(
        [cell.value for cell in rankable.values()], column.decimals, higher_is_better=column.higher_is_better
    )
    if best is None:
        return cells
    return {key: replace(cell, best=key in rankable and _rounded(cell.value, column.decimals) == best)
            for key, cell in cells.items()}


def _rankable(key: tuple[str, str, str], cell: Cell, column: Column, unranked: set[tuple[str, str]]) -> bool:
    """Whether a cell may be bolded: not a degenerate model's, and not a gain whose interval holds 0
    (a gain indistinguishable from none is no best)."""
    if key[:2] in unranked:
        return False
    if is_signed(column.metric) and math.isfinite(cell.ci_low) and math.isfinite(cell.ci_high):
        return not cell.ci_low <= 0.0 <= cell.ci_high
    return True


def best_rounded(values: Iterable[float], decimals: int, *, higher_is_better: bool) -> float | None:
    """The best value at the printed precision, or ``None`` when fewer than two values differ."""
    rounded = {_rounded(value, decimals) for value in values if math.isfinite(value)}
    if len(rounded) < 2:
        return None
    return max(rounded) if higher_is_better else min(rounded)


def _rounded(value: float, decimals: int) -> float:
    return round(value, decimals) + 0.0


def _sized(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose N real the caption gives: memorisation counts the images the models trained on,
    which need not be those quality was scored on, and the caption's real-side note gives its N."""
    scored = frame[frame["metric"] != "memorisation"]
    return scored if not scored.empty else frame


def _sample_sizes(frame: pd.DataFrame, *, by: str) -> tuple[SampleSize, ...]:
    """Per category, or per model (then from its ``all`` rows when it has any: the totals)."""
    sizes = []
    for group in sorted(frame[by].unique(), key=category_sort_key if by == "category" else model_sort_key):
        part = frame[frame[by] == group]
        if by == "model" and (part["category"] == "all").any():
            part = part[part["category"] == "all"]
        sizes.append(
            SampleSize(
                group=group,
                n_real=format_count_range(part["n_real"].dropna()),
                n_fake=format_count_range(part["n_fake"].dropna()),
            )
        )
    return tuple(sizes)


def split_columns(table: WideTable, max_columns: int) -> list[WideTable]:
    """Split a wide table at category boundaries into parts of at most ``max_columns`` columns.

    A category with more metrics than ``max_columns`` keeps all of them in one part. Models
    with no value in a part are left out of it.
    """
    parts: list[list[Column]] = []
    for _, columns in table.category_spans():
        if parts and len(parts[-1]) + len(columns) <= max_columns:
            parts[-1].extend(columns)
        else:
            parts.append(list(columns))
    if len(parts) <= 1:
        return [table]
    return [_restrict(table, columns) for columns in parts]


def _restrict(table: WideTable, columns: list[Column]) -> WideTable:
    keys = {(column.category, column.metric) for column in columns}
    cells = {key: cell for key, cell in table.cells.items() if key[1:] in keys}
    models = tuple(model for model in table.models if any(key[0] == model for key in cells))
    groups = {column.category for column in columns} | set(models)
    return replace(
        table,
        models=models,
        columns=tuple(columns),
        cells=cells,
        sample_sizes=tuple(size for size in table.sample_sizes if size.group in groups),
        notes=tuple(note for note in table.notes if any(cell.note == note for cell in cells.values())),
        shared_notes=table.shared_notes,
    )
