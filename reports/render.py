"""``render_report``: stored results in, report files out (Markdown, LaTeX, wide CSV, HTML).

Reads results folders only (no model, no GPU), combines several runs into one report, and
writes each format atomically. With one folder and no ``out`` the report goes beside the
results; several folders without ``out`` go to ``combined-<hash>`` beside the first one.
A folder that also holds a scored reader study (``reader-study.json``, written by
``slbench reader-study score --out``) adds it to the HTML page and the LaTeX tables.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from reports.captions import checkpoint_note
from reports.csv_wide import render_csv_wide
from reports.curves import curve_plots
from reports.files import atomic_write_text
from reports.html import render_html
from reports.latex import render_latex
from reports.markdown import render_markdown
from reports.plots import prd_plots, report_plots
from reports.pooling import pooling_note
from reports.real_sides import real_side_note, run_side_use
from reports.reader_study import latex_tables, load_studies
from reports.results import ResultSet, ResultsError, combine, load_results
from reports.tables import WideTable, build_tables
from reports.training_data import training_data_entries, unequal_training_data_warning

FORMATS = ("md", "tex", "csv", "html")
OUTPUT_NAMES = {"md": "report.md", "tex": "report.tex", "csv": "metrics-wide.csv", "html": "report.html"}


def check_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """The requested formats (a list, or one comma-separated string), deduplicated in order.

    Raises :class:`ResultsError` naming any unknown format, or when none is given.
    """
    names = formats.split(",") if isinstance(formats, str) else [str(name) for name in formats]
    chosen = tuple(dict.fromkeys(name.strip().lower() for name in names if name.strip()))
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown:
        raise ResultsError(f"unknown report format(s): {', '.join(unknown)}; valid formats: {', '.join(FORMATS)}")
    if not chosen:
        raise ResultsError(f"no report format given; valid formats: {', '.join(FORMATS)}")
    return chosen


def render_report(
    folders: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    formats: str | Iterable[str] = FORMATS,
    out: str | os.PathLike | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Render the results in ``folders`` (one or several runs) and return the file written per format.

    ``on_warning`` hears what a reader must not miss (unequal or unrecorded training budgets);
    the same text is in the tables' captions and notes."""
    chosen = check_formats(formats)
    paths = [Path(folders)] if isinstance(folders, (str, os.PathLike)) else [Path(f) for f in folders]
    if not paths:
        raise ResultsError("no results folder given")
    result_set = combine([load_results(path) for path in paths])
    if result_set.rows.empty:
        raise ResultsError(f"{', '.join(str(p) for p in paths)} hold(s) no result rows; nothing to report")
    tables = with_real_sides(with_pooling_notes(with_checkpoint_notes(build_tables(result_set.rows), result_set),
                                                result_set), result_set)
    tables = with_training_data(tables, result_set)
    studies = load_studies(paths)
    if on_warning is not None:
        for warning in report_warnings(result_set, tables):
            on_warning(warning)
    target = Path(out) if out is not None else default_output_folder(paths)
    rendered = {name: _render(name, result_set, tables, studies) for name in chosen}  # all, before writing any
    return {name: atomic_write_text(target / OUTPUT_NAMES[name], text) for name, text in rendered.items()}


def with_checkpoint_notes(tables: list[WideTable], result_set: ResultSet) -> list[WideTable]:
    """Quality tables captioned with the steps their checkpoints were chosen at, where a run chose them."""
    selections = {key: record for run in result_set.runs()
                  for key, record in (run.settings.get("selection") or {}).items()}
    note = checkpoint_note(selections)
    return [replace(table, checkpoint_note=note) if table.kind == "quality" and note else table for table in tables]


