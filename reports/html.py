"""The HTML report: one self-contained file, readable in a browser without a server.

Everything is inline: the style sheet, and every image as a ``data:`` URI (sample grids,
real grids, memorisation pairs, plots); no script, no external font, link or image. All text
from the results (model names, notes, provenance) is HTML-escaped.

Sections: low-reliability flags, the tables, any scored reader study, per category the real grid beside each model's
generated grid, the plots, the memorisation pairs, and the provenance of every run.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any, Sequence

from reports.captions import DAGGER, LOW_RELIABILITY_NOTE, caption, direction_arrow, table_notes
from reports.formatting import format_interval, format_number
from reports.html_style import STYLE
from reports.images import EmbeddedImage, embed_image_data, embed_png_bytes
from reports.names import category_sort_key, metric_label, model_sort_key
from reports.plots import Plot
from reports.reader_study import html_section as reader_study_section
from reports.reading import MissingFile
from reports.results import ResultSet
from reports.tables import MAX_TABLE_COLUMNS, Cell, Column, WideTable, split_columns

KNOWN_ARTIFACTS = ("samples", "real", "memorisation_pairs", "tracks")
MAX_LIST_ITEMS = 12
MAX_FLAGS_LISTED = 12
MAX_VALUE_CHARS = 400
PLOT_SECTIONS = (
    ("scatter", "Precision–recall and density–coverage"),
    ("prd", "Precision–recall curves (PRD)"),
    ("sensitivity", "Per-class sensitivity"),
    ("bars", "Metrics per class"),
    ("curves", "Training curves (the ringed point is the checkpoint the tables report)"),
)


def render_html(
    result_set: ResultSet, tables: list[WideTable], plots: list[Plot], studies: Sequence[dict] = ()
) -> str:
    """The whole page as one string; ``studies`` are scored reader studies (:mod:`reports.reader_study`)."""
    sections = [
        ("tables", "Tables", _tables_section(tables)),
        ("reader-study", "Reader study", reader_study_section(list(studies))),
        ("samples", "Samples", _samples_section(result_set)),
        ("plots", "Plots", _plots_section(plots)),
        ("memorisation", "Memorisation", _memorisation_section(result_set, tables)),
        ("figures", "Further figures", _further_figures_section(result_set)),
        ("provenance", "Provenance", _provenance_section(result_set)),
    ]
    present = [(anchor, title, body) for anchor, title, body in sections if body]
    nav = "".join(f'<a href="#{anchor}">{escape(title)}</a>' for anchor, title, _ in present)
    body = "".join(
        f'<section id="{anchor}"><h2>{escape(title)}</h2>{content}</section>' for anchor, title, content in present
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>slbench report · {escape(result_set.label)}</title><style>{STYLE}</style></head><body>"
        f"{_page_header(result_set, tables)}"
        f'<nav class="toc"><div class="wrap">{nav}</div></nav>'
        f'<main class="wrap">{_flags(tables)}{body}'
        "<footer>Rendered by <code>slbench report</code> from stored results; "
        "the complete record of every run is its <code>metrics.json</code>.</footer>"
        "</main></body></html>\n"
    )


def _page_header(result_set: ResultSet, tables: list[WideTable]) -> str:
    runs = ", ".join(f"<code>{escape(run.label)}</code>" for run in result_set.runs())
    facts = []
    for kind, noun in (("quality", "model"), ("utility", "training arm")):
        chosen = [table for table in tables if table.kind == kind]
        names = sorted({model for table in chosen for model in table.models}, key=model_sort_key)
        if names:
            facts.append(f"{len(names)} {noun}{'s' if len(names) != 1 else ''}: {', '.join(names)}")
    categories = sorted({c for t in tables for c in t.categories() if c != "all"}, key=category_sort_key)
    if categories:
        facts.append(f"categories: {', '.join(categories)}")
    facts_html = "".join(f'<p class="sub">{escape(fact)}</p>' for fact in facts)
    return (
        '<header class="page"><div class="wrap"><h1>slbench report</h1>'
        f'<p class="sub">Results: {runs}</p>{facts_html}</div></header>'
    )


def _flags(tables: list[WideTable]) -> str:
    """Call-outs: unequal training budgets, training data and sample sizes, then the low-reliability values."""
    callouts = dict.fromkeys((title, text) for table in tables for title, text in (
        ("Unequal budgets.", table.budget_warning), ("Unequal training data.", table.training_data_warning),
        ("Unequal sample sizes.", table.sample_warning)) if text)
    flags = "".join(f'<div class="callout"><strong>{title}</strong> {escape(text)}</div>' for title, text in callouts)
    return flags + _low_reliability_flags(tables)


def _low_reliability_flags(tables: list[WideTable]) -> str:
    """A call-out listing the low-reliability values (the first :data:`MAX_FLAGS_LISTED` of them)."""
    flagged = []
    for table in tables:
        for column in table.columns:
            for model in table.models:
                cell = table.cell(model, column)
                if cell is not None and cell.low_reliability:
                    value = format_number(cell.value, column.decimals, signed=column.signed)
                    flagged.append(
                        f"<li>{escape(model)} · {escape(column.category)} · "
                        f"{escape(metric_label(column.metric))} = {escape(value)} ({escape(table.space)})</li>"
                    )
    if not flagged:
        return ""
    listed = flagged[:MAX_FLAGS_LISTED]
    if len(flagged) > MAX_FLAGS_LISTED:
        listed.append(f"<li>… and {len(flagged) - MAX_FLAGS_LISTED} more, marked {DAGGER} in the tables</li>")
    return (
        f'<div class="callout"><strong>{DAGGER} {len(flagged)} value{"s" if len(flagged) != 1 else ""} '
        f"flagged.</strong> {escape(LOW_RELIABILITY_NOTE)}<ul>{''.join(listed)}</ul></div>"
    )


def _tables_section(tables: list[WideTable]) -> str:
    return "".join(html_table(table) for table in tables)


def html_table(table: WideTable) -> str:
    """One result table with its caption and notes, as a ``<figure>`` (split when wide)."""
    parts = "".join(_html_tabular(table, part) for part in split_columns(table, MAX_TABLE_COLUMNS))
    notes = "".join(
        f'<li><span class="mark">{escape(mark)}</span>{escape(text)}</li>' for mark, text in table_notes(table)
    )
    return (
        f'<figure class="result-table" id="table-{escape(table.slug)}">'
        f"<figcaption><strong>{escape(table.heading)}</strong>"
        f"{escape(caption(table))}</figcaption>{parts}"
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "</figure>"
    )


def _html_tabular(whole: WideTable, table: WideTable) -> str:
    """One part of a table; note marks come from the whole table, so they agree across parts."""
    spans = table.category_spans()
    first_columns = {columns[0] for _, columns in spans}
    category_row = "".join(
        f'<th colspan="{len(columns)}" class="first">{escape(category)}</th>' for category, columns in spans
    )
    metric_row = "".join(
        f'<th{_class_attribute(["first"] if column in first_columns else [])} '
        f'title="{"higher" if column.higher_is_better else "lower"} is better">'
        f"{escape(metric_label(column.metric))} {direction_arrow(column.higher_is_better)}"
        f"{_note_sup(whole.column_mark(column), column.note)}</th>"
        for column in table.columns
    )
    budget_head = '<th rowspan="2" title="thousands of real images trained on">kimg</th>' if whole.shows_budget else ""
    body = "".join(
        f'<tr><th scope="row">{escape(model)}</th>'
        + (f'<td class="kimg">{escape(whole.kimg_text(model))}</td>' if whole.shows_budget else "")
        + "".join(_html_cell(whole, table.cell(model, c), c, c in first_columns) for c in table.columns)
        + "</tr>"
        for model in table.models
    )
    return (
        '<div class="scroll"><table class="results"><thead>'
        f'<tr class="cats"><th rowspan="2" class="model">{escape(table.row_heading)}</th>{budget_head}{category_row}</tr>'
        f"<tr>{metric_row}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _note_sup(mark: str | None, note: str) -> str:
    return f'<sup class="note" title="{escape(note)}">{escape(mark)}</sup>' if mark else ""


def _html_cell(whole: WideTable, cell: Cell | None, column: Column, first: bool) -> str:
    classes = ["first"] if first else []
    if cell is None:
        return f"<td{_class_attribute(classes)}>–</td>"
    value = escape(format_number(cell.value, column.decimals, signed=column.signed))
    text = f"<strong>{value}</strong>" if cell.best else value
    interval = format_interval(cell.value, cell.ci_low, cell.ci_high, column.decimals)
    if interval is not None:
        text += {
            "symmetric": f'<span class="ci"> ± {interval.plus}</span>',
            "asymmetric": f'<span class="ci"> +{interval.plus}/−{interval.minus}</span>',
            "range": f'<span class="ci"> [{interval.low}, {interval.high}]</span>',
        }[interval.kind]
    if cell.low_reliability:
        text += f'<sup class="flag" title="low reliability">{DAGGER}</sup>'
        classes.append("low")
    text += _note_sup(whole.cell_mark(cell, column), cell.note)
    if cell.best:
        classes.append("best")
    return f"<td{_class_attribute(classes)}>{text}</td>"


def _class_attribute(classes: list[str]) -> str:
    return f' class="{" ".join(classes)}"' if classes else ""


def _image(result_set: ResultSet, kind: str, key: str, alt: str) -> str:
    """An artifact as an ``<img>``, or a note saying why it is missing or unreadable.

    A refused file (see :meth:`reports.results.ResultSet.read_artifact`) is not a note: its
    :class:`reports.results.ResultsError` stops the report.
    """
    try:
        data = result_set.read_artifact(kind, key)
    except MissingFile as err:
        return f'<div class="missing">{escape(str(err))}</div>'
    if data is None:
        return f'<div class="missing">no image recorded for {escape(key)}</div>'
    try:
        image = embed_image_data(data, str(result_set.artifact_path(kind, key)))
    except ValueError as err:
        return f'<div class="missing">{escape(str(err))}</div>'
    return _img_tag(image, alt)


def _img_tag(image: EmbeddedImage, alt: str) -> str:
    pixel = ' class="pixel"' if image.pixelated else ""
    return f'<img{pixel} src="{image.data_uri}" width="{image.width}" height="{image.height}" alt="{escape(alt)}">'


def _by_category(keys: list[str]) -> dict[str, list[str]]:
    """``"<model>/<category>"`` keys grouped by category, models in report order."""
    grouped: dict[str, list[str]] = {}
    for key in keys:
        model, _, category = key.rpartition("/")
        grouped.setdefault(category, []).append(model)
    return {
        category: sorted(models, key=model_sort_key)
        for category, models in sorted(grouped.items(), key=lambda item: category_sort_key(item[0]))
    }


def _figure(content: str, title: str, subtitle: str = "", css_class: str = "") -> str:
    sub = f"<span>{escape(subtitle)}</span>" if subtitle else ""
    klass = f' class="{css_class}"' if css_class else ""
    return f"<figure{klass}>{content}<figcaption>{escape(title)}{sub}</figcaption></figure>"


def _samples_section(result_set: ResultSet) -> str:
    samples = _by_category(list(result_set.artifacts.get("samples", {})))
    real = result_set.artifacts.get("real", {})
    categories = sorted(set(samples) | set(real), key=category_sort_key)
    parts = []
    for category in categories:
        figures = []
        if category in real:
            figures.append(
                _figure(_image(result_set, "real", category, f"real {category} images"), "Real", category, "real")
            )
        for model in samples.get(category, []):
            key = f"{model}/{category}"
            image = _image(result_set, "samples", key, f"{model} samples, {category}")
            figures.append(_figure(image, model, "generated"))
        parts.append(f'<h3>{escape(category)}</h3><div class="gallery samples">{"".join(figures)}</div>')
    return "".join(parts)


def _plots_section(plots: list[Plot]) -> str:
    parts = []
    for section, heading in PLOT_SECTIONS:
        chosen = [plot for plot in plots if plot.section == section]
        if chosen:
            figures = "".join(
                f"<figure>{_img_tag(embed_png_bytes(p.png), p.title)}"
                + (f"<figcaption>{escape(p.caption)}</figcaption>" if p.caption else "")
                + "</figure>"
                for p in chosen
            )
            parts.append(f'<h3>{escape(heading)}</h3><div class="plots {section}">{figures}</div>')
    return "".join(parts)


def _memorisation_section(result_set: ResultSet, tables: list[WideTable]) -> str:
    pairs = _by_category(list(result_set.artifacts.get("memorisation_pairs", {})))
    parts = []
    for category, models in pairs.items():
        figures = []
        for model in models:
            key = f"{model}/{category}"
            alt = f"closest generated/real pairs, {model}, {category}"
            image = _image(result_set, "memorisation_pairs", key, alt)
            figures.append(_figure(image, model, _memorisation_value(tables, model, category)))
        parts.append(f'<h3>{escape(category)}</h3><div class="gallery">{"".join(figures)}</div>')
    if not parts:
        return ""
    lead = ("<p>The generated images closest in feature space to one of the real images memorisation was measured "
            "against (the training images when the checkpoints were trained on one side of the lesion split; the "
            "table caption says which), each with that image.</p>")
    return lead + "".join(parts)


def _memorisation_value(tables: list[WideTable], model: str, category: str) -> str:
    for table in tables:
        cell = table.cells.get((model, category, "memorisation"))
        if cell is not None and math.isfinite(cell.value):
            column = next(c for c in table.columns if c.category == category and c.metric == "memorisation")
            return f"{metric_label('memorisation')}: {format_number(cell.value, column.decimals)}"
    return "closest pairs"


def _further_figures_section(result_set: ResultSet) -> str:
    figures = []
    for kind in sorted(set(result_set.artifacts) - set(KNOWN_ARTIFACTS)):
        for key in sorted(result_set.artifacts[kind]):
            figures.append(_figure(_image(result_set, kind, key, key), key, kind))
    return f'<div class="gallery">{"".join(figures)}</div>' if figures else ""


def _provenance_section(result_set: ResultSet) -> str:
    parts = []
    for index, run in enumerate(result_set.runs()):
        where = f"<p>Folder: <code>{escape(str(run.folder))}</code></p>" if run.folder is not None else ""
        tables = "".join(
            _key_value_table(title, record)
            for title, record in (("Settings", run.settings), ("Provenance", run.provenance))
            if record
        )
        tables = tables or "<p>No settings or provenance were recorded.</p>"
        opened = " open" if index == 0 else ""
        parts.append(f'<details class="run"{opened}><summary>{escape(run.label)}</summary>{where}{tables}</details>')
    return "".join(parts)


def _key_value_table(title: str, record: dict) -> str:
    rows = "".join(f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>" for key, value in flatten_record(record))
    return f'<table class="kv"><caption>{escape(title)}</caption>{rows}</table>'


def flatten_record(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested settings/provenance as (``a › b › c``, text) pairs; long lists and values shortened."""
    if isinstance(value, dict):
        if not value:
            return [(prefix or "(empty)", "{}")]
        items = []
        for key, item in value.items():
            items.extend(flatten_record(item, f"{prefix} › {key}" if prefix else str(key)))
        return items
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return [pair for index, item in enumerate(value) for pair in flatten_record(item, f"{prefix} › {index}")]
    return [(prefix, _short_text(value))]


def _short_text(value: Any) -> str:
    if isinstance(value, list):
        shown = ", ".join(_scalar_text(item) for item in value[:MAX_LIST_ITEMS])
        extra = len(value) - MAX_LIST_ITEMS
        return shown + (f", … ({extra} more in metrics.json)" if extra > 0 else "")
    text = _scalar_text(value)
    if len(text) > MAX_VALUE_CHARS:
        return text[:MAX_VALUE_CHARS] + f"… ({len(text)} characters in metrics.json)"
    return text


def _scalar_text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)

