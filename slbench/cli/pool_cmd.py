"""`slbench pool`: the mean over several training runs of each model, as one results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.cli.options import ALL_REPORT_FORMATS, ReportFormatsOption
from slbench.pooling import pool_results


def pool(
    results: Annotated[
        list[Path],
        typer.Argument(help="Two or more results folders of `slbench run`, each on checkpoints trained with "
                            "another --seed and the same settings."),
    ],
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="Folder for the pooled results and reports (default: pooled-<hash> beside "
                                   "the first run)."),
    ] = None,
    formats: ReportFormatsOption = ALL_REPORT_FORMATS,
) -> None:
    """Pool runs of separately trained models: per model, class and metric the mean over the runs,
    with the standard deviation and a t 95% interval over the runs.

    One training run per model ranks runs, not models. Pooling refuses runs evaluated with
    different settings, runs whose rows differ, a model trained for different budgets in different
    runs, and one checkpoint counted twice. The folder it writes is a results folder: `slbench
    report` renders it and `slbench check --baseline` gates against it."""
    pool_results(results, out=out, formats=formats)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("pool")(pool)