def with_pooling_notes(tables: list[WideTable], result_set: ResultSet) -> list[WideTable]:
    """Quality tables told which of their values are means over pooled training runs (``slbench pool``)."""
    runs = result_set.runs()
    notes = [(run.label, pooling_note(run.settings)) for run in runs]
    pooled = [(label, note) for label, note in notes if note]
    if not pooled:
        return tables
    note = pooled[0][1] if len(runs) == 1 else " ".join(f"{label}: {note}" for label, note in pooled)
    return [replace(table, pooling_note=note) if table.kind == "quality" else table for table in tables]


def with_real_sides(tables: list[WideTable], result_set: ResultSet) -> list[WideTable]:
    """Quality tables told, per run whose rows they hold, which real images quality and memorisation used."""
    described = []
    for table in tables:
        if table.kind != "quality":
            described.append(table)
            continue
        runs, sides = [], {}
        for run in result_set.runs():
            rows = run.rows
            mine = rows[(rows["table"] == "quality") & (rows["features"] == table.features)
                        & (rows["resolution"].fillna(-1) == (table.resolution if table.resolution is not None else -1))]
            categories = list(dict.fromkeys(mine["category"]))
            use = run_side_use(run.settings, categories)
            runs.append((run.settings, categories))
            sides.update({(model, category): (use.quality, use.memorisation)
                          for model, category in zip(mine["model"], mine["category"])})
        described.append(replace(table, real_side_note=real_side_note(runs), real_sides=sides))
    return described


def with_training_data(tables: list[WideTable], result_set: ResultSet) -> list[WideTable]:
    """Quality tables warned when the runs record that the models of a class were trained on
    different real images (:mod:`reports.training_data`)."""
    shown = set(result_set.rows["model"])  # a model that several runs hold is shown as "<model> [<run>]"
    entries = [(f"{model} [{run.label}]" if f"{model} [{run.label}]" in shown else model, category, record)
               for run in result_set.runs() for model, category, record in training_data_entries(run.settings)]
    warning = unequal_training_data_warning(entries)
    if not warning:
        return tables
    return [replace(table, training_data_warning=warning) if table.kind == "quality" else table for table in tables]


def report_warnings(result_set: ResultSet, tables: list[WideTable]) -> list[str]:
    """Budget and sample-size warnings of every table, the training-data warning once (it is the
    runs', the same under every quality table), and the runs whose rows predate recorded budgets."""
    warnings = [f"{table.title} ({table.features}): {warning}" for table in tables
                for warning in (table.budget_warning, table.sample_warning) if warning]
    warnings += dict.fromkeys(table.training_data_warning for table in tables if table.training_data_warning)
    unrecorded = result_set.budget_unrecorded
    if unrecorded:
        warnings.append(f"{', '.join(unrecorded)}: written before slbench recorded training budgets; "
                        "kimg and step are unknown (shown as ?)")
    return warnings


def _render(name: str, result_set: ResultSet, tables: list[WideTable], studies: list[dict]) -> str:
    if name == "md":
        return render_markdown(result_set, tables)
    if name == "tex":
        return render_latex(result_set, tables) + ("\n" + latex_tables(studies) if studies else "")
    if name == "csv":
        return render_csv_wide(tables)
    plots = report_plots(tables) + prd_plots(result_set.runs()) + curve_plots(result_set)
    return render_html(result_set, tables, plots, studies)


def default_output_folder(folders: list[Path]) -> Path:
    """The results folder itself for one run; ``combined-<hash of the runs>`` beside the first for several."""
    if len(folders) == 1:
        resolved = folders[0].resolve()
        return resolved if resolved.is_dir() else resolved.parent
    return folder_beside_runs("combined", folders)


def folder_beside_runs(prefix: str, folders: Sequence[Path]) -> Path:
    """``<prefix>-<hash of the runs>`` beside the first run: the same runs, in any order, name one folder."""
    resolved = [Path(folder).resolve() for folder in folders]
    digest = hashlib.sha256("\n".join(sorted(str(f) for f in resolved)).encode()).hexdigest()[:8]
    return resolved[0].parent / f"{prefix}-{digest}"
