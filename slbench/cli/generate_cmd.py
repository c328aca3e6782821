"""`slbench generate`: images from a checkpoint (see :mod:`slbench.generation`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from slbench.cli.options import COUNT_MAX
from slbench.generation import generate_images
from slbench.seeds import SEED_MAX


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


def generate_command(
    checkpoint: Annotated[Path, typer.Argument(help="Checkpoint file (.safetensors or .json) or folder (its latest).")],
    n: Annotated[int, typer.Option("--n", help="Number of images.", min=1, max=COUNT_MAX)],
    out: Annotated[Path, typer.Option("--out", help="Folder for the PNG files and grid.png.")],
    seed: Annotated[int, typer.Option("--seed", help="Same checkpoint, N and seed: same images.", min=0, max=SEED_MAX)] = 0,
    batch: Annotated[
        int,
        typer.Option("--batch", help="Images per forward pass, for speed and memory; float rounding differs between "
                                     "batch sizes, so keep it fixed for bit-identical images.", min=1, max=COUNT_MAX),
    ] = 64,
    device: Annotated[Device, typer.Option("--device", help="Where to run (auto: CUDA when present).")] = Device.auto,
) -> None:
    """Write N generated images as seed<S>-<index>.png plus grid.png: the images `slbench run` evaluates."""
    generate_images(checkpoint=checkpoint, n=n, out=out, seed=seed, batch=batch, device=device.value)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("generate")(generate_command)
