"""Training budgets in results: every row's step and kimg, shown per model, warned about when unequal."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from rich.console import Console

from reports.budgets import Budget, format_kimg, steps_text, unequal_budget_warning
from reports.render import render_report
from reports.results import ResultsError, load_results, write_results
from reports.schema import BUDGET_COLUMNS, METRICS_CSV, METRICS_JSON
from reports.tables import build_tables
from reports_factory import quality_rows, write_run
from slbench.evaluation.display import results_table

BUDGETS = {"sl-stylegan": (200, 3.2), "stylegan": (120, 1.92), "dcgan": (600, 9.6)}


def _rows_with_budgets(budgets):
    rows = quality_rows(categories=("MEL",))
    for row in rows:
        row["step"], row["kimg"] = budgets[row["model"]]
    return rows


def test_step_and_kimg_round_trip_and_unequal_budgets_are_flagged_in_every_format(tmp_path):
    folder = write_run(tmp_path / "run", _rows_with_budgets(BUDGETS), artifacts=False)
    loaded = load_results(folder)
    dcgan = loaded.rows.query("model == 'dcgan'").iloc[0]
    assert (dcgan["step"], dcgan["kimg"], dcgan["stage"]) == (600, 9.6, "")
    assert loaded.filled_columns == ()

    warnings: list[str] = []
    written = render_report(folder, on_warning=warnings.append)
    (warning,) = warnings
    assert "more than 10% apart" in warning and "MEL: sl-stylegan 3.2, stylegan 1.92, dcgan 9.6 kimg" in warning
    markdown = written["md"].read_text()
    assert "| sl-stylegan | 3.2 |" in markdown and "| dcgan | 9.6 |" in markdown
    assert "Warning: Unequal training budgets" in markdown
    latex = written["tex"].read_text()
    assert "Model & kimg &" in latex and "dcgan & 9.6 &" in latex and "Unequal training budgets" in latex
    html = written["html"].read_text()
    assert '<td class="kimg">1.92</td>' in html and "Unequal budgets." in html
    wide = pd.read_csv(written["csv"])
    assert wide.set_index("model")["MEL/kimg"].to_dict() == {"sl-stylegan": 3.2, "stylegan": 1.92, "dcgan": 9.6}
    assert wide.set_index("model")["MEL/step"]["stylegan"] == 120
    assert "Checkpoint steps: sl-stylegan 200, stylegan 120, dcgan 600." in markdown
    assert "Checkpoint steps: sl-stylegan 200, stylegan 120, dcgan 600." in " ".join(latex.split())


def test_steps_that_differ_between_classes_are_named_per_class():
    budgets = {("dcgan", "MEL"): Budget(88, 11.2), ("dcgan", "NV"): Budget(90, 11.5),
               ("stylegan", "MEL"): Budget(700, 11.2), ("stylegan", "NV"): Budget(None, float("nan"))}
    assert steps_text(budgets) == "dcgan 88 (MEL), 90 (NV), stylegan 700"


def test_budgets_within_ten_percent_are_equal_and_raise_no_warning(tmp_path):
    folder = write_run(tmp_path / "run", _rows_with_budgets({"sl-stylegan": (300, 19.2), "stylegan": (600, 19.2),
                                                              "dcgan": (290, 20.8)}), artifacts=False)
    warnings: list[str] = []
    written = render_report(folder, formats="md", on_warning=warnings.append)
    assert warnings == []
    assert "Unequal" not in written["md"].read_text()
    (table,) = build_tables(load_results(folder).rows)
    assert table.kimg_text("dcgan") == "20.8" and table.budget_warning is None


def test_warning_compares_models_within_a_class_and_shows_a_range_per_model():
    budgets = {("a", "MEL"): Budget(1, 10.0), ("b", "MEL"): Budget(1, 10.5),
               ("a", "NV"): Budget(1, 40.0), ("b", "NV"): Budget(1, 45.0)}
    warning = unequal_budget_warning(budgets)
    assert warning is not None and "NV: a 40, b 45 kimg" in warning and "MEL" not in warning
    assert unequal_budget_warning({("a", "MEL"): Budget(1, 10.0), ("a", "NV"): Budget(1, 80.0)}) is None
    assert format_kimg(1234.4) == "1234" and format_kimg(0.064) == "0.064" and format_kimg(float("nan")) == "?"


def _downgrade_to_version_1(folder):
    """Rewrite a results folder as slbench wrote it before budgets were recorded."""
    document = json.loads((folder / METRICS_JSON).read_text())
    document["schema_version"] = 1
    for row in document["rows"]:
        for column in BUDGET_COLUMNS:
            del row[column]
    (folder / METRICS_JSON).write_text(json.dumps(document))
    csv = pd.read_csv(folder / METRICS_CSV).drop(columns=list(BUDGET_COLUMNS))
    csv.to_csv(folder / METRICS_CSV, index=False)


@pytest.mark.parametrize("keep", [METRICS_JSON, METRICS_CSV])
def test_results_written_before_budgets_were_recorded_load_as_unknown_and_say_so(tmp_path, keep):
    folder = write_run(tmp_path / "old", quality_rows(categories=("MEL",)), artifacts=False)
    _downgrade_to_version_1(folder)
    (folder / (METRICS_CSV if keep == METRICS_JSON else METRICS_JSON)).unlink()
    loaded = load_results(folder)
    assert loaded.filled_columns == BUDGET_COLUMNS
    assert loaded.rows["step"].isna().all() and loaded.rows["kimg"].isna().all()
    warnings: list[str] = []
    markdown = render_report(folder, formats="md", on_warning=warnings.append)["md"].read_text()
    assert "| dcgan | ? |" in markdown and "training budget not recorded" in markdown
    assert any("before slbench recorded training budgets" in warning for warning in warnings)


def test_a_current_row_without_its_budget_columns_is_refused(tmp_path):
    row = quality_rows(categories=("MEL",))[0]
    del row["kimg"]
    with pytest.raises(ResultsError, match="missing column\\(s\\) kimg"):
        write_results(tmp_path, [row], settings={}, provenance={}, artifacts={})
    with pytest.raises(ResultsError, match="kimg must be 0 or more"):
        write_results(tmp_path, [dict(quality_rows()[0], kimg=-1.0)], settings={}, provenance={}, artifacts={})


def test_live_table_shows_kimg_and_warns_about_unequal_budgets():
    console = Console(width=300, record=True)
    console.print(results_table(_rows_with_budgets(BUDGETS)))
    text = console.export_text()
    assert "kimg" in text and "9.6" in text and "1.92" in text
    assert "warning: Unequal training budgets" in text
    assert "checkpoint steps: sl-stylegan 200, stylegan 120, dcgan 600" in text


def test_a_model_sampled_mid_growth_is_named_under_the_live_table_and_in_the_reports(tmp_path):
    rows = _rows_with_budgets(BUDGETS)
    for row in rows:
        if row["model"] == "stylegan":
            row["stage"] = "16 px, fade-in 0.50"
    note = "Sampled before growing finished (at the stage the checkpoint was training, upscaled): " \
           "stylegan MEL at 16 px, fade-in 0.50."
    console = Console(width=300, record=True)
    console.print(results_table(rows))
    assert note in console.export_text()
    written = render_report(write_run(tmp_path / "run", rows, artifacts=False), on_warning=lambda _: None)
    assert note in written["md"].read_text()
    grown = Console(width=300, record=True)
    grown.print(results_table(_rows_with_budgets(BUDGETS)))
    assert "Sampled before growing" not in grown.export_text()
