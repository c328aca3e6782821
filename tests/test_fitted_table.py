"""Wide terminal tables on a narrow console: split into parts that repeat the key columns, never a cut word."""

from __future__ import annotations

import pytest
from rich.console import Console

from reports.tracks import track_row
from reports_factory import quality_rows
from slbench.evaluation.display import SHOWN_METRICS, results_table
from slbench.metrics import METRICS
from slbench.tracking.folder import track_table


def _rows():
    rows = quality_rows()
    for row in rows:
        row.update(ci_low=row["value"] * 0.9, ci_high=row["value"] * 1.2, kimg=320.0 if row["model"] != "dcgan" else 64.0)
    return rows


def _printed(width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(results_table(_rows()))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [60, 80, 120])
def test_a_narrow_console_gets_every_value_whole_in_parts_that_fit(width):
    lines = _printed(width)
    text = "\n".join(lines)
    assert "…" not in text
    assert max(len(line.rstrip()) for line in lines) <= width
    shown = [name for name in SHOWN_METRICS if any(row["metric"] == name for row in _rows())]
    assert all(METRICS[name].label in text for name in shown)
    parts = sum(line.lstrip().startswith("┃ model") for line in lines)
    assert 1 < parts <= len(shown)
    body = [line for line in lines if line.startswith("│ sl-stylegan")]
    assert len(body) == 2 * parts  # MEL and NV in every part, the key columns repeated
    assert text.count("results ·") == 1
    flat = " ".join(text.split())
    assert "warning: Unequal training budgets" in flat and "dcgan 64 kimg" in flat  # the caption, once, in full
    assert flat.count("Unequal training budgets") == 1


def test_a_wide_console_gets_one_table_with_each_value_beside_its_interval():
    lines = _printed(400)
    assert sum(line.lstrip().startswith("┃ model") for line in lines) == 1
    assert "…" not in "\n".join(lines)
    assert any("21.50 +4.30/−2.15" in line for line in lines)  # value and interval on one line


def test_the_track_table_keeps_large_values_and_headers_whole_at_80_columns():
    rows = [dict(track_row(step, step * 0.016, metric, value, higher_is_better=metric in ("precision", "recall")),
                 status="ok", reason="")
            for step in (100, 200) for metric, value in (("fid", 1940.0), ("kid", 16240.0), ("precision", 0.025),
                                                          ("recall", 0.925), ("coverage", 0.25), ("memorisation", 0.0))]
    console = Console(width=80, record=True, color_system=None)
    console.print(track_table(rows))
    text = console.export_text()
    assert "…" not in text and "1.624e+04" in text
    assert all(label in text for label in ("Precision ↑", "Coverage ↑", "Memorisation ↓", "status"))
