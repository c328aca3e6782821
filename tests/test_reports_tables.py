"""The wide table: rows and columns, the best value by direction, number and interval formatting."""

from __future__ import annotations

import math

import pytest

from reports.captions import table_notes
from reports.formatting import column_decimals, format_interval, format_number
from reports.names import metric_label, metric_sort_key, model_sort_key
from reports.results import ResultsError, load_results
from reports.tables import build_tables, split_columns
from reports_factory import quality_row, quality_rows, utility_rows, write_run


@pytest.fixture
def tables(tmp_path):
    write_run(tmp_path, quality_rows() + utility_rows(), artifacts=False)
    return build_tables(load_results(tmp_path).rows)


def test_one_table_per_kind_with_models_as_rows_and_metrics_per_category(tables):
    quality, utility = tables
    assert (quality.kind, quality.features, quality.resolution) == ("quality", "inception", 256)
    assert quality.models == ("sl-stylegan", "stylegan", "dcgan")
    assert quality.categories() == ("NV", "MEL")
    assert [c.metric for c in quality.columns[:4]] == ["fid", "kid", "precision", "recall"]
    assert len(quality.columns) == 16
    assert utility.models == ("real-only", "real+sl-stylegan", "synthetic-only:dcgan")
    assert utility.categories() == ("all", "BCC", "NV", "MEL")
    assert utility.cell("real-only", utility.columns[1]) is None  # no gain for the baseline arm


def _best_models(table, category, metric):
    column = next(c for c in table.columns if (c.category, c.metric) == (category, metric))
    return [m for m in table.models if table.cell(m, column) and table.cell(m, column).best]


def test_best_value_follows_each_metric_direction(tables):
    quality, utility = tables
    assert _best_models(quality, "MEL", "fid") == ["sl-stylegan"]  # lowest FID
    assert _best_models(quality, "MEL", "memorisation") == ["dcgan"]  # lowest memorisation
    assert _best_models(quality, "MEL", "recall") == ["dcgan"]  # highest recall
    assert _best_models(quality, "NV", "precision") == ["stylegan"]
    assert _best_models(utility, "all", "gain_balanced_accuracy") == ["real+sl-stylegan"]


def test_ties_at_printed_precision_are_all_best_and_a_flat_column_marks_none(tmp_path):
    rows = [
        quality_row("sl-stylegan", "MEL", "fid", 20.001),
        quality_row("stylegan", "MEL", "fid", 20.004),
        quality_row("dcgan", "MEL", "fid", 31.0),
        quality_row("sl-stylegan", "MEL", "lpips_real", 0.5, higher_is_better=True),
        quality_row("stylegan", "MEL", "lpips_real", 0.5, higher_is_better=True),
        quality_row("dcgan", "MEL", "lpips_real", 0.5, higher_is_better=True),
    ]
    write_run(tmp_path, rows, artifacts=False)
    (table,) = build_tables(load_results(tmp_path).rows)
    assert _best_models(table, "MEL", "fid") == ["sl-stylegan", "stylegan"]  # both print as 20.00
    assert _best_models(table, "MEL", "lpips_real") == []


def test_conflicting_directions_are_an_error(tmp_path):
    rows = [
        quality_row("dcgan", "MEL", "fid", 30.0),
        quality_row("stylegan", "MEL", "fid", 20.0, higher_is_better=True),
    ]
    write_run(tmp_path, rows, artifacts=False)
    with pytest.raises(ResultsError, match="fid is marked both"):
        build_tables(load_results(tmp_path).rows)


def test_different_extractors_never_share_a_column(tmp_path):
    rows = quality_rows(models=("dcgan",), categories=("MEL",))
    rows += [dict(row, features="lesion", resolution=32) for row in rows]
    write_run(tmp_path, rows, artifacts=False)
    tables = build_tables(load_results(tmp_path).rows)
    assert [(t.features, t.resolution) for t in tables] == [("inception", 256), ("lesion", 32)]


def test_sample_sizes_per_category_for_quality_and_per_arm_for_utility(tables):
    quality, utility = tables
    sizes = [(s.group, s.n_real, s.n_fake) for s in quality.sample_sizes]
    assert sizes == [("NV", "5364", "1000"), ("MEL", "890", "1000")]
    sizes = [(s.group, s.n_real, s.n_fake) for s in utility.sample_sizes]  # totals of the "all" rows
    assert sizes == [
        ("real-only", "400", "0"),
        ("real+sl-stylegan", "400", "700"),
        ("synthetic-only:dcgan", "400", "700"),
    ]


def test_split_columns_keeps_categories_whole(tables):
    quality = tables[0]
    parts = split_columns(quality, 12)
    assert [part.categories() for part in parts] == [("NV",), ("MEL",)]
    assert all(len(part.columns) == 8 for part in parts)
    assert split_columns(quality, 16) == [quality]
    assert parts[0].notes == () and parts[1].notes == ("KID subset size reduced to 890 (class size)",)


