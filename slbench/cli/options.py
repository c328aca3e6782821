"""Option types that several commands share, declared once so their names and help agree."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from reports.render import FORMATS

# The largest count the commands take, so an out-of-range value is a usage error (exit 2) before
# anything runs: no run needs a billion images. Seeds' bounds are in slbench.seeds.
COUNT_MAX = 10**9

ModelsOption = Annotated[str, typer.Option("--models", help="'all', or model names separated by commas (sl-stylegan, stylegan, dcgan), e.g. sl-stylegan,dcgan.")]
DataOption = Annotated[Path, typer.Option("--data", help="Dataset folder (any layout `slbench data info` knows).")]
CheckpointsOption = Annotated[
    Path, typer.Option("--checkpoints", help="Folder holding <model>/<category>/ checkpoint folders.")
]
WeightsDirOption = Annotated[
    Optional[Path], typer.Option("--weights-dir", help="Folder with pretrained weights (Inception, AlexNet, ...).")
]
TrustWeightsOption = Annotated[
    Optional[list[Path]],
    typer.Option("--trust-weights", help="Use this weights file although its hash is unknown, for the network whose "
                                         "tensors it holds (repeatable: one file per network)."),
]

ReportFormatsOption = Annotated[
    str, typer.Option("--format", "-f", help=f"Comma-separated report formats among {', '.join(FORMATS)}.")
]
ALL_REPORT_FORMATS = ",".join(FORMATS)

FeaturesOption = Annotated[
    Optional[str],
    typer.Option("--features", help="Feature extractor: inception (default), dinov2, clip, vgg16, "
                                    "clip-vit-l-14-336, dinov2-bicubic, lesion."),
]
ProtocolOption = Annotated[
    Optional[str],
    typer.Option("--protocol", help="Named evaluation protocol (inception-fid, dinov2-fd, clip-cmmd, lesion: "
                                    "`slbench protocols`), pinning extractor, resize, --n-samples and metrics."),
]


class RealSide(str, Enum):
    all = "all"
    test = "test"
    train = "train"


RealSideOption = Annotated[
    Optional[RealSide],
    typer.Option("--real-side", help="Real images quality is scored on: all, or the test or train side of the "
                                     "checkpoints' lesion split; default: test when every checkpoint was trained "
                                     "on the train side (memorisation then uses the train side), else all."),
]

TRACK_REAL_SIDE_HELP = ("Real images every step is scored on: all, or the train or test side of the checkpoints' "
                        "lesion split; default: train when they were trained on the train side (so choosing a step "
                        "leaves the test side untouched), else all.")
"""What a track scores each step on: ``track --real-side`` and ``train --eval-real-side``."""


class SelectOn(str, Enum):
    track = "track"
    train = "train"
