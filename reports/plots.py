"""Report figures (matplotlib, Agg canvas, no display): scatter plots, bar charts, sensitivity.

* precision-recall and density-coverage of each model, per category (Kynkäänniemi et al.
  2019; Naeem et al. 2020), with the ideal point marked;
* the PRD curves of every model, per category (Sajjadi et al. 2018), from the curves a run
  stores in its provenance, with their settings in the caption;
* a bar chart per metric: categories along x, one bar per model, confidence intervals as
  error bars, hatched bars for low-reliability values;
* the per-class sensitivity of each utility arm.

Figures are drawn on :class:`matplotlib.figure.Figure` with an Agg canvas, so no global pyplot
state is touched and no display is needed; PNGs carry no timestamp, so they are reproducible.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from typing import Callable, ParamSpec, TypeVar

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.captions import direction_arrow
from reports.measurement_space import settings_measurement_space
from reports.names import category_sort_key, metric_label, model_sort_key
from reports.tables import Cell, WideTable

DPI = 100
PALETTE = ("#1b6ca8", "#e07b24", "#3a9a47", "#c8453b", "#8064a8", "#8c5a4a", "#d46fb3", "#6f6f6f", "#a8a32b", "#2bb0c2")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "<", ">")
SCATTER_PAIRS = (("precision", "recall"), ("density", "coverage"))
UNIT_METRICS = frozenset(
    {"precision", "recall", "coverage", "sensitivity", "specificity"}
    | {"balanced_accuracy", "accuracy", "auc_macro", "f1_macro"}
)
"""Metrics bounded by [0, 1]: their bar charts share that axis."""
TEXT_COLOUR = "#222222"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Plot:
    """One rendered figure of the report."""

    section: str  # "scatter", "prd", "bars" or "sensitivity"
    name: str  # file-safe identifier
    title: str
    png: bytes
    caption: str = ""  # shown under the figure where the settings behind it must be stated


def figure_png(figure: Figure) -> bytes:
    """PNG bytes of a figure, without a timestamp or software tag (byte-reproducible)."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def model_styles(models: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """A stable (colour, marker) per model, by its position in the table."""
    return {model: (PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]) for i, model in enumerate(models)}


def _new_figure(width: float, height: float, *, left: float, right: float, bottom: float, top: float) -> Figure:
    """A figure with margins fixed in inches (cheaper than a layout engine, and just as tidy here)."""
    figure = Figure(figsize=(width, height), facecolor="white")
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)
    return figure


def _legend_width(labels: list[str]) -> float:
    """Inches a legend of these labels needs at font size 9, handle included."""
    return 0.55 + 0.075 * max((len(label) for label in labels), default=0)


def _style_axes(axes) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(True, color="#e4e4e4", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.tick_params(colors=TEXT_COLOUR, labelsize=9)


def _finite(cell: Cell | None) -> bool:
    return cell is not None and math.isfinite(cell.value)


def literal_text(build: Callable[P, R]) -> Callable[P, R]:
    """``build`` with matplotlib's mathtext off while it makes and renders its figures, so a ``$``
    in a model, class or folder name is drawn as written instead of parsed as a formula."""
    @functools.wraps(build)
    def built(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context({"text.parse_math": False}):
            return build(*args, **kwargs)
    return built


def _error(cell: Cell) -> list[list[float]] | None:
    """Error-bar lengths ``[[below], [above]]`` for matplotlib, ``None`` without an interval.

    A side is zero when the estimate lies outside its interval (percentile bootstrap can do that).
    """
    if not cell.has_ci:
        return None
    return [[max(cell.value - cell.ci_low, 0.0)], [max(cell.ci_high - cell.value, 0.0)]]


def quality_scatter(table: WideTable, category: str) -> Figure | None:
    """Precision-recall and density-coverage of every model in one category; ``None`` if neither pair is there."""
    metrics = {column.metric for column in table.columns if column.category == category}
    pairs = [pair for pair in SCATTER_PAIRS if set(pair) <= metrics]
    if not pairs:
        return None
    figure = _new_figure(0.2 + 4.1 * len(pairs), 4.2, left=0.7, right=0.3, bottom=1.05, top=0.7)
    figure.subplots_adjust(wspace=0.3)
    styles = model_styles(table.models)
    for axes, (x_metric, y_metric) in zip(figure.subplots(1, len(pairs), squeeze=False)[0], pairs):
        _scatter_panel(axes, table, category, x_metric, y_metric, styles)
    legend: dict[str, object] = {}  # every model drawn in either panel, once
    for axes in figure.axes:
        for handle, label in zip(*axes.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    if not legend:
        return None  # no model has a finite pair of values in this category
    handles, labels = list(legend.values()), list(legend)
    figure.legend(handles, labels, loc="lower center", ncols=min(len(labels), 4), frameon=False, fontsize=9)
    figure.suptitle(f"{category}: fidelity and diversity ({table.space})", fontsize=11, color=TEXT_COLOUR)
    return figure


def _scatter_panel(axes, table: WideTable, category: str, x_metric: str, y_metric: str, styles) -> None:
    _style_axes(axes)
    largest = 1.0
    for model in table.models:
        x_cell = table.cells.get((model, category, x_metric))
        y_cell = table.cells.get((model, category, y_metric))
        if x_cell is None or y_cell is None or not (math.isfinite(x_cell.value) and math.isfinite(y_cell.value)):
            continue
        colour, marker = styles[model]
        flagged = x_cell.low_reliability or y_cell.low_reliability
        axes.errorbar(
            x_cell.value,
            y_cell.value,
            xerr=_error(x_cell),
            yerr=_error(y_cell),
            fmt=marker,
            markersize=8,
            color=colour,
            markerfacecolor="white" if flagged else colour,
            ecolor=colour,
            elinewidth=1,
            capsize=3,
            label=model + (" †" if flagged else ""),
        )
        largest = max(largest, x_cell.value, y_cell.value)
    axes.plot([1.0], [1.0], marker="*", markersize=13, color="#bbbbbb", linestyle="none", zorder=0)
    axes.annotate(
        "ideal", (1.0, 1.0), xytext=(-6, -14), textcoords="offset points", fontsize=8, color="#888888", ha="right"
    )
    axes.set_xlim(0, max(1.05, largest * 1.1) if x_metric == "density" else 1.05)
    axes.set_ylim(0, 1.05)
    axes.set_xlabel(metric_label(x_metric), color=TEXT_COLOUR)
    axes.set_ylabel(metric_label(y_metric), color=TEXT_COLOUR)
    axes.set_title(f"{metric_label(x_metric)} vs {metric_label(y_metric)}", fontsize=10, color=TEXT_COLOUR)


def metric_bars(
    table: WideTable, metric: str, *, categories: tuple[str, ...] | None = None, title: str | None = None
) -> Figure | None:
    """Grouped bars of one metric: categories along x, one bar per model, CI error bars."""
    columns = [c for c in table.columns if c.metric == metric and (categories is None or c.category in categories)]
    if not columns:
        return None
    models = [m for m in table.models if any(_finite(table.cell(m, c)) for c in columns)]
    if not models:
        return None
    styles = model_styles(table.models)
    legend = _legend_width(models)
    plot_width = max(3.2, 0.32 * len(columns) * len(models) + 0.3 * len(columns))
    figure = _new_figure(0.85 + plot_width + legend, 3.6, left=0.85, right=legend, bottom=0.45, top=0.4)
    axes = figure.subplots()
    _style_axes(axes)
    axes.grid(axis="x", visible=False)
    width = 0.8 / len(models)
    any_flagged = False
    for index, model in enumerate(models):
        colour, label = styles[model][0], model
        for position, column in enumerate(columns):
            cell = table.cell(model, column)
            if not _finite(cell):
                continue
            x = position - 0.4 + width * (index + 0.5)
            hatch = "///" if cell.low_reliability else None
            any_flagged |= cell.low_reliability
            edge = "white" if hatch else colour
            axes.bar([x], [cell.value], width * 0.92, color=colour, hatch=hatch, edgecolor=edge, label=label)
            label = None
            if cell.has_ci:
                axes.errorbar(
                    [x], [cell.value], yerr=_error(cell), fmt="none", ecolor="#333333", elinewidth=1, capsize=3
                )
    axes.set_xticks(range(len(columns)), [c.category for c in columns])
    axes.axhline(0, color="#888888", linewidth=0.8)
    if metric in UNIT_METRICS:
        axes.set_ylim(0, 1.05)
    direction = columns[0].higher_is_better
    axes.set_ylabel(f"{metric_label(metric)} {direction_arrow(direction)}", color=TEXT_COLOUR)
    heading = title or f"{metric_label(metric)} ({'higher' if direction else 'lower'} is better)"
    flagged = " · hatched: low reliability" if any_flagged else ""
    axes.set_title(f"{heading} · {table.space}{flagged}", fontsize=10, color=TEXT_COLOUR)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9)
    return figure


def sensitivity_plot(table: WideTable) -> Figure | None:
    """Per-class sensitivity of every utility arm (the ``all`` row is left out)."""
    per_class = tuple(c.category for c in table.columns if c.metric == "sensitivity" and c.category != "all")
    if not per_class:
        return None
    return metric_bars(table, "sensitivity", categories=per_class, title="Per-class sensitivity")


@literal_text
def report_plots(tables: list[WideTable]) -> list[Plot]:
    """Every figure of the report, in page order, as PNG bytes."""
    plots: list[Plot] = []
    for table in tables:
        if table.kind == "quality":
            for category in table.categories():
                scatter = quality_scatter(table, category)
                plots.extend(_rendered("scatter", f"{table.slug}-{category}-scatter", category, scatter))
        sensitivity = sensitivity_plot(table) if table.kind == "utility" else None
        plots.extend(_rendered("sensitivity", f"{table.slug}-sensitivity", "Per-class sensitivity", sensitivity))
        for metric in table.metrics():
            if sensitivity is not None and metric == "sensitivity":
                continue
            heading = f"{metric_label(metric)} · {table.space}"
            plots.extend(_rendered("bars", f"{table.slug}-{metric}-bars", heading, metric_bars(table, metric)))
    return plots


def _rendered(section: str, name: str, title: str, figure: Figure | None, caption: str = "") -> list[Plot]:
    if figure is None:
        return []
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)
    return [Plot(section, safe, title, figure_png(figure), caption)]


def stored_prd_curves(runs) -> dict[tuple[str, str], dict[str, dict]]:
    """(space, category) -> model -> the stored PRD curve (``provenance.pairs["model/category"].prd_curve``).

    The space (:func:`reports.measurement_space.measurement_space`) names the run's protocol,
    extractor and resolution, so curves measured in different feature spaces, under different
    protocols or at different resolutions are never drawn on one set of axes."""
    curves: dict[tuple[str, str], dict[str, dict]] = {}
    for run in runs:
        space = settings_measurement_space(run.settings if isinstance(run.settings, dict) else {})
        for key, pair in (run.provenance.get("pairs") or {}).items():
            curve = pair.get("prd_curve") if isinstance(pair, dict) else None
            if isinstance(curve, dict) and "/" in key:
                model, category = key.rsplit("/", 1)
                curves.setdefault((space, category), {})[model] = curve
    return curves


def prd_caption(curves: dict[str, dict]) -> str:
    """What the curves were computed with, from the stored settings (one line per distinct setting)."""
    described = []
    for model, curve in curves.items():
        s = curve.get("settings", {})
        text = (f"{s.get('num_clusters')} clusters, {s.get('num_angles')} angles, {s.get('num_runs')} runs averaged, "
                f"equal set sizes ({curve.get('set_size')} per set)")
        described.append(f"{model}: {text}")
    settings = {line.split(": ", 1)[1] for line in described}
    body = settings.pop() if len(settings) == 1 else "; ".join(described)
    return f"PRD (Sajjadi et al. 2018): {body}. F8 weights recall, F1/8 precision."


def prd_figure(category: str, curves: dict[str, dict], models: tuple[str, ...]) -> Figure:
    """Every model's PRD curve in one category: recall along x, precision along y."""
    figure = _new_figure(5.6, 4.2, left=0.7, right=1.6, bottom=0.6, top=0.45)
    axes = figure.subplots()
    _style_axes(axes)
    styles = model_styles(models)
    for model in models:
        if model in curves:
            colour = styles[model][0]
            axes.plot(curves[model]["recall"], curves[model]["precision"], color=colour, linewidth=1.6, label=model)
    axes.set_xlim(0, 1.02)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("Recall", color=TEXT_COLOUR)
    axes.set_ylabel("Precision", color=TEXT_COLOUR)
    axes.set_title(f"{category}: PRD curves", fontsize=10, color=TEXT_COLOUR)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9)
    return figure


@literal_text
def prd_plots(runs) -> list[Plot]:
    """One PRD figure per category and space of the stored runs, models in a stable order."""
    plots: list[Plot] = []
    ordered = sorted(stored_prd_curves(runs).items(), key=lambda item: (category_sort_key(item[0][1]), item[0][0]))
    for (space, category), curves in ordered:
        models = tuple(sorted(curves, key=model_sort_key))
        title = f"{category}: PRD curves ({space})"
        plots.extend(_rendered("prd", f"prd-{category}-{space}", title, prd_figure(category, curves, models),
                               prd_caption(curves)))
    return plots
