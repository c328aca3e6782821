"""`slbench report`: renders stored results, combines runs, and refuses bad input with exit code 2."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from reports.schema import METRICS_JSON
from reports_factory import quality_row, quality_rows, utility_rows, write_run
from slbench.cli import app

runner = CliRunner()


@pytest.fixture
def run_folder(tmp_path):
    return write_run(tmp_path / "run-mel", quality_rows(categories=("MEL",)) + utility_rows())


def test_report_writes_each_requested_format_and_says_where(run_folder):
    result = runner.invoke(app, ["report", str(run_folder), "--format", "md,tex,csv"])
    assert result.exit_code == 0, result.output
    for name, file in (("md", "report.md"), ("tex", "report.tex"), ("csv", "metrics-wide.csv")):
        assert f"{name}: {run_folder / file}" in result.stdout
        assert (run_folder / file).is_file()
    assert not (run_folder / "report.html").exists()
    assert "\\begin{tabular}" in (run_folder / "report.tex").read_text()


def test_html_report_to_another_folder(tmp_path):
    folder = write_run(tmp_path / "tiny", [quality_row("dcgan", "MEL", "fid", 50.0)])
    result = runner.invoke(app, ["report", str(folder), "--format", "html", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "report.html").read_text()
    assert "data:image/png;base64," in html and "50.00" in html


def test_two_runs_are_combined_into_one_report(tmp_path, run_folder):
    other = write_run(tmp_path / "run-nv", quality_rows(categories=("NV",)))
    out = tmp_path / "both"
    result = runner.invoke(app, ["report", str(run_folder), str(other), "--format", "csv,md", "--out", str(out)])
    assert result.exit_code == 0, result.output
    wide = pd.read_csv(out / "metrics-wide.csv")
    quality = wide[wide["table"] == "quality"].set_index("model")
    assert quality.loc["dcgan", "MEL/fid"] == 64.0 and quality.loc["dcgan", "NV/fid"] == 71.0
    arms = {"real-only", "real+sl-stylegan", "synthetic-only:dcgan"}
    assert set(wide["model"]) == {"sl-stylegan", "stylegan", "dcgan"} | arms
    assert "`run-mel`, `run-nv`" in (out / "report.md").read_text()


def test_several_runs_without_out_go_to_a_combined_folder_beside_them(tmp_path, run_folder):
    other = write_run(tmp_path / "run-nv", quality_rows(categories=("NV",)))
    result = runner.invoke(app, ["report", str(run_folder), str(other), "--format", "md"])
    assert result.exit_code == 0, result.output
    (combined,) = tmp_path.glob("combined-*")
    assert (combined / "report.md").is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["{missing}"], "does not exist"),
        (["{empty}"], "holds no results"),
        (["{broken}"], "is not valid JSON"),
        (["{run}", "--format", "md,pdf"], "unknown report format(s): pdf; valid formats: md, tex, csv, html"),
        (["{run}", "--format", ","], "no report format given; valid formats: md, tex, csv, html"),
        (["{run}", "--out", "{a_file}"], "cannot write the report"),
    ],
)
def test_bad_input_exits_with_code_2_and_one_line(tmp_path, run_folder, arguments, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / METRICS_JSON).write_text("{oops")
    (tmp_path / "a_file").write_text("")
    places = {
        "missing": tmp_path / "missing",
        "empty": tmp_path / "empty",
        "broken": tmp_path / "broken",
        "run": run_folder,
        "a_file": tmp_path / "a_file",
    }
    result = runner.invoke(app, ["report", *[a.format(**places) for a in arguments]])
    assert result.exit_code == 2
    assert "error:" in result.stderr and message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output
