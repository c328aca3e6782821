"""The files ``reader-study score`` writes: the whole scored study as JSON, and CSV tables of it.

``reader-study.json`` is what ``slbench report`` reads; the CSV files are for spreadsheets and
statistics packages. Every file is written atomically.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from reports.files import atomic_write_text

SCORES_FILE = "reader-study.json"
CONFUSION_FILE = "reader-study-confusion.csv"


def write_scores(folder: Path, scores: dict) -> list[Path]:
    """Write ``reader-study.json`` and the raters, models, items (and confusion) CSV files into ``folder``."""
    written = [atomic_write_text(folder / SCORES_FILE, json.dumps(scores, indent=2, sort_keys=True) + "\n")]
    written.append(atomic_write_text(folder / "reader-study-raters.csv", _csv(_rater_rows(scores))))
    written.append(atomic_write_text(folder / "reader-study-models.csv", _csv(_model_rows(scores))))
    written.append(atomic_write_text(folder / "reader-study-items.csv", _csv(scores["items"])))
    confusion_file = folder / CONFUSION_FILE
    if scores["confusion"] is not None:
        confusion = scores["confusion"]
        rows = [{"true_class": label, **dict(zip(confusion["labels"], counts))}
                for label, counts in zip(confusion["labels"], confusion["matrix"])]
        written.append(atomic_write_text(confusion_file, _csv(rows)))
    else:  # answers without class guesses: a confusion table left by earlier answers would contradict the JSON
        confusion_file.unlink(missing_ok=True)
    return written


def _rater_rows(scores: dict) -> list[dict]:
    rows = []
    for rater in scores["raters"]:
        row = {"rater_id": rater["rater_id"], "answered": rater["answered"]}
        for name in ("accuracy", "sensitivity", "specificity"):
            row.update({name: rater[name]["value"], f"{name}_ci_low": rater[name]["ci_low"],
                        f"{name}_ci_high": rater[name]["ci_high"]})
        row.update(p_value=rater["p_value"], median_milliseconds=rater["median_milliseconds"])
        rows.append(row)
    return rows


def _model_rows(scores: dict) -> list[dict]:
    return [{"images_of": row["model"], "images": row["images"], "answers": row["taken_for_real"]["trials"],
             "taken_for_real": row["taken_for_real"]["value"], "ci_low": row["taken_for_real"]["ci_low"],
             "ci_high": row["taken_for_real"]["ci_high"]} for row in scores["models"]]


def _csv(rows: list[dict]) -> str:
    """CSV with a header; cells that a spreadsheet would run as a formula are quoted with a leading apostrophe."""
    buffer = io.StringIO()
    if not rows:
        return ""
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
