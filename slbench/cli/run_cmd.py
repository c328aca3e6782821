"""`slbench run`: evaluate trained generators per lesion class and write a results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.cli.options import (
    COUNT_MAX,
    CheckpointsOption,
    DataOption,
    FeaturesOption,
    ModelsOption,
    ProtocolOption,
    RealSideOption,
    SelectOn,
    TrustWeightsOption,
    WeightsDirOption,
)
from slbench.paths import DEFAULT_CHECKPOINTS, DEFAULT_DATA
from slbench.seeds import EVALUATION_SEED_MAX


def run(
    models: ModelsOption = "all",
    category: Annotated[str, typer.Option("--category", help="Lesion class code, a comma list, or 'all'.")] = "MEL",
    data: DataOption = DEFAULT_DATA,
    checkpoints: CheckpointsOption = DEFAULT_CHECKPOINTS,
    n_samples: Annotated[
        Optional[int],
        typer.Option("--n-samples", help="Generated images per model and class; default: max(1000, class size).",
                     min=1, max=COUNT_MAX),
    ] = None,
    features: FeaturesOption = None,
    protocol: ProtocolOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of sampling, LPIPS pairs and interval half-samples.", min=0, max=EVALUATION_SEED_MAX)] = 0,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Results folder; default: a new folder under results/ named by the time and a short id.")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Half-samples behind the 95% confidence intervals (0: none).", min=0,
                     max=COUNT_MAX)
    ] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out, skipping what is done.")] = False,
    weights_dir: WeightsDirOption = None,
    trust_weights: TrustWeightsOption = None,
    resolution: Annotated[
        Optional[int],
        typer.Option("--resolution", help="Evaluation resolution; default: the checkpoints' own, else the smallest."),
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", help="Batch size of generation and feature extraction.", min=1, max=COUNT_MAX)
    ] = 64,
    select: Annotated[
        str,
        typer.Option("--select", help="Which checkpoint of each folder: latest, or best:METRIC (e.g. best:kid), "
                                      "the best step of the folder's track (`slbench track`)."),
    ] = "latest",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and its estimated time only; write nothing.")
    ] = False,
    real_side: RealSideOption = None,
    select_on: Annotated[
        SelectOn,
        typer.Option("--select-on", help="With --select best:METRIC, the images the step is chosen on: track "
                                         "(whatever the track measured, stated in the caption) or train (a track "
                                         "on the lesion split's train side, reported on its held-out side)."),
    ] = SelectOn.track,
) -> None:
    """Compare generators per lesion class: FID, KID, precision/recall, density/coverage,
    memorisation and LPIPS diversity, written to a results folder with its reports.

    Under `torchrun --nproc_per_node N -m slbench run ...` the ranks share generation and feature
    extraction and rank 0 writes the same results as one process would."""
    from slbench.evaluation import run_evaluation

    run_evaluation(
        data=data,
        models=models,
        categories=category,
        checkpoints=checkpoints,
        n_samples=n_samples,
        features=features,
        protocol=protocol,
        out=out,
        seed=seed,
        bootstrap=bootstrap,
        resume=resume,
        weights_dir=weights_dir,
        trust_weights=trust_weights,
        resolution=resolution,
        batch=batch,
        select=select,
        dry_run=dry_run,
        real_side=real_side.value if real_side is not None else None,
        select_on=select_on.value,
    )


def register(app: typer.Typer) -> None:
    """Add ``slbench run``."""
    app.command("run")(run)
