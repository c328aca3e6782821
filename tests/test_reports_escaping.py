"""Hostile names in a results folder reach LaTeX, Markdown and the wide CSV only as text.

Every string a report prints comes from the results: the run label (the folder's name),
models, categories, extractor names and notes. Each is made hostile here at once, and each
format is read back the way its consumer reads it: TeX's own input rules for ``report.tex``,
a CommonMark parser with GitHub tables for ``report.md``, a CSV reader for the spreadsheet file.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from markdown_it import MarkdownIt

from reports.latex import LATEX_SPECIALS, UNICODE_TO_LATEX
from reports.render import render_report
from reports_factory import quality_rows, utility_rows, write_run

RUN_LABEL = "lbl\r\\input{^^2fetc^^2fpasswd} `x` <b>"
HOSTILE_MODELS = (
    "[3pt] \\input{a}",
    "*star",
    "cr\r\\input{b}%",
    "tick`code` | pipe\n| --: |",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "&lt;b&gt; **bold** _em_ ~~gone~~ $x$",
    "^^5cinput{c}",
    "=HYPERLINK(\"http://x\")",
    "-2+3",
    "@SUM(A1)",
    "ff\x0c\u2028\u2029\x85nl\u202eevil",
)
HOSTILE_CATEGORY = "MEL\n\\input{d}"
HOSTILE_FEATURES = "+inc\r\\def\\x{y}"
HOSTILE_NOTE = "- list\r\n1. item\n\\input{e} <b>raw</b>"


def _hostile_rows() -> list[dict]:
    rows = quality_rows(categories=("MEL",)) + utility_rows()
    for index, model in enumerate(HOSTILE_MODELS):
        for metric, value in (("fid", 50.0 + index), ("recall", 0.3)):
            rows.append(dict(rows[0], model=model, metric=metric, value=value, ci_low=float("nan"),
                             ci_high=float("nan"), higher_is_better=metric == "recall",
                             note=HOSTILE_NOTE if metric == "fid" else ""))
    rows.append(dict(rows[0], model="dcgan", category=HOSTILE_CATEGORY, value=-0.25))
    rows.append(dict(rows[0], model="dcgan", features=HOSTILE_FEATURES, value=12.0))
    return rows


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile") / RUN_LABEL
    write_run(folder, _hostile_rows(), artifacts=False)
    written = render_report(folder, formats="md,tex,csv")
    benign = tmp_path_factory.mktemp("benign")
    write_run(benign, quality_rows() + utility_rows(), artifacts=False)
    plain = render_report(benign, formats="tex")
    return {name: path.read_text(encoding="utf-8") for name, path in written.items()} | {
        "benign-tex": plain["tex"].read_text(encoding="utf-8")
    }


def tex_commands(tex: str) -> list[str]:
    """The control sequences TeX reads from ``tex``: lines end at CR, LF or CRLF, ``%`` ends a
    line's text, and ``^^`` notation would turn other characters into anything (refused here)."""
    commands = []
    for line in re.split(r"\r\n|\r|\n", tex):
        assert "^^" not in line, f"TeX would decode ^^ notation in: {line!r}"
        position = 0
        while position < len(line):
            char = line[position]
            if char == "%":
                break
            if char == "\\":
                match = re.match(r"\\([A-Za-z@]+|.?)", line[position:])
                commands.append(match.group(1))
                position += len(match.group(0))
                continue
            position += 1
    return commands


def test_latex_runs_only_the_commands_slbench_writes(reports):
    tex = reports["tex"]
    ours = set(tex_commands(reports["benign-tex"]))
    for replacement in list(LATEX_SPECIALS.values()) + list(UNICODE_TO_LATEX.values()):
        ours |= set(tex_commands(replacement))
    ours |= {"texttt", "textasciigrave"}  # backtick code spans, their escaped content inside
    found = tex_commands(tex)
    assert "input" not in found and "def" not in found
    assert set(found) <= ours, set(found) - ours
    assert "lbl \\textbackslash{}input\\{\\textasciicircum{}\\textasciicircum{}2fetc" in tex  # shown as text


def test_no_table_row_starts_with_what_the_row_end_would_read(reports):
    lines = reports["tex"].split("\n")
    for previous, line in zip(lines, lines[1:]):
        if previous.rstrip().endswith("\\\\"):
            assert not line.lstrip().startswith(("[", "*")), line
    assert "{[}3pt{]}" in reports["tex"] and "{*}star" in reports["tex"]


def _markdown_html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)


def test_markdown_shows_hostile_names_as_text(reports):
    html = _markdown_html(reports["md"])
    assert html.count("<code>") == 1
    for tag in ("<script", "<img", "<b>", "<em>", "<s>", "<ul>", "<ol>", "<li>", "<h1>lbl"):
        assert tag not in html, tag
    assert html.count("<strong>") == html.count("</strong>")
    for name in ("&lt;script&gt;alert(1)&lt;/script&gt;", "&amp;lt;b&amp;gt; **bold** _em_ ~~gone~~ $x$",
                 "tick`code` | pipe | --: |", "[3pt] \\input{a}"):
        assert name in html, name
    assert "<code>lbl \\input{^^2fetc^^2fpasswd} `x` &lt;b&gt;</code>" in html  # the run label, in one piece


def test_markdown_tables_keep_their_shape(reports):
    html = _markdown_html(reports["md"])
    tables = re.findall(r"<table>(.*?)</table>", html, flags=re.S)
    assert len(tables) >= 2
    for table in tables:
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in rows}
        assert len(widths) == 1, widths
    first_cells = re.findall(r"<tr>\s*<td[^>]*>(.*?)</td>", html, flags=re.S)
    for model in ("[3pt] \\input{a}", "*star", "cr \\input{b}%", "tick`code` | pipe | --: |", "-2+3"):
        assert model in first_cells, model


def test_markdown_and_latex_are_single_line_per_string(reports):
    for name in ("md", "tex"):
        text = reports[name]
        assert "\r" not in text and "\x0c" not in text and "\x85" not in text
        assert "\u2028" not in text and "\u2029" not in text and "\u202e" not in text


def test_wide_csv_neutralises_formulas_and_keeps_numbers(reports):
    records = list(csv.reader(io.StringIO(reports["csv"])))
    header, body = records[0], records[1:]
    for cell in header + [cell for row in body for cell in row]:
        if cell.startswith(("=", "+", "@", "\t", "\r")):
            pytest.fail(f"formula cell {cell!r}")
        if cell.startswith("-"):
            float(cell)  # only numbers may start with a minus
    models = [row[header.index("model")] for row in body]
    assert "'=HYPERLINK(\"http://x\")" in models and "'-2+3" in models and "'@SUM(A1)" in models
    assert "'+inc \\def\\x{y}" in [row[header.index("features")] for row in body]
    assert "MEL \\input{d}/fid" in header
    assert all("\r" not in cell and "\n" not in cell for row in records for cell in row)
    assert "-0.25" in [cell for row in body for cell in row]
