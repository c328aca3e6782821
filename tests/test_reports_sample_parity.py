"""A report that combines runs says when the models of one column were measured on unequal N."""

from __future__ import annotations

import math

import pandas as pd

from reports.render import render_report
from reports.sample_parity import unequal_sample_warning
from reports_factory import quality_rows, write_run


def _frame(rows):
    return pd.DataFrame(rows)


def test_equal_counts_and_counts_not_recorded_raise_no_warning():
    rows = quality_rows(categories=("MEL", "NV"))
    assert unequal_sample_warning(_frame(rows)) is None
    rows[0]["n_fake"] = math.nan  # an older row without its count is not a difference
    assert unequal_sample_warning(_frame(rows)) is None


def test_a_column_mixing_generated_or_real_counts_is_named_per_class():
    rows = quality_rows(categories=("MEL", "NV"))
    for row in rows:
        if row["model"] == "dcgan" and row["category"] == "MEL":
            row["n_fake"] = 64
        if row["model"] == "stylegan" and row["category"] == "NV":
            row["n_real"] = 1000
    warning = unequal_sample_warning(_frame(rows))
    assert warning.startswith("Unequal sample sizes (N real / N fake) within a column")
    assert "MEL: sl-stylegan 890 / 1000, stylegan 890 / 1000, dcgan 890 / 64" in warning
    assert "NV: sl-stylegan 5364 / 1000, stylegan 1000 / 1000, dcgan 5364 / 1000" in warning
    assert "one --n-samples" in warning


def test_different_counts_in_different_columns_of_one_model_are_no_difference():
    rows = quality_rows(categories=("MEL",))
    for row in rows:
        if row["metric"] == "kid":
            row["n_real"] = 400  # every model's KID on the same 400 real images
    assert unequal_sample_warning(_frame(rows)) is None


def test_a_combined_report_warns_in_every_format_and_on_the_console(tmp_path):
    first = write_run(tmp_path / "large", quality_rows(models=("sl-stylegan",), categories=("MEL",)), artifacts=False)
    second = write_run(tmp_path / "small", quality_rows(models=("dcgan",), categories=("MEL",), n_fake=50),
                       artifacts=False)
    heard: list[str] = []
    written = render_report([first, second], out=tmp_path / "report", on_warning=heard.append)
    (warning,) = heard
    assert "MEL: sl-stylegan 890 / 1000, dcgan 890 / 50" in warning
    assert "Warning: Unequal sample sizes" in written["md"].read_text()
    assert "Unequal sample sizes" in " ".join(written["tex"].read_text().split())
    assert "<strong>Unequal sample sizes.</strong>" in written["html"].read_text()
    alone = render_report(first, out=tmp_path / "alone", on_warning=heard.append)
    assert len(heard) == 1 and "Unequal sample sizes" not in alone["md"].read_text()
