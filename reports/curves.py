"""Training curves: each metric against kimg for every model and class a run holds a track of.

``slbench run`` copies the track of each evaluated checkpoint folder into its results
(artifact kind ``tracks``, key ``<model>/<category>``) and records the evaluated checkpoint's
step in the pair's provenance. One figure per metric and measurement space (protocol, or
extractor and resolution), one panel per class, the models overlaid with a colour and a marker
each (readable in greyscale), the bootstrap interval as a band where the track has one, and the
step the tables report marked with a large ringed marker. Tracks measured in different spaces
never share an axis, for the reason two protocols never share a table column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from reports.captions import direction_arrow
from reports.measurement_space import settings_measurement_space
from reports.names import category_sort_key, metric_label, metric_sort_key, model_sort_key
from reports.plots import (
    TEXT_COLOUR,
    Plot,
    _legend_width,
    _new_figure,
    _rendered,
    _style_axes,
    literal_text,
    model_styles,
)
from reports.results import ResultSet
from reports.tracks import Track, TrackError, load_track

TRACKS = "tracks"


@dataclass(frozen=True)
class Curve:
    """One model's track of one metric on one class, and the step the report's tables show."""

    model: str
    category: str
    metric: str
    higher_is_better: bool
    kimg: tuple[float, ...]
    steps: tuple[int, ...]
    values: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    chosen_step: int | None
    space: str


def track_curves(track: Track, chosen_step: int | None = None) -> list[Curve]:
    """Every metric of one track as a curve against kimg (steps without a kimg are left out)."""
    curves = []
    for metric in track.metrics():
        rows = [row for row in track.values(metric) if math.isfinite(row["kimg"])]
        if rows:
            curves.append(Curve(track.model or "?", track.category or "?", metric, bool(rows[0]["higher_is_better"]),
                                *(tuple(row[field] for row in rows)
                                  for field in ("kimg", "step", "value", "ci_low", "ci_high")),
                                chosen_step, settings_measurement_space(track.settings)))
    return curves


def collect_curves(result_set: ResultSet) -> list[Curve]:
    """Every (model, category, metric) curve of the tracks the runs recorded; unreadable tracks are skipped."""
    curves = []
    for run in result_set.runs():
        for key in sorted(run.artifacts.get(TRACKS, {})):
            path = run.artifact_path(TRACKS, key)
            try:
                track = load_track(Path(path))
            except TrackError:
                continue
            model, _, category = key.rpartition("/")
            chosen = run.provenance.get("pairs", {}).get(key, {}).get("checkpoint", {}).get("metadata", {}).get("step")
            curves.extend(replace(curve, model=model, category=category)
                          for curve in track_curves(track, int(chosen) if isinstance(chosen, int) else None))
    return curves


def curve_figure(curves: list[Curve], models: tuple[str, ...]) -> Figure:
    """One metric's curves: a panel per class, models overlaid, CI bands, the chosen step ringed."""
    categories = sorted({curve.category for curve in curves}, key=category_sort_key)
    metric, higher, space = curves[0].metric, curves[0].higher_is_better, curves[0].space
    width = 0.6 + 4.2 * len(categories)
    styles = model_styles(models)
    handles = [Line2D([], [], color=styles[m][0], marker=styles[m][1], label=m) for m in models
               if any(c.model == m for c in curves)]
    handles.append(Line2D([], [], color="#222222", marker="o", markersize=11, markerfacecolor="none",
                          linestyle="none", label="reported checkpoint"))
    columns = max(1, min(len(handles), int(width // _legend_width([h.get_label() for h in handles]))))
    legend_height = 0.28 * math.ceil(len(handles) / columns)
    figure = _new_figure(width, 3.5 + legend_height, left=0.85, right=0.3, bottom=0.7 + legend_height, top=0.55)
    figure.subplots_adjust(wspace=0.28)
    panels = figure.subplots(1, len(categories), squeeze=False)[0]
    for axes, category in zip(panels, categories):
        _style_axes(axes)
        for curve in sorted((c for c in curves if c.category == category), key=lambda c: model_sort_key(c.model)):
            _draw_curve(axes, curve, styles[curve.model])
        axes.set_title(category, fontsize=10, color=TEXT_COLOUR)
        axes.set_xlabel("kimg", color=TEXT_COLOUR)
    panels[0].set_ylabel(f"{metric_label(metric)} {direction_arrow(higher)}", color=TEXT_COLOUR)
    figure.legend(handles=handles, loc="lower center", ncols=columns, frameon=False, fontsize=9)
    figure.suptitle(f"{metric_label(metric)} during training, {space} ({'higher' if higher else 'lower'} is better)",
                    fontsize=11, color=TEXT_COLOUR)
    return figure


def _draw_curve(axes, curve: Curve, style: tuple[str, str]) -> None:
    colour, marker = style
    axes.plot(curve.kimg, curve.values, color=colour, marker=marker, markersize=5, linewidth=1.5, label=curve.model)
    banded = [i for i in range(len(curve.kimg)) if math.isfinite(curve.ci_low[i]) and math.isfinite(curve.ci_high[i])]
    if banded:
        axes.fill_between([curve.kimg[i] for i in banded], [curve.ci_low[i] for i in banded],
                          [curve.ci_high[i] for i in banded], color=colour, alpha=0.18, linewidth=0)
    if curve.chosen_step in curve.steps:
        index = curve.steps.index(curve.chosen_step)
        axes.plot([curve.kimg[index]], [curve.values[index]], marker="o", markersize=13, markerfacecolor="none",
                  markeredgecolor="#222222", markeredgewidth=1.6, linestyle="none", zorder=5)


def curve_plots(result_set: ResultSet) -> list[Plot]:
    """The training-curve figures of a report's runs."""
    return curve_figures(collect_curves(result_set))


@literal_text
def curve_figures(curves: list[Curve]) -> list[Plot]:
    """One figure per metric (in report order) and measurement space, the models colour-coded alike in all."""
    models = tuple(sorted({curve.model for curve in curves}, key=model_sort_key))
    spaces = sorted({curve.space for curve in curves})
    plots = []
    for metric in sorted({curve.metric for curve in curves}, key=metric_sort_key):
        for number, space in enumerate(spaces):
            chosen = [curve for curve in curves if curve.metric == metric and curve.space == space]
            if chosen:
                title, name = f"{metric_label(metric)} during training", f"curve-{metric}"
                if len(spaces) > 1:
                    title, name = f"{title}, {space}", f"{name}-{number + 1}"
                plots.extend(_rendered("curves", name, title, curve_figure(chosen, models)))
    return plots
