"""`slbench train`: train one model on one lesion category (see :mod:`slbench.training`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.cli.options import (
    COUNT_MAX,
    TRACK_REAL_SIDE_HELP,
    RealSide,
    TrustWeightsOption,
    WeightsDirOption,
)
from slbench.console import console, labelled
from slbench.errors import INTERRUPTED_EXIT_CODE, SIGTERM_EXIT_CODE, SlbenchError
from slbench.seeds import SEED_MAX
from slbench.training import parse_models, train_model, train_models


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


class Amp(str, Enum):
    off = "off"
    bf16 = "bf16"
    fp16 = "fp16"


class Resize(str, Enum):
    squash = "squash"
    center_crop = "center-crop"


def train_command(
    category: Annotated[str, typer.Option("--category", help="Lesion class: AKIEC, BCC, BKL, DF, NV, MEL, VASC.")],
    data: Annotated[Path, typer.Option("--data", help="Dataset folder (any layout `slbench data info` reads).")],
    model: Annotated[Optional[ModelName], typer.Option("--model", help="Which generator to train.")] = None,
    models: Annotated[
        Optional[str],
        typer.Option("--models", help="Or several, one after another on the same split and --kimg: all, or M,M. "
                                      "Finished ones are skipped, unfinished ones resumed."),
    ] = None,
    resolution: Annotated[
        Optional[int], typer.Option("--resolution", help="Output side in pixels (default 256; resume: the checkpoint's).")
    ] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Total steps, counted from step 0.", min=1, max=COUNT_MAX)] = None,
    kimg: Annotated[
        Optional[float],
        typer.Option("--kimg", help="Or total thousands of images (default 320, the paper's); "
                                    "use it to train models for a comparison: every model sees as many images.",
                     min=0.001, max=1e9),
    ] = None,
    batch: Annotated[Optional[int], typer.Option("--batch", help="Images per step (default: the model's).", min=1, max=COUNT_MAX)] = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="Checkpoint folder (default: <model>/<category>/ under checkpoints/); "
                                   "with --models, the folder holding <model>/<category>/ (default checkpoints/)."),
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
    amp: Annotated[
        Optional[Amp],
        typer.Option("--amp", help="Mixed precision on CUDA: off, bf16 autocast (default), or fp16 autocast with a "
                                   "dynamic loss scale; recorded in the checkpoint. fp16 is refused on the CPU."),
    ] = None,
    eval_every: Annotated[
        Optional[int],
        typer.Option("--eval-every", help="Evaluate every K-th checkpoint as it is written, into track.csv beside "
                                          "the checkpoints (as `slbench track --every K` would).", min=1),
    ] = None,
    eval_features: Annotated[
        Optional[str], typer.Option("--eval-features", help="Feature extractor of --eval-every (default inception).")
    ] = None,
    eval_protocol: Annotated[
        Optional[str], typer.Option("--eval-protocol", help="Named evaluation protocol of --eval-every "
                                                            "(`slbench protocols`), as `slbench track --protocol`.")
    ] = None,
    eval_n_samples: Annotated[
        Optional[int],
        typer.Option("--eval-n-samples", help="Generated images per evaluated step; default: max(1000, class size)."),
    ] = None,
    eval_real_side: Annotated[
        Optional[RealSide], typer.Option("--eval-real-side", help=f"--eval-every: {TRACK_REAL_SIDE_HELP}")
    ] = None,
    weights_dir: WeightsDirOption = None,
    trust_weights: TrustWeightsOption = None,
) -> None:
    """Train a generator on one lesion class with its paper's loss, optimiser and schedule.

    Checkpoints and sample grids go to --out; --resume continues bit for bit; Ctrl-C or SIGTERM finishes the step and saves first (exit 130 or 143).

    For a comparison, train every model for the same --kimg: --models all --kimg K does it in one
    command that can be run again to finish what an interruption left.

    Several GPUs: torchrun --nproc_per_node N -m slbench train ...
    """
    options = dict(category=category, data=data, resolution=resolution, kimg=kimg, batch=batch, out=out, seed=seed,
                   split=split.value, settings=settings or (), device=device.value, resize=resize.value,
                   eval_every=eval_every, amp=None if amp is None else amp.value,
                   eval_options={"features": eval_features, "protocol": eval_protocol,
                                 "n_samples": eval_n_samples, "weights_dir": weights_dir,
                                 "real_side": None if eval_real_side is None else eval_real_side.value,
                                 "trust_weights": trust_weights,
                                 "device": None if device.value == "auto" else device.value})
    try:
        if models is not None:
            _check_several(model, steps, resume)
            train_models(models=parse_models(models), **options)
        elif model is None:
            raise SlbenchError("say which model to train: --model M, or --models all (or M,M) for several")
        else:
            train_model(model=model.value, steps=steps, resume=resume, **options)
    except KeyboardInterrupt as interrupt:
        checkpoint = getattr(interrupt, "checkpoint", None)
        signal_name = getattr(interrupt, "signal_name", "SIGINT")
        how = "run the same command again" if models is not None else "add --resume"  # --models resumes by itself
        saved = (f"checkpoint {checkpoint} written; to continue, {how}" if checkpoint
                 else "stopped before writing a checkpoint; earlier ones in the folder are kept")
        console.print(labelled(f"interrupted ({signal_name}):", "bold yellow", saved), soft_wrap=True)
        raise typer.Exit(SIGTERM_EXIT_CODE if signal_name == "SIGTERM" else INTERRUPTED_EXIT_CODE) from None


def _check_several(model: ModelName | None, steps: int | None, resume: bool) -> None:
    if model is not None:
        raise SlbenchError("give --model for one model or --models for several, not both")
    if steps is not None:
        raise SlbenchError("--models trains every model for the same number of images: give --kimg, not --steps "
                           "(batch sizes differ, so equal steps are unequal budgets)")
    if resume:
        raise SlbenchError("--models resumes unfinished models by itself: drop --resume")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("train")(train_command)
