"""`slbench features` commands: list the extractors and their weights, train the ``lesion`` extractor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from slbench.cli.options import COUNT_MAX
from slbench.console import console, plain
from slbench.errors import SlbenchError
from slbench.fitted_table import RecordTable
from slbench.seeds import SEED_MAX

features_app = typer.Typer(
    help="Feature extractors: which weights are present, and training slbench's own lesion extractor.",
    no_args_is_help=True,
)


@features_app.command("train")
def train(
    data: Annotated[Path, typer.Option("--data", help="Dataset folder (ISIC 2018, HAM10000 or class folders).")],
    resolution: Annotated[int, typer.Option("--resolution", help="Image size the extractor sees (power of two, 16 to 1024).")] = 64,
    epochs: Annotated[Optional[int], typer.Option("--epochs", help="Passes over the images (default 10).", min=1, max=COUNT_MAX)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for initialisation, batch order and augmentation.", min=0, max=SEED_MAX)] = 0,
    split: Annotated[
        str, typer.Option("--split", help="train: the training side of the lesion-grouped split (its held-out side "
                                          "then scores the classifier and the class-consistency ceiling); all: every image.")
    ] = "train",
) -> None:
    """Train the lesion extractor on every class of --data; `--features lesion` then uses it offline."""
    from slbench.features.lesion import train_lesion_extractor

    train_lesion_extractor(data=data, resolution=resolution, epochs=epochs, seed=seed, split=split)


@features_app.command("list")
def list_extractors(
    weights_dir: Annotated[
        Optional[Path], typer.Option("--weights-dir", help="Extra folder searched for weights files first.")
    ] = None,
) -> None:
    """Each extractor, its weights file, whether it is present and where it goes."""
    from slbench.features.registry import DEFAULT_EXTRACTOR, describe_extractors

    if weights_dir is not None and not weights_dir.is_dir():
        raise SlbenchError(f"--weights-dir {weights_dir} is not a folder; give the folder that holds the weights files")
    rows = []
    for row in describe_extractors(weights_dir=weights_dir):
        name = f"{row.name} (default)" if row.name == DEFAULT_EXTRACTOR else row.name
        present = Text(str(row.found), style="green") if row.found else Text("missing", style="red")
        rows.append([name, str(row.dim), plain(row.file_name), present, plain(row.target), plain(row.description)])
    table = RecordTable("Feature extractors", ("name", "dim", "weights", "present", "goes in", "what"), rows)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(features_app, name="features")
