"""`slbench utility`: does adding synthetic images help a skin-lesion classifier?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.console import console, labelled
from slbench.errors import INTERRUPTED_EXIT_CODE, SIGTERM_EXIT_CODE, SlbenchError
from slbench.cli.options import COUNT_MAX, CheckpointsOption, DataOption, ModelsOption
from slbench.paths import DEFAULT_CHECKPOINTS, DEFAULT_DATA
from slbench.seeds import SEED_MAX


def utility(
    data: DataOption = DEFAULT_DATA,
    models: ModelsOption = "all",
    category: Annotated[
        str, typer.Option("--category", help="Classes that get synthetic images: 'all' or a comma list of codes.")
    ] = "all",
    checkpoints: CheckpointsOption = DEFAULT_CHECKPOINTS,
    synthetic_per_class: Annotated[
        Optional[int], typer.Option("--synthetic-per-class", help="Add N synthetic images to each chosen class.")
    ] = None,
    balance: Annotated[
        bool, typer.Option("--balance", help="Top each chosen class up to the largest real class (the default).")
    ] = False,
    seeds: Annotated[int, typer.Option("--seeds", help="Classifier seeds per arm (paired across arms).", min=1, max=COUNT_MAX)] = 3,
    seed: Annotated[int, typer.Option("--seed", help="First classifier seed; the others follow it.", min=0, max=SEED_MAX)] = 0,
    resolution: Annotated[
        Optional[int],
        typer.Option("--resolution", help="Classifier input resolution (default: the checkpoints' own, else the smallest)."),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", help="Training epochs of each classifier.", min=1, max=COUNT_MAX)] = 20,
    batch: Annotated[int, typer.Option("--batch", help="Classifier batch size.", min=1, max=COUNT_MAX)] = 32,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Results folder (default: a new folder under results/ named by the time and a short id).")
    ] = None,
    pretrained: Annotated[
        bool, typer.Option("--pretrained", help="Start from torchvision's ImageNet ResNet-18 weights (must be on disk).")
    ] = False,
    weights_dir: Annotated[
        Optional[Path], typer.Option("--weights-dir", help="Folder holding resnet18-f37072fd.pth for --pretrained.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the interrupted run in --out, training only what is missing.")
    ] = False,
) -> None:
    """Train a ResNet-18 on real images, real plus synthetic images of each model, and synthetic
    images alone; score each on held-out real images (balanced accuracy, AUC, per-class
    sensitivity and specificity) and compare with the real-only baseline over seeds.

    Each finished arm and seed is saved as it ends; Ctrl-C or SIGTERM keeps them (exit 130 or
    143) and --resume --out DIR continues."""
    from slbench.utility import run_utility

    if synthetic_per_class is not None and balance:
        raise SlbenchError("give either --synthetic-per-class N or --balance, not both")
    try:
        run_utility(data=data, models=models, categories=category, checkpoints=checkpoints,
                    synthetic_per_class=synthetic_per_class, balance=synthetic_per_class is None, seeds=seeds,
                    seed=seed, resolution=resolution, epochs=epochs, batch=batch, out=out, pretrained=pretrained,
                    weights_dir=weights_dir, resume=resume)
    except KeyboardInterrupt as interrupt:
        signal_name = getattr(interrupt, "signal_name", "SIGINT")
        console.print(labelled(f"interrupted ({signal_name}):", "bold yellow", "the finished classifiers are kept"),
                      soft_wrap=True)
        raise typer.Exit(SIGTERM_EXIT_CODE if signal_name == "SIGTERM" else INTERRUPTED_EXIT_CODE) from None


def register(app: typer.Typer) -> None:
    """Add ``slbench utility``."""
    app.command("utility")(utility)
