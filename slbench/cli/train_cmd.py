"""`slbench train`: train one model on one lesion category (see :mod:`slbench.training`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.cli.options import COUNT_MAX, SEED_MAX, TrustWeightsOption, WeightsDirOption
from slbench.console import console, labelled
from slbench.errors import INTERRUPTED_EXIT_CODE
from slbench.training import train_model


class ModelName(str, Enum):
    sl_stylegan = "sl-stylegan"
    stylegan = "stylegan"
    dcgan = "dcgan"


class Split(str, Enum):
    all = "all"
    train = "train"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class Resize(str, Enum):
    squash = "squash"
    center_crop = "center-crop"


def train_command(
    model: Annotated[ModelName, typer.Option("--model", help="Which generator to train.")],
    category: Annotated[str, typer.Option("--category", help="Lesion class: AKIEC, BCC, BKL, DF, NV, MEL, VASC.")],
    data: Annotated[Path, typer.Option("--data", help="Dataset folder (any layout `slbench data info` reads).")],
    resolution: Annotated[
        Optional[int], typer.Option("--resolution", help="Output side in pixels (default 256; resume: the checkpoint's).")
    ] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Total steps, counted from step 0.", min=1, max=COUNT_MAX)] = None,
    kimg: Annotated[
        Optional[float], typer.Option("--kimg", help="Or total thousands of images (default 320, the paper's).", min=0.0, max=1e9)
    ] = None,
    batch: Annotated[Optional[int], typer.Option("--batch", help="Images per step (default: the model's).", min=1, max=COUNT_MAX)] = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Checkpoint folder (default checkpoints/<model>/<category>/).")
    ] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of weights, batches and noise (default 0).", min=0, max=SEED_MAX)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the folder's latest checkpoint.")] = False,
    split: Annotated[
        Split, typer.Option("--split", help="all images, or only the training side of the lesion-grouped split.")
    ] = Split.all,
    settings: Annotated[
        Optional[list[str]],
        typer.Option("--set", help="Training or architecture setting key=value (repeatable), e.g. --set lr=0.0002."),
    ] = None,
    device: Annotated[Device, typer.Option("--device", help="Where to train (auto: CUDA when present).")] = Device.auto,
    resize: Annotated[Resize, typer.Option("--resize", help="How real images reach the resolution.")] = Resize.squash,
    eval_every: Annotated[
        Optional[int],
        typer.Option("--eval-every", help="Evaluate every K-th checkpoint as it is written, into track.csv beside "
                                          "the checkpoints (as `slbench track --every K` would).", min=1),
    ] = None,
    eval_features: Annotated[
        str, typer.Option("--eval-features", help="Feature extractor of --eval-every.")
    ] = "inception",
    eval_n_samples: Annotated[
        Optional[int],
        typer.Option("--eval-n-samples", help="Generated images per evaluated step; default: max(1000, class size)."),
    ] = None,
    weights_dir: WeightsDirOption = None,
    trust_weights: TrustWeightsOption = None,
) -> None:
    """Train a generator on one lesion class with its paper's loss, optimiser and schedule.

    Checkpoints and sample grids go to --out; --resume continues bit for bit; Ctrl-C saves first.
    Several GPUs: torchrun --nproc_per_node N -m slbench train ...
    """
    try:
        train_model(model=model.value, category=category, data=data, resolution=resolution, steps=steps, kimg=kimg,
                    batch=batch, out=out, seed=seed, resume=resume, split=split.value, settings=settings or (),
                    device=device.value, resize=resize.value, eval_every=eval_every,
                    eval_options={"features": eval_features, "n_samples": eval_n_samples, "weights_dir": weights_dir,
                                  "trust_weights": trust_weights, "device": None if device.value == "auto" else device.value})
    except KeyboardInterrupt as interrupt:
        checkpoint = getattr(interrupt, "checkpoint", None)
        saved = (f"checkpoint {checkpoint} written; continue with --resume" if checkpoint
                 else "stopped before writing a checkpoint; earlier ones in the folder are kept")
        console.print(labelled("interrupted:", "bold yellow", saved), soft_wrap=True)
        raise typer.Exit(INTERRUPTED_EXIT_CODE) from None


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("train")(train_command)
