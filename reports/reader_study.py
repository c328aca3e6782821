"""A scored reader study (visual Turing test) in the reports: an HTML section and LaTeX tables.

``slbench reader-study score --out RESULTS`` writes ``reader-study.json`` into a results
folder; ``slbench report RESULTS`` then shows it: per rater accuracy, sensitivity and
specificity for detecting synthetic images (Wilson 95% intervals, exact binomial p against
chance), per model the share of images taken for real, the kappa agreement, the synthetic
images that fooled every rater and the class confusion matrix. Every string from the file is
escaped for its format.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Iterable

from reports.latex import latex_escape
from reports.reading import MissingFile, RefusedFile, read_inside
from reports.results import ResultsError

STUDY_FILE = "reader-study.json"
STUDY_FORMAT = "slbench-reader-study-scores"
MAX_FOOLED_LISTED = 50


def load_studies(folders: Iterable[Path]) -> list[dict]:
    """The scored studies in ``folders`` (those holding ``reader-study.json``), each read once."""
    studies, seen = [], set()
    for folder in folders:
        path = Path(folder) / STUDY_FILE
        try:
            scores = json.loads(read_inside(folder, path).decode("utf-8"))
        except MissingFile:
            continue
        except RefusedFile as err:
            raise ResultsError(str(err)) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ResultsError(f"cannot read the reader study {path}: {err}; score it again") from None
        if not isinstance(scores, dict) or scores.get("format") != STUDY_FORMAT or not scores.get("raters"):
            raise ResultsError(f"{path} is not a scored reader study; write it with `slbench reader-study score`")
        if scores["study_id"] not in seen:
            seen.add(scores["study_id"])
            studies.append(scores)
    return studies


def percent(entry: dict, decimals: int = 1) -> tuple[str, str]:
    """A proportion as (``62.5%``, ``[52.1, 70.1]``); dashes when undefined."""
    if entry.get("value") is None:
        return "–", ""
    return (f"{100 * entry['value']:.{decimals}f}%",
            f"[{100 * entry['ci_low']:.{decimals}f}, {100 * entry['ci_high']:.{decimals}f}]")


def p_value_text(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if value >= 0.001 else "< 0.001"


def agreement_text(scores: dict) -> str:
    agreement = scores["agreement"]
    if agreement.get("statistic") is None:
        return "One rater: no agreement statistic."
    name = "Cohen's" if agreement["statistic"] == "cohen" else "Fleiss'"
    kappa = "undefined (every answer the same)" if agreement["kappa"] is None else f"{agreement['kappa']:.3f}"
    return f"{name} kappa {kappa} over the {agreement['items']} images all {agreement['raters']} raters answered."


def study_summary(scores: dict) -> str:
    settings = scores.get("settings") or {}
    parts = [f"{scores['n_items']} images ({scores['n_real']} real, {scores['n_synthetic']} synthetic)",
             f"{len(scores['raters'])} rater{'s' if len(scores['raters']) != 1 else ''}"]
    if settings.get("categories"):
        parts.append("classes " + ", ".join(map(str, settings["categories"])))
    if settings.get("resolution"):
        parts.append(f"{settings['resolution']} px")
    return "; ".join(parts)


# --- HTML -----------------------------------------------------------------------------------------

def html_section(studies: list[dict]) -> str:
    """The reader-study section of the HTML report ('' when there is none)."""
    return "".join(_html_study(scores) for scores in studies)


def _html_rows(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = "".join("<tr>" + f'<th>{row[0]}</th>' + "".join(f"<td>{cell}</td>" for cell in row[1:]) + "</tr>"
                   for row in rows)
    return f'<div class="scroll"><table class="results"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _html_percent(entry: dict) -> str:
    value, interval = percent(entry)
    return f'{escape(value)} <span class="ci">{escape(interval)}</span>'


def _html_study(scores: dict) -> str:
    study = escape(str(scores["study_id"]))
    raters = [[escape(str(r["rater_id"])), str(int(r["answered"])), _html_percent(r["accuracy"]),
               _html_percent(r["sensitivity"]), _html_percent(r["specificity"]), escape(p_value_text(r["p_value"]))]
              for r in scores["raters"]]
    models = [[escape(str(m["model"])), str(int(m["images"])), str(int(m["taken_for_real"]["trials"])),
               _html_percent(m["taken_for_real"])] for m in scores["models"]]
    parts = [
        f'<figure class="result-table" id="reader-study-{study}"><figcaption><strong>Reader study {study}</strong>'
        f"{escape(study_summary(scores))}. Detecting a synthetic image is the positive outcome; "
        "95% Wilson intervals; p: exact two-sided binomial test of the accuracy against 0.5.</figcaption>"
        + _html_rows(raters, ["Rater", "Answered", "Accuracy", "Sensitivity", "Specificity", "p"]) + "</figure>",
        '<figure class="result-table"><figcaption><strong>Share of images taken for real</strong>'
        f"All raters' answers pooled. {escape(agreement_text(scores))}</figcaption>"
        + _html_rows(models, ["Images of", "Images", "Answers", "Taken for real"]) + "</figure>",
        _html_fooled(scores), _html_confusion(scores),
    ]
    return "".join(parts)


def _html_fooled(scores: dict) -> str:
    fooled = [row for row in scores["items"] if row.get("fooled_everyone")]
    if not fooled:
        return "<p>No synthetic image fooled every rater who saw it.</p>"
    rows = [[escape(str(r["item_id"])), escape(str(r["model"])), escape(str(r["category"])), escape(str(r["source"]))]
            for r in fooled[:MAX_FOOLED_LISTED]]
    more = f" (the first {MAX_FOOLED_LISTED} listed)" if len(fooled) > MAX_FOOLED_LISTED else ""
    return (f'<figure class="result-table"><figcaption><strong>Synthetic images that fooled every rater: '
            f"{len(fooled)}{escape(more)}</strong>The per-image table is reader-study-items.csv.</figcaption>"
            + _html_rows(rows, ["Item", "Model", "Class", "Source"]) + "</figure>")


def _html_confusion(scores: dict) -> str:
    confusion = scores.get("confusion")
    if not confusion:
        return ""
    rows = [[escape(str(label))] + [str(int(count)) for count in counts]
            for label, counts in zip(confusion["labels"], confusion["matrix"])]
    return ('<figure class="result-table"><figcaption><strong>Class guesses</strong>'
            f"True class (rows) against the class raters guessed (columns), {int(confusion['guesses'])} guesses, "
            f"{int(confusion['correct'])} correct.</figcaption>"
            + _html_rows(rows, ["True \\ guessed", *map(str, confusion["labels"])]) + "</figure>")


# --- LaTeX ----------------------------------------------------------------------------------------

def latex_tables(studies: list[dict]) -> str:
    """One booktabs float per study: raters, then the share taken for real per model ('' when none)."""
    return "\n".join(_latex_study(scores) for scores in studies)


def _latex_percent(entry: dict) -> str:
    value, interval = percent(entry)
    return latex_escape(f"{value} {interval}".strip())


def _latex_study(scores: dict) -> str:
    study = str(scores["study_id"])
    label = "".join(ch if ch.isalnum() or ch in "-" else "-" for ch in study)
    lines = [
        "\\begin{table}[tbp]", "\\centering",
        "\\caption{" + latex_escape(f"Reader study {study}: {study_summary(scores)}. Detecting a synthetic image "
                                    "is the positive outcome; 95% Wilson intervals; p: exact two-sided binomial "
                                    f"test against chance. {agreement_text(scores)}") + "}",
        f"\\label{{tab:slbench-reader-study-{label}}}",
        "\\begin{tabular}{lrrrrr}", "\\toprule",
        "Rater & Answered & Accuracy & Sensitivity & Specificity & $p$ \\\\", "\\midrule",
    ]
    for rater in scores["raters"]:
        cells = [latex_escape(str(rater["rater_id"])), str(int(rater["answered"]))]
        cells += [_latex_percent(rater[name]) for name in ("accuracy", "sensitivity", "specificity")]
        cells.append(latex_escape(p_value_text(rater["p_value"])))
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\midrule", "Images of & Images & Answers & \\multicolumn{3}{r}{Taken for real} \\\\", "\\midrule"]
    for model in scores["models"]:
        share = model["taken_for_real"]
        lines.append(" & ".join([latex_escape(str(model["model"])), str(int(model["images"])), str(int(share["trials"])),
                                 "\\multicolumn{3}{r}{" + _latex_percent(share) + "}"]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)
