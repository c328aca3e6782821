"""Seed summaries, the paired comparison with the baseline and the tidy rows of the utility table."""

from __future__ import annotations

import math

import pytest
from rich.console import Console

from reports.render import render_report
from reports.results import write_results
from reports.schema import COLUMNS
from reports_factory import utility_rows as factory_utility_rows
from reports.intervals import mean_interval, mean_std
from slbench.metrics.registry import RATE
from slbench.utility.compare import RowContext, paired_gain, sensitivity_table, summary_table, utility_rows
from slbench.utility.scores import ClassificationScores


def test_mean_and_sample_std_over_seeds():
    mean, std = mean_std([0.5, 0.7, 0.9])
    assert mean == pytest.approx(0.7)
    assert std == pytest.approx(0.2)  # ddof 1: sqrt((0.04 + 0 + 0.04) / 2)
    assert math.isnan(mean_std([0.5])[1])


def test_paired_gain_matches_the_t_test_by_hand():
    gain = paired_gain([0.5, 0.6, 0.7], [0.6, 0.65, 0.8])
    # differences 0.1, 0.05, 0.1: mean 1/12, sd sqrt(1/1200), t = mean / (sd / sqrt 3) = 5
    assert gain.mean == pytest.approx(1 / 12)
    assert gain.std == pytest.approx(math.sqrt(1 / 1200))
    assert gain.t_statistic == pytest.approx(5.0)
    # Student t with 2 degrees of freedom: P(|T| > t) = 1 - t / sqrt(2 + t^2)
    assert gain.p_value == pytest.approx(1 - 5 / math.sqrt(27))
    assert gain.ci_low < gain.mean < gain.ci_high
    assert "p=0.03775" in gain.note()


def test_paired_gain_without_spread_has_no_test():
    constant = paired_gain([0.5, 0.6], [0.6, 0.7])
    assert constant.mean == pytest.approx(0.1)
    assert math.isnan(constant.p_value)
    assert "same for every seed" in constant.note()
    single = paired_gain([0.5], [0.6])
    assert math.isnan(single.p_value) and "one seed" in single.note()


def whole(table):
    """A fitted table as the one rich table it prints on a console wide enough for it."""
    return table.table(range(len(table.values)), stacked=False)


def _scores(ba: float, sens_a: float) -> ClassificationScores:
    return ClassificationScores(
        balanced_accuracy=ba, auc_macro=0.8,
        sensitivity={"MEL": sens_a, "NV": 0.9}, specificity={"MEL": 0.9, "NV": sens_a},
        auc={"MEL": 0.8, "NV": 0.8}, test_counts={"MEL": 10, "NV": 40},
    )


def test_rows_hold_every_metric_per_arm_and_the_paired_gain():
    context = RowContext(classifier="resnet18", resolution=32, seed=4, seeds=(4, 5, 6))
    scores = {
        "real-only": [_scores(0.5, 0.2), _scores(0.6, 0.3), _scores(0.7, 0.4)],
        "real+dcgan": [_scores(0.6, 0.5), _scores(0.65, 0.6), _scores(0.8, 0.7)],
    }
    rows = utility_rows(scores, {"real+dcgan": {"MEL": 30}}, context)
    assert all(tuple(row) == COLUMNS for row in rows)
    assert {row["table"] for row in rows} == {"utility"}
    by_key = {(r["model"], r["category"], r["metric"]): r for r in rows}
    assert len(by_key) == len(rows) == 2 * (2 + 2 * 2) + 1
    baseline = by_key[("real-only", "all", "balanced_accuracy")]
    assert baseline["value"] == pytest.approx(0.6) and baseline["std"] == pytest.approx(0.1)
    assert baseline["n_real"] == 50 and baseline["n_fake"] == 0 and baseline["low_reliability"]
    mel = by_key[("real+dcgan", "MEL", "sensitivity")]
    assert mel["value"] == pytest.approx(0.6) and mel["n_fake"] == 30 and mel["n_real"] == 10
    assert mel["low_reliability"] and not by_key[("real+dcgan", "NV", "sensitivity")]["low_reliability"]
    gain = by_key[("real+dcgan", "all", "gain_balanced_accuracy")]
    assert gain["value"] == pytest.approx(1 / 12) and "p=0.03775" in gain["note"]
    assert ("real-only", "all", "gain_balanced_accuracy") not in by_key
    assert all(r["features"] == "resnet18" and r["resolution"] == 32 and r["seed"] == 4 for r in rows)


