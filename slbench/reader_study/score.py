"""``slbench reader-study score``: read the key and every rater's answers, score, print and write."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from slbench.console import console, plain
from slbench.errors import SlbenchError
from slbench.reader_study import display
from slbench.reader_study.files import read_answers, read_key
from slbench.reader_study.outputs import write_scores
from slbench.reader_study.scoring import score_study


def run_score(answers: Sequence[str | Path], *, key: str | Path, out: str | Path | None = None) -> Path:
    """Score ``answers`` against ``key``; write the files into ``out`` (default: ``scores/`` beside the key)."""
    study_key = read_key(key)
    raters = [read_answers(path, study_key) for path in answers]
    scores = score_study(study_key, raters)
    folder = Path(out) if out is not None else Path(key).parent / "scores"
    try:
        written = write_scores(folder, scores)
    except OSError as err:
        raise SlbenchError(f"cannot write the scores to {err.filename or folder}: {err.strerror or err}; "
                           "choose another --out") from None
    console.print(display.rater_table(scores))
    console.print(display.model_table(scores))
    console.print(plain(display.agreement_text(scores)))
    for table in (display.fooling_table(scores), display.confusion_table(scores)):
        if table is not None:
            console.print(table)
    console.print(f"scores written to {plain(folder)} ({', '.join(plain(p.name) for p in written)})")
    return folder
