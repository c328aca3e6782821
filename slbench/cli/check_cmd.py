"""`slbench check`: exit 1 when a candidate checkpoint is worse than a stored run (a CI gate)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.cli.options import COUNT_MAX, TrustWeightsOption, WeightsDirOption


def check(
    candidate: Annotated[Path, typer.Argument(help="Checkpoint file or folder (its latest) to judge.")],
    baseline: Annotated[Path, typer.Option("--baseline", help="Results folder of the run to compare against, or a training track "
                                           "(folder with track.csv): then each metric's best step is compared.")],
    tolerance: Annotated[
        Optional[str],
        typer.Option(
            "--tolerance",
            help="Allowed relative worsening: one number for every metric, or per metric, e.g. fid=0.1,kid=0.2; "
            "default: the baseline's CI where there is one, else a per-metric default.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable verdict to stdout.")] = False,
    data: Annotated[
        Optional[Path],
        typer.Option("--data", help="Dataset folder, if it moved since the baseline run (same content)."),
    ] = None,
    weights_dir: WeightsDirOption = None,
    trust_weights: TrustWeightsOption = None,
    batch: Annotated[
        Optional[int], typer.Option("--batch", help="Batch size of generation and features; default: the baseline's.", min=1, max=COUNT_MAX)
    ] = None,
) -> None:
    """Re-evaluate CANDIDATE with the baseline's recorded settings and compare metric by metric.

    Exit 0: nothing regressed; 1: at least one metric regressed; 2: bad input."""
    from slbench.gate import check_candidate, parse_tolerance, print_outcome

    outcome = check_candidate(
        candidate=candidate,
        baseline=baseline,
        tolerance=parse_tolerance(tolerance),
        data=data,
        weights_dir=weights_dir,
        trust_weights=trust_weights,
        batch=batch,
    )
    print_outcome(outcome)
    if as_json:
        typer.echo(json.dumps(outcome.to_json(), indent=2, sort_keys=True))
    if outcome.regressed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``slbench check``."""
    app.command("check")(check)
