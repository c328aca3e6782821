"""`slbench reader-study`: build a visual Turing test page for clinicians, and score their answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.cli.options import COUNT_MAX, CheckpointsOption, DataOption, ModelsOption
from slbench.console import console, plain
from slbench.paths import DEFAULT_CHECKPOINTS, DEFAULT_DATA
from slbench.seeds import SEED_MAX

reader_study_app = typer.Typer(
    name="reader-study",
    help="Visual Turing test: can clinicians tell generated lesion images from real ones?",
    no_args_is_help=True,
)


@reader_study_app.command("build")
def build(
    data: DataOption = DEFAULT_DATA,
    checkpoints: CheckpointsOption = DEFAULT_CHECKPOINTS,
    models: ModelsOption = "all",
    category: Annotated[str, typer.Option("--category", help="A class code, a comma list of codes, or 'all'.")] = "MEL",
    n_real: Annotated[int, typer.Option("--n-real", help="Real images per class.", min=0, max=COUNT_MAX)] = 20,
    n_fake: Annotated[int, typer.Option("--n-fake", help="Generated images per model and class.", min=0, max=COUNT_MAX)] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the choice of real images, the generation and the order.",
                                        min=0, max=SEED_MAX)] = 0,
    resolution: Annotated[
        Optional[int], typer.Option("--resolution", help="Image size (default: the checkpoints' own, else the smallest).")
    ] = None,
    resize: Annotated[str, typer.Option("--resize", help="How real images become square: squash or center-crop.")] = "squash",
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Folder for study.html and key.json (default: reader-studies/<study id>/).")
    ] = None,
) -> None:
    """Write a self-contained study page (images embedded, no network) and its answer key: real
    images from the held-out side of the lesion split, generated ones at the same size and in the
    same PNG encoding, shuffled with the seed."""
    from slbench.reader_study.build import build_study

    page, key = build_study(data=data, checkpoints=checkpoints, models=models, categories=category, n_real=n_real,
                            n_fake=n_fake, seed=seed, out=out, resolution=resolution, resize=resize)
    console.print(f"study page: {plain(page)} (send this to the raters)")
    console.print(f"answer key: {plain(key)} (keep it; score with "
                  f"`slbench reader-study score ANSWERS.json... --key {plain(key)}`)")


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
