"""`slbench track`: metrics at every saved step of one training run (see :mod:`slbench.tracking`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.cli.options import (
    COUNT_MAX,
    TRACK_REAL_SIDE_HELP,
    FeaturesOption,
    ProtocolOption,
    RealSide,
    TrustWeightsOption,
    WeightsDirOption,
)
from slbench.seeds import EVALUATION_SEED_MAX


def track(
    checkpoint_dir: Annotated[Path, typer.Argument(help="Checkpoint folder of one training run (`slbench train --out`).")],
    data: Annotated[
        Optional[Path], typer.Option("--data", help="Dataset folder; default: the one the checkpoints were trained on.")
    ] = None,
    features: FeaturesOption = None,
    protocol: ProtocolOption = None,
    n_samples: Annotated[
        Optional[int], typer.Option("--n-samples", help="Generated images per step; default: max(1000, class size).")
    ] = None,
    every: Annotated[
        int, typer.Option("--every", help="Evaluate every K-th checkpoint (steps that are multiples of K x "
                                          "snapshot_every, and the newest); 1: all.")
    ] = 1,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Folder for track.csv and track.json; default: CHECKPOINT_DIR.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of sampling, LPIPS pairs and bootstrap.", min=0, max=EVALUATION_SEED_MAX)] = 0,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap resamples for confidence intervals (0: none).", min=0, max=COUNT_MAX)
    ] = 0,
    resolution: Annotated[
        Optional[int], typer.Option("--resolution", help="Evaluation resolution; default: the checkpoints' own.")
    ] = None,
    batch: Annotated[int, typer.Option("--batch", help="Batch size of generation and feature extraction.", min=1, max=COUNT_MAX)] = 64,
    weights_dir: WeightsDirOption = None,
    trust_weights: TrustWeightsOption = None,
    real_side: Annotated[
        Optional[RealSide],
        typer.Option("--real-side", help=TRACK_REAL_SIDE_HELP),
    ] = None,
) -> None:
    """Evaluate every saved step of a training run with one set of settings and write track.csv.

    Steps already in the track are skipped, so an interrupted track continues where it stopped;
    an unreadable or non-finite checkpoint is recorded with its reason and the track goes on.
    Under `torchrun --nproc_per_node N -m slbench track ...` the ranks share each step's generation
    and feature extraction and rank 0 writes the same track as one process would."""
    from slbench.tracking import track_folder

    tracker = track_folder(checkpoint_dir, data=data, features=features, protocol=protocol, n_samples=n_samples,
                           every=every, out=out,
                           seed=seed, bootstrap=bootstrap, resolution=resolution, batch=batch,
                           weights_dir=weights_dir, trust_weights=trust_weights,
                           real_side=real_side.value if real_side is not None else None)
    if tracker.context.shard.is_main:
        typer.echo(str(tracker.out / "track.csv"))


def register(app: typer.Typer) -> None:
    """Add ``slbench track``."""
    app.command("track")(track)
