"""`slbench demo`: the whole workflow on the built-in synthetic data, offline, on CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer




def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's data, checkpoints and results (reused on a rerun).")
    ] = Path("slbench-demo"),
) -> None:
    """Synthesise data, train the three models briefly on MEL at 32 px, train the lesion extractor,
    run, report and check, all offline on CPU; prints where the HTML report is."""
    from slbench.demo import run_demo

    run_demo(folder=out)


def register(app: typer.Typer) -> None:
    """Add ``slbench demo``."""
    app.command("demo")(demo)
