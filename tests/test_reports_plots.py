"""Plots: what each figure draws matches the table it was drawn from."""

from __future__ import annotations

import warnings
from math import nan

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.patches import Rectangle

from reports.curves import Curve, curve_figure
from reports.plots import figure_png, metric_bars, quality_scatter, report_plots, sensitivity_plot
from reports.results import load_results
from reports.tables import build_tables
from reports_factory import quality_rows, utility_rows, write_run


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plots")
    rows = quality_rows() + utility_rows()
    rows[0]["low_reliability"] = True  # sl-stylegan, MEL, fid
    write_run(folder, rows, artifacts=False)
    return build_tables(load_results(folder).rows)


def _bars(figure):
    return [p for p in figure.axes[0].patches if isinstance(p, Rectangle)]


def test_bar_chart_draws_one_bar_per_model_and_category_with_ci_error_bars(tables):
    quality = tables[0]
    figure = metric_bars(quality, "fid")
    bars = _bars(figure)
    assert len(bars) == 6
    heights = [round(bar.get_height(), 6) for bar in bars]
    assert heights == [30.25, 21.5, 33.0, 27.0, 71.0, 64.0]  # per model: NV then MEL
    hatched = [bar.get_hatch() for bar in bars]
    assert hatched == [None, "///", None, None, None, None]  # sl-stylegan on MEL is low-reliability
    error_segments = [c for c in figure.axes[0].collections if isinstance(c, LineCollection)]
    spans = sorted(round(float(abs(seg[1][1] - seg[0][1])), 6) for c in error_segments for seg in c.get_segments())
    assert spans == [2.5] * 6  # every FID value carries a ±1.25 interval
    assert "lower is better" in figure.axes[0].get_title()


def test_bar_chart_without_intervals_draws_no_error_bars(tables):
    figure = metric_bars(tables[0], "precision")
    assert not [c for c in figure.axes[0].collections if isinstance(c, LineCollection)]
    assert figure.axes[0].get_ylim() == (0.0, 1.05)


def test_scatter_places_each_model_at_its_precision_and_recall(tables):
    figure = quality_scatter(tables[0], "MEL")
    assert len(figure.axes) == 2
    points = {}
    for container in figure.axes[0].containers:  # one errorbar container per model
        line = container.lines[0]
        points[container.get_label()] = (float(line.get_xdata()[0]), float(line.get_ydata()[0]))
    assert points == {"sl-stylegan": (0.81, 0.42), "stylegan": (0.77, 0.40), "dcgan": (0.52, 0.55)}
    assert figure.axes[1].get_xlabel() == "Density" and figure.axes[1].get_ylabel() == "Coverage"
    assert quality_scatter(tables[1], "all") is None  # utility rows have no precision/recall


def test_sensitivity_plot_has_every_arm_per_class_but_not_all(tables):
    figure = sensitivity_plot(tables[1])
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert labels == ["BCC", "NV", "MEL"]
    heights = [round(bar.get_height(), 6) for bar in _bars(figure)]
    assert heights == [0.66, 0.61, 0.56, 0.71, 0.66, 0.61, 0.45, 0.40, 0.35]


def test_report_plots_cover_scatter_bars_and_sensitivity_as_reproducible_pngs(tmp_path):
    shown = {"fid", "precision", "recall"}
    rows = [row for row in quality_rows(categories=("MEL",)) if row["metric"] in shown] + utility_rows()
    write_run(tmp_path, rows, artifacts=False)
    tables = build_tables(load_results(tmp_path).rows)
    plots = report_plots(tables)
    assert [plot.name for plot in plots] == [
        "quality-inception-256-MEL-scatter",
        "quality-inception-256-fid-bars",
        "quality-inception-256-precision-bars",
        "quality-inception-256-recall-bars",
        "utility-resnet18-64-sensitivity",  # drawn once, as the per-class plot, not again as bars
        "utility-resnet18-64-balanced_accuracy-bars",
        "utility-resnet18-64-gain_balanced_accuracy-bars",
    ]
    assert all(plot.png.startswith(b"\x89PNG\r\n\x1a\n") for plot in plots)
    assert figure_png(metric_bars(tables[0], "fid")) == plots[1].png


@pytest.mark.parametrize("categories", [("MEL",), ("MEL", "NV", "BCC")])
def test_training_curves_keep_every_legend_entry_inside_the_figure(categories):
    models = ("sl-stylegan", "stylegan", "dcgan")
    curves = [Curve(model, category, "fid", False, (1.6, 3.2), (100, 200), (40.0, 30.0), (nan, nan), (nan, nan),
                    200, "lesion · 32 px") for model in models for category in categories]
    figure = curve_figure(curves, models)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # lays the legend out
    renderer = canvas.get_renderer()
    inside = figure.bbox
    (legend,) = figure.legends
    assert len(legend.get_texts()) == len(models) + 1  # the models and the reported checkpoint
    for text in legend.get_texts():
        box = text.get_window_extent(renderer)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0, text.get_text()
    axes_bottom = min(axes.get_window_extent(renderer).y0 for axes in figure.axes)
    assert legend.get_window_extent(renderer).y1 < axes_bottom  # below the panels, not over them


def test_a_dollar_in_a_model_name_is_drawn_as_written_not_parsed_as_mathtext(tmp_path):
    rows = [row | {"model": "$x^$"} for row in quality_rows(models=("dcgan",), categories=("MEL",))]
    write_run(tmp_path, rows, artifacts=False)
    plots = report_plots(build_tables(load_results(tmp_path).rows))  # mathtext would fail to parse "$x^$"
    assert plots and all(plot.png.startswith(b"\x89PNG") for plot in plots)


def test_a_metric_without_a_finite_value_gets_no_figure_and_no_warning(tmp_path):
    rows = quality_rows(models=("dcgan",), categories=("MEL",))
    for row in rows:
        if row["metric"] in ("fid", "precision"):
            row["value"] = nan
    write_run(tmp_path, rows, artifacts=False)
    table = build_tables(load_results(tmp_path).rows)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metric_bars(table, "fid") is None
        assert quality_scatter(table, "MEL") is not None  # density-coverage still has its values
        assert metric_bars(table, "recall") is not None
