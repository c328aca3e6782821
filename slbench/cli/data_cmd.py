"""`slbench data`: inspect a dataset folder, or write the built-in synthetic dataset."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from slbench.cli.options import COUNT_MAX
from slbench.data.info import data_info
from slbench.data.synth import DEFAULT_IMAGE_SIZE, DEFAULT_TOTAL, write_synthetic_dataset
from slbench.errors import SlbenchError
from slbench.seeds import SEED_MAX

data_app = typer.Typer(help="Inspect datasets and write the built-in synthetic one.", no_args_is_help=True)


def parse_size(text: str) -> tuple[int, int]:
    """``200x150`` -> (200, 150)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise SlbenchError(f"image size {text!r} is not WIDTHxHEIGHT, e.g. 200x150")
    return int(match.group(1)), int(match.group(2))


@data_app.command("info")
def info_command(
    path: Annotated[
        Path, typer.Argument(help="Dataset folder (ISIC 2018 Task 3, HAM10000, class folders, Datasets/).")
    ],
    max_problems: Annotated[
        int, typer.Option("--max-problems", help="Problems listed per kind (0 = all).", min=0)
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Also print a JSON summary on stdout.")] = False,
) -> None:
    """Per-class counts, lesions, image sizes, layout and problems. Exit 2 when no image is usable."""
    data_info(path=path, max_problems=max_problems, as_json=as_json)


@data_app.command("synth")
def synth_command(
    out: Annotated[Path, typer.Argument(help="Folder to write (new, empty, or an earlier synthetic dataset).")],
    per_class: Annotated[Optional[int], typer.Option("--per-class", help="Images per class.", min=1, max=COUNT_MAX)] = None,
    total: Annotated[
        Optional[int], typer.Option("--total", help=f"Images in all (default {DEFAULT_TOTAL}).", min=1, max=COUNT_MAX)
    ] = None,
    balanced: Annotated[
        bool, typer.Option("--balanced", help="Equal classes instead of ISIC 2018 proportions.")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.", min=0, max=SEED_MAX)] = 0,
    size: Annotated[
        str, typer.Option("--size", help="Image WIDTHxHEIGHT.")
    ] = f"{DEFAULT_IMAGE_SIZE[0]}x{DEFAULT_IMAGE_SIZE[1]}",
) -> None:
    """Write the procedural dermoscopy-like dataset in the ISIC 2018 Task 3 layout, then show it."""
    written = write_synthetic_dataset(
        out, per_class=per_class, total=total, balanced=balanced, seed=seed, image_size=parse_size(size)
    )
    data_info(path=written)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(data_app, name="data")
