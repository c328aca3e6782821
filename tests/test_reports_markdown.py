"""Markdown tables and the wide CSV."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from reports.csv_wide import render_csv_wide
from reports.markdown import md_escape, render_markdown
from reports.results import load_results
from reports.tables import build_tables
from reports_factory import quality_row, quality_rows, utility_rows, write_run


@pytest.fixture
def result_set(tmp_path):
    rows = quality_rows() + utility_rows() + [quality_row("odd|name_x", "MEL", "fid", 99.0, note="one seed")]
    rows[0]["low_reliability"] = True
    write_run(tmp_path, rows, artifacts=False)
    return load_results(tmp_path)


def _pipe_tables(markdown: str) -> list[list[str]]:
    tables, current = [], []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


def _cells(line: str) -> list[str]:
    inner = line.strip()[1:-1].replace("\\|", "\0")
    return [cell.strip().replace("\0", "|") for cell in inner.split(" | ")]


def test_markdown_tables_are_rectangular_with_header_and_rows(result_set):
    markdown = render_markdown(result_set, build_tables(result_set.rows))
    tables = _pipe_tables(markdown)
    assert len(tables) == 3  # quality split by category (NV, MEL), utility
    for lines in tables:
        widths = {len(_cells(line)) for line in lines}
        assert len(widths) == 1
        assert set(_cells(lines[1])[1:]) == {"--:"}
    nv, mel, utility = tables
    assert _cells(mel[0])[:4] == ["Model", "kimg", "MEL FID ↓", "MEL KID ↓ (a)"]  # a note every KID value carries
    assert _cells(utility[0])[1] != "kimg"  # no arm records a generator budget here
    assert [_cells(line)[0] for line in mel[2:]] == ["sl-stylegan", "stylegan", "dcgan", "odd|name\\_x"]
    assert [_cells(line)[0] for line in utility[2:]] == ["real-only", "real+sl-stylegan", "synthetic-only:dcgan"]


def test_markdown_marks_best_interval_flags_and_notes(result_set):
    markdown = render_markdown(result_set, build_tables(result_set.rows))
    mel = _pipe_tables(markdown)[1]
    rows = {_cells(line)[0]: _cells(line)[1:] for line in mel[2:]}  # model -> kimg, then the metrics
    assert rows["sl-stylegan"][0] == "32"
    assert rows["sl-stylegan"][1] == "**21.50** ± 1.25 †"
    assert rows["dcgan"][1] == "64.00 ± 1.25"
    assert rows["dcgan"][4] == "**0.550**"  # recall: higher is better
    assert rows["sl-stylegan"][2] == "**0.0123**"
    assert rows["odd|name\\_x"][1] == "99.00 (b)"  # a note of one value only
    assert "a KID subset size reduced to 890 (class size)  \nb one seed" in markdown
    utility = _pipe_tables(markdown)[2]
    assert _cells(utility[0])[1] == "all Balanced accuracy ↑ (a)"
    assert [_cells(line)[2] for line in utility[2:]] == ["–", "**+0.050** (b)", "-0.210 (c)"]
    assert "a mean and std over seeds 0, 1, 2  \nb paired Wilcoxon p=0.031" in markdown
    assert "† Low reliability" in markdown
    assert "0.610 +0.030/−0.020" in markdown
    assert "N real / N fake: NV 5364 / 1000, MEL 890 / 1000" in markdown
    assert md_escape("a*b_c") == "a\\*b\\_c"


def test_wide_csv_round_trips_through_pandas(result_set):
    tables = build_tables(result_set.rows)
    frame = pd.read_csv(io.StringIO(render_csv_wide(tables)))
    assert list(frame.columns[:5]) == ["table", "protocol", "features", "resolution", "model"]
    assert len(frame) == 4 + 3  # quality models (with the odd one) + utility arms
    by_model = frame.set_index("model")
    tidy = result_set.rows.set_index(["model", "category", "metric"])
    for (model, category, metric), row in tidy.iterrows():
        assert by_model.loc[model, f"{category}/{metric}"] == row["value"]
    assert by_model.loc["dcgan", "MEL/fid/ci_low"] == 62.75 and by_model.loc["dcgan", "MEL/fid/ci_high"] == 65.25
    assert "MEL/kid/ci_low" not in frame.columns  # no intervals in that column
    assert by_model.loc["dcgan", "MEL/kid/std"] == 0.002 and "MEL/fid/std" not in frame.columns
    assert math.isnan(by_model.loc["odd|name_x", "NV/fid"])
    assert by_model.loc["real-only", "resolution"] == 64
