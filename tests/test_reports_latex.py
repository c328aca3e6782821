"""LaTeX tables: sound syntax, booktabs rules, bold best, direction arrows, escaping, caption, label."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from reports.latex import latex_escape, render_latex
from reports.results import load_results
from reports.tables import build_tables
from reports_factory import quality_row, quality_rows, utility_rows, write_run

ODD_MODEL = "my_gan & co 100% #1 {x} ~^\\"


@pytest.fixture
def latex(tmp_path):
    rows = quality_rows() + utility_rows()
    rows[0]["low_reliability"] = True  # sl-stylegan, MEL, fid
    rows += [quality_row(ODD_MODEL, "MEL", "fid", 80.0), quality_row(ODD_MODEL, "MEL", "kid", 0.09)]
    other_space = quality_rows(models=("dcgan",), categories=("MEL",))
    rows += [dict(row, features="lesion_cnn", resolution=32) for row in other_space]
    write_run(tmp_path, rows, artifacts=False)
    result_set = load_results(tmp_path)
    return render_latex(result_set, build_tables(result_set.rows))


def _without_math(text: str) -> str:
    return re.sub(r"\$[^$]*\$", "", text)


def _body_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("%")]


def test_environments_and_braces_are_balanced(latex):
    stack = []
    for kind, name in re.findall(r"\\(begin|end)\{([^}]*)\}", latex):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name
    assert stack == []
    depth = 0
    for char in re.sub(r"\\[{}]", "", "\n".join(_body_lines(latex))):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0
    assert latex.count("$") % 2 == 0


def test_specials_are_escaped(latex):
    text = _without_math("\n".join(_body_lines(latex)))
    text = text.replace(" & ", " ").replace("\\\\", "").replace("{%\n", "{\n")  # cell separators, row ends, line joins
    assert not re.search(r"(?<!\\)[_%#&]", text)
    assert r"my\_gan \& co 100\% \#1 \{x\} \textasciitilde{}\textasciicircum{}\textbackslash{}" in latex
    assert r"Features: lesion\_cnn" in latex
    assert latex_escape("a_b") == r"a\_b"


def test_command_line_options_keep_their_hyphens_and_dashes_stay_dashes():
    assert latex_escape("slbench train --kimg K") == "slbench train -{}-kimg K"
    assert latex_escape("a---b") == "a-{}-{}-b"
    assert latex_escape("sl-stylegan 4–20 — x") == "sl-stylegan 4--20 --- x"


def test_backtick_code_is_set_in_typewriter_type_and_a_lone_backtick_as_itself():
    assert latex_escape("with `slbench train --kimg K` for") == r"with \texttt{slbench train -{}-kimg K} for"
    assert latex_escape("a `b_c` and `d`") == r"a \texttt{b\_c} and \texttt{d}"
    assert latex_escape("it`s") == r"it\textasciigrave{}s"


def test_booktabs_rules_arrows_and_bold_best(latex):
    tabulars = latex.count("\\begin{tabular}")
    assert tabulars == 4  # quality inception split in two, utility, quality lesion_cnn
    for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
        assert latex.count(rule) == tabulars
    assert "FID $\\downarrow$" in latex and "Rec. $\\uparrow$" in latex
    mel_table = next(chunk for chunk in latex.split("\\begin{table") if "inception-256-part2" in chunk)
    mel_rows = {line.split(" & ")[0]: line for line in mel_table.splitlines() if line.count(" & ") == 9}  # model, kimg, 8 metrics
    assert "\\textbf{21.50} $\\pm$ 1.25" in mel_rows["sl-stylegan"]  # lower FID is better
    assert "\\textbf" not in mel_rows["dcgan"].split(" & ")[1]
    assert "\\textbf{0.550}" in mel_rows["dcgan"]  # higher recall is better
    assert "\\textbf{0.0040}" in mel_rows["dcgan"]  # lower memorisation is better
    assert "0.610$^{+0.030}_{-0.020}$" in latex  # asymmetric interval
    assert "$-$0.210" in latex  # a real minus sign


def test_caption_label_and_low_reliability_note(latex):
    captions = re.findall(r"\\caption\{(.*)\}", latex)
    assert len(captions) == 4
    assert "Features: inception; resolution: 256 px; N real / N fake: MEL 890 / 1000" in captions[1]
    assert "N real test / N synthetic training images: real-only 400 / 0, real+sl-stylegan 400 / 700" in captions[3]
    labels = re.findall(r"\\label\{([^}]*)\}", latex)
    assert labels == [
        "tab:slbench-quality-inception-256-part1",
        "tab:slbench-quality-inception-256-part2",
        "tab:slbench-quality-lesion-cnn-32",
        "tab:slbench-utility-resnet18-64",
    ]
    assert "\\textbf{21.50} $\\pm$ 1.25\\textsuperscript{\\dag}" in latex
    assert "\\textsuperscript{\\dag}\\,Low reliability" in latex


def _has_latex_with_booktabs() -> bool:
    if shutil.which("pdflatex") is None or shutil.which("kpsewhich") is None:
        return False
    return bool(subprocess.run(["kpsewhich", "booktabs.sty"], capture_output=True, text=True).stdout.strip())


@pytest.mark.skipif(not _has_latex_with_booktabs(),
                    reason="pdflatex with booktabs is not installed: apt-get install -y texlive-latex-base "
                           "texlive-latex-recommended (Debian)")
def test_pdflatex_compiles_the_tables(latex, tmp_path):
    (tmp_path / "tables.tex").write_text(latex)
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\\usepackage{booktabs}\\usepackage{graphicx}"
        "\\begin{document}\\input{tables.tex}\\end{document}\n"
    )
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "Overfull" not in (tmp_path / "doc.log").read_text()
