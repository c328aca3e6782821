"""A scored reader study in `slbench report`: its HTML section and LaTeX table, every string escaped."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reader_study_support import make_key, write_answers
from reports.render import render_report
from reports_factory import quality_rows, write_run
from slbench.cli import app
from slbench.reader_study.files import read_answers
from slbench.reader_study.outputs import write_scores
from slbench.reader_study.scoring import score_study

HOSTILE = "Dr. <b>X</b> \\input{secret} & 50%_#"
TRUTHS = ["real", "synthetic", "synthetic", "real"]


def _run_with_study(tmp_path):
    folder = write_run(tmp_path / "run", quality_rows())
    key = make_key(TRUTHS, models=[None, "dcgan", "stylegan", None])
    raters = [read_answers(write_answers(tmp_path, name, answers, guesses=["MEL", "NV", None, None]), key)
              for name, answers in ((HOSTILE, TRUTHS), ("b", ["real"] * 4))]
    write_scores(folder, score_study(key, raters))
    return folder


def test_html_report_shows_the_study_escaped(tmp_path):
    folder = _run_with_study(tmp_path)
    html = render_report(folder, formats=("html",))["html"].read_text(encoding="utf-8")
    assert 'id="reader-study"' in html and "Reader study study-test" in html
    assert "Dr. &lt;b&gt;X&lt;/b&gt; \\input{secret} &amp; 50%_#" in html and "<b>X</b>" not in html
    assert "100.0%" in html  # the perfect rater's accuracy
    assert "Cohen&#x27;s kappa" in html or "Cohen's kappa" in html
    assert "Class guesses" in html and "No synthetic image fooled every rater" in html


def test_latex_report_has_the_study_table_escaped(tmp_path):
    folder = _run_with_study(tmp_path)
    tex = render_report(folder, formats=("tex",))["tex"].read_text(encoding="utf-8")
    assert "\\label{tab:slbench-reader-study-study-test}" in tex
    assert "\\input{secret}" not in tex
    assert "Dr. \\textless{}b\\textgreater{}X\\textless{}/b\\textgreater{} \\textbackslash{}input\\{secret\\} \\& 50\\%\\_\\#" in tex
    assert "100.0\\% {[}" in tex and tex.count("\\begin{table}") >= 1
    # rows of the rater table: 6 cells each
    row = next(line for line in tex.splitlines() if line.startswith("b & 4 &"))
    assert row.count(" & ") == 5 and row.endswith("\\\\")


def test_a_damaged_study_file_is_a_clear_error(tmp_path):
    folder = write_run(tmp_path / "run", quality_rows())
    (folder / "reader-study.json").write_text(json.dumps({"format": "something else"}))
    result = CliRunner().invoke(app, ["report", str(folder), "--format", "html"])
    assert result.exit_code == 2 and "not a scored reader study" in " ".join(result.output.split())


def test_a_study_file_linked_from_elsewhere_is_refused(tmp_path):
    folder = write_run(tmp_path / "run", quality_rows())
    outside = tmp_path / "private.json"
    outside.write_text("{}")
    (folder / "reader-study.json").symlink_to(outside)
    result = CliRunner().invoke(app, ["report", str(folder), "--format", "html"])
    assert result.exit_code == 2 and "outside the results folder" in " ".join(result.output.split())
