"""One row, one "±": the terminal tables print a value and its interval as every report does."""

from __future__ import annotations

import html
import re

from rich.console import Console

from reports.captions import CI_NOTE
from reports.render import render_report
from reports_factory import quality_rows, utility_rows, write_run
from slbench.evaluation.display import results_table
from slbench.utility.compare import summary_table


def _terminal(table) -> str:
    console = Console(width=400, record=True, color_system=None)
    console.print(table)
    return " ".join(console.export_text().split())


def _reports(tmp_path, rows) -> dict[str, str]:
    folder = write_run(tmp_path / "run", rows)
    written = render_report(folder, formats="md,tex,html,csv")
    texts = {kind: path.read_text(encoding="utf-8") for kind, path in written.items()}
    texts["html"] = " ".join(html.unescape(re.sub(r"<[^>]+>", "", texts["html"])).split())
    texts["md"] = " ".join(texts["md"].replace("**", "").split())
    return texts


def _with_asymmetric_recall(rows: list[dict]) -> list[dict]:
    for row in rows:
        if (row["model"], row["category"], row["metric"]) == ("dcgan", "MEL", "recall"):
            row.update(ci_low=0.50, ci_high=0.57)
    return rows


def test_quality_values_print_the_same_interval_in_the_terminal_and_every_report(tmp_path):
    rows = _with_asymmetric_recall(quality_rows())
    terminal = _terminal(results_table(rows))
    reports = _reports(tmp_path, rows)
    for shown in ("64.00 ± 1.25", "0.550 +0.020/−0.050", "21.50 ± 1.25"):
        assert shown in terminal, shown
        assert shown in reports["md"], shown
        assert shown in reports["html"], shown
    tex = reports["tex"].replace(r"\textbf{0.550}", "0.550")
    assert r"64.00 $\pm$ 1.25" in tex and "0.550$^{+0.020}_{-0.050}$" in tex
    assert CI_NOTE in terminal and CI_NOTE in reports["md"] and CI_NOTE in reports["html"]
    wide = reports["csv"].splitlines()
    header = wide[0].split(",")
    dcgan = next(line.split(",") for line in wide if ",dcgan" in line)
    bounds = [float(dcgan[header.index(f"MEL/recall/{side}")]) for side in ("ci_low", "ci_high")]
    assert bounds == [0.50, 0.57]  # the CSV keeps the bounds the "+0.020/−0.050" is made from


def test_the_utility_table_shows_the_interval_of_the_reports_not_the_spread(tmp_path):
    rows = utility_rows()
    terminal = _terminal(summary_table(rows))
    reports = _reports(tmp_path, rows)
    for shown in ("0.610 +0.030/−0.020", "0.660 +0.030/−0.020", "0.400 +0.030/−0.020"):
        assert shown in terminal and shown in reports["md"] and shown in reports["html"], shown
    assert "± 0.010" not in terminal  # the std over seeds is not an interval
    assert CI_NOTE in terminal


def test_a_table_without_intervals_does_not_explain_them():
    rows = quality_rows()
    for row in rows:
        row.update(ci_low=float("nan"), ci_high=float("nan"))
    terminal = _terminal(results_table(rows))
    assert "±" not in terminal and CI_NOTE not in terminal
    assert "64.00" in terminal