def test_tables_show_one_line_per_arm_with_its_numbers():
    context = RowContext(classifier="resnet18", resolution=32, seed=0, seeds=(0, 1))
    rows = utility_rows({"real-only": [_scores(0.5, 0.2)] * 2, "real+dcgan": [_scores(0.6, 0.2), _scores(0.7, 0.4)]},
                        {"real+dcgan": {"MEL": 5}}, context)
    summary = whole(summary_table(rows))
    assert summary.row_count == 2
    assert list(summary.columns[0].cells) == ["real-only", "real+dcgan"]
    # the 95% t interval of the paired gain over 2 seeds (t = 12.71), as the reports print it, not the std
    assert list(summary.columns[4].cells) == ["", "+0.150 ± 0.635"]
    assert list(summary.columns[1].cells) == ["–", "?"]  # no generator; a generator of unrecorded budget
    sensitivity = sensitivity_table(rows, ["MEL", "NV"])
    assert [c.header for c in sensitivity.columns] == ["arm", "MEL", "NV"]
    assert list(sensitivity.columns[1].cells) == ["0.20", "0.30"]


def test_mean_interval_is_the_student_t_interval_of_the_mean():
    low, high = mean_interval([0.6, 0.7, 0.8])
    # mean 0.7, sample std 0.1, t(0.975, df=2) = 4.302652729749464
    half_width = 4.302652729749464 * 0.1 / 3**0.5
    assert low == pytest.approx(0.7 - half_width) and high == pytest.approx(0.7 + half_width)
    assert all(map(math.isnan, mean_interval([0.5])))


def test_mean_interval_of_a_rate_stays_inside_zero_and_one():
    low, high = mean_interval([0.9, 1.0, 1.0], RATE)
    assert high == 1.0 and 0.0 < low < 0.9
    assert mean_interval([0.0, 0.1, 0.0], RATE)[0] == 0.0


def test_the_summary_keeps_every_arm_name_whole_on_an_80_column_console():
    console = Console(width=80, record=True, color_system=None)
    console.print(summary_table(factory_utility_rows()))
    text = console.export_text()
    assert "synthetic-only:dcgan" in text and "…" not in text


def test_rows_of_a_synthetic_arm_carry_the_budget_of_the_checkpoints_they_drew_from():
    budgets = {"real+dcgan": {"MEL": (700, 11.2), "NV": (700, 11.2)}, "real+stylegan": {"MEL": (40, 0.64), "NV": (80, 1.28)}}
    context = RowContext(classifier="resnet18", resolution=32, seed=0, seeds=(0, 1), budgets=budgets)
    scores = [_scores(0.6, 0.5), _scores(0.7, 0.6)]
    rows = utility_rows({"real-only": scores, "real+dcgan": scores, "real+stylegan": scores}, {}, context)
    by_key = {(r["model"], r["category"], r["metric"]): (r["step"], r["kimg"]) for r in rows}
    assert by_key[("real+dcgan", "all", "balanced_accuracy")] == (700, 11.2)
    assert by_key[("real+dcgan", "all", "gain_balanced_accuracy")] == (700, 11.2)
    assert by_key[("real+stylegan", "NV", "sensitivity")] == (80, 1.28)
    assert by_key[("real+stylegan", "all", "balanced_accuracy")] == (None, None)  # its classes differ
    assert by_key[("real-only", "MEL", "sensitivity")] == (None, None)


def test_summary_and_report_show_each_arms_generator_budget(tmp_path):
    context = RowContext(classifier="resnet18", resolution=32, seed=0, seeds=(0, 1),
                         budgets={"real+dcgan": {"MEL": (700, 11.2), "NV": (700, 11.2)}})
    scores = [_scores(0.6, 0.5), _scores(0.7, 0.6)]
    rows = utility_rows({"real-only": scores, "real+dcgan": scores}, {"real+dcgan": {"MEL": 5}}, context)
    assert list(whole(summary_table(rows)).columns[1].cells) == ["–", "11.2"]
    folder = write_results(tmp_path, rows, settings={}, provenance={}, artifacts={})
    report = render_report(folder, formats="md")["md"].read_text()
    assert "| real-only | – |" in report and "| real+dcgan | 11.2 |" in report


def test_an_arm_adding_images_to_some_classes_shows_its_generators_budget_alone(tmp_path):
    context = RowContext(classifier="resnet18", resolution=32, seed=0, seeds=(0, 1),
                         budgets={"real+dcgan": {"MEL": (8, 0.128)}})  # NV gets no synthetic image
    scores = [_scores(0.6, 0.5), _scores(0.7, 0.6)]
    rows = utility_rows({"real-only": scores, "real+dcgan": scores}, {"real+dcgan": {"MEL": 5}}, context)
    assert list(whole(summary_table(rows)).columns[1].cells) == ["–", "0.128"]