@pytest.mark.parametrize(
    ("values", "decimals"),
    [([21.5, 64.0], 2), ([123.4, 99.0], 1), ([1234.0], 0), ([0.81, 0.52], 3), ([0.0123, 0.061], 4), ([0.45, 0.061], 3),
     ([0.0123, 0.0061], 4), ([0.0021], 5), ([0.0, math.nan], 3)],
)
def test_column_decimals_give_three_significant_digits_of_the_largest(values, decimals):
    assert column_decimals(values) == decimals


def test_number_and_interval_formatting():
    assert format_number(21.5, 2) == "21.50"
    assert format_number(0.05, 3, signed=True) == "+0.050"
    assert format_number(-0.0001, 2) == "0.00"  # no negative zero
    assert format_number(math.nan, 2) == "–"
    symmetric = format_interval(21.5, 20.25, 22.75, 2)
    assert (symmetric.kind, symmetric.plus) == ("symmetric", "1.25")
    skewed = format_interval(0.61, 0.59, 0.64, 3)
    assert (skewed.kind, skewed.plus, skewed.minus) == ("asymmetric", "0.030", "0.020")
    outside = format_interval(5.0, 5.5, 7.0, 1)
    assert (outside.kind, outside.low, outside.high) == ("range", "5.5", "7.0")
    assert format_interval(5.0, math.nan, math.nan, 1) is None


def test_display_names_and_stable_order():
    assert metric_label("fid") == "FID" and metric_label("kid") == "KID"
    assert metric_label("my_new_metric") == "my_new_metric"
    ordered = sorted(["zeta", "recall", "fid", "alpha", "kid"], key=metric_sort_key)
    assert ordered == ["fid", "kid", "recall", "alpha", "zeta"]  # known order first, then alphabetical
    arms = ["synthetic-only:dcgan", "real+dcgan", "real-only", "real+sl-stylegan"]
    assert sorted(arms, key=model_sort_key) == ["real-only", "real+sl-stylegan", "real+dcgan", "synthetic-only:dcgan"]


def test_notes_are_marked_per_table_per_column_or_per_value(tmp_path):
    everywhere = [quality_row(m, "MEL", metric, 1.0 + i, note="seed 7") for i, m in enumerate(("dcgan", "stylegan"))
                  for metric in ("fid", "kid")]
    write_run(tmp_path / "a", everywhere, artifacts=False)
    (table,) = build_tables(load_results(tmp_path / "a").rows)
    assert table.shared_notes == ("seed 7",) and table.note_marks() == {}
    assert all(table.column_mark(c) is None for c in table.columns)

    mixed = [
        quality_row("dcgan", "MEL", "kid", 0.02, note="subset 50"),
        quality_row("stylegan", "MEL", "kid", 0.03, note="subset 50"),
        quality_row("dcgan", "MEL", "fid", 20.0, note="one seed"),
        quality_row("stylegan", "MEL", "fid", 30.0),
    ]
    write_run(tmp_path / "b", mixed, artifacts=False)
    (table,) = build_tables(load_results(tmp_path / "b").rows)
    fid, kid = table.columns
    assert table.shared_notes == () and table.note_marks() == {"subset 50": "a", "one seed": "b"}
    assert table.column_mark(kid) == "a" and table.column_mark(fid) is None  # header notes come first
    assert table.cell_mark(table.cell("dcgan", fid), fid) == "b"
    assert table.cell_mark(table.cell("dcgan", kid), kid) is None  # the header carries it


def test_a_model_with_precision_zero_is_never_bolded_and_the_notes_say_why(tmp_path):
    rows = [quality_row(model, "MEL", metric, value) for model, metric, value in [
        ("sl-stylegan", "precision", 0.67), ("stylegan", "precision", 0.0), ("dcgan", "precision", 0.12),
        ("sl-stylegan", "recall", 0.62), ("stylegan", "recall", 1.0), ("dcgan", "recall", 0.0),
    ]]
    write_run(tmp_path, rows, artifacts=False)
    (table,) = build_tables(load_results(tmp_path).rows)
    assert _best_models(table, "MEL", "recall") == ["sl-stylegan"]  # stylegan's 1.0 covers nothing real
    assert _best_models(table, "MEL", "precision") == ["sl-stylegan"]
    assert table.unranked == (("stylegan", "MEL"),)
    assert any("Never bold: stylegan on MEL (precision 0" in note for _, note in table_notes(table))


def test_a_gain_whose_interval_holds_zero_is_no_best(tmp_path):
    rows = utility_rows()
    for row in rows:
        if row["metric"] == "gain_balanced_accuracy" and row["model"] == "real+sl-stylegan":
            row.update(ci_low=-0.01, ci_high=0.11)
    write_run(tmp_path, rows, artifacts=False)
    (utility,) = build_tables(load_results(tmp_path).rows)
    assert _best_models(utility, "all", "gain_balanced_accuracy") == []
