"""`slbench reader-study`: build a visual Turing test page for clinicians, and score their answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

reader_study_app = typer.Typer(
    name="reader-study",
    help="Visual Turing test: can clinicians tell generated lesion images from real ones?",
    no_args_is_help=True,
)


@reader_study_app.command("score")
def score(
    answers: Annotated[list[Path], typer.Argument(help="Answers files downloaded from the study page, one per rater.")],
    key: Annotated[Path, typer.Option("--key", help="The study's key.json (written by `reader-study build`).")],
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Folder for the score files (default: scores/ beside the key).")
    ] = None,
) -> None:
    """Per rater accuracy, sensitivity and specificity for spotting synthetic images (Wilson 95%
    intervals, exact binomial test against chance), per model the share taken for real, kappa
    agreement, a per-image table and, when classes were guessed, a confusion matrix."""
    from slbench.reader_study.score import run_score

    run_score(answers, key=key, out=out)


def register(app: typer.Typer) -> None:
    """Add the ``reader-study`` command group."""
    app.add_typer(reader_study_app)
