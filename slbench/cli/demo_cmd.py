"""`slbench demo`: the whole workflow on the built-in synthetic data, offline, on CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's data, checkpoints and results (reused on a rerun).")
    ] = Path("slbench-demo"),
    kimg: Annotated[
        Optional[float],
        typer.Option("--kimg", help="Thousands of images each model trains on (default 11.2, a few minutes on two "
                                    "cores); a longer budget trains into its own folder and shows the models "
                                    "further along.", min=0.1, max=1e4),
    ] = None,
) -> None:
    """Synthesise data, train the three models briefly on MEL at 32 px, train the lesion extractor,
    run, report and check, all offline on CPU; prints where the HTML report is."""
    from slbench.demo import DemoConfig, run_demo

    run_demo(folder=out, config=DemoConfig() if kimg is None else DemoConfig(kimg=kimg))


def register(app: typer.Typer) -> None:
    """Add ``slbench demo``."""
    app.command("demo")(demo)
