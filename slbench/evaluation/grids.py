"""Image grids written beside the numbers: generated samples, real images, memorisation pairs.

A reader of a results folder (or of the HTML report built from it) sees what the models made next
to the real images of the class, and the generated samples that sit closest to a training image
next to that image, so that a low memorisation score can be checked by eye.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from generators.safe_io import atomic_write_bytes

GRID_PADDING = 2
GRID_BACKGROUND = 255  # white gutters between tiles
MAX_GRID_IMAGES = 64  # an 8 x 8 grid


def _as_uint8_array(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """N x 3 x H x W uint8, as a numpy array; anything else is a programming error."""
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.dtype != np.uint8 or array.ndim != 4 or array.shape[1] != 3:
        raise ValueError(f"expected uint8 images N x 3 x H x W, got {array.dtype} {array.shape}")
    return array


def tile_images(images: torch.Tensor | np.ndarray, *, columns: int | None = None) -> Image.Image:
    """Tile N x 3 x H x W uint8 images row by row into one RGB image with white gutters."""
    array = _as_uint8_array(images)
    count, _, height, width = array.shape
    if count == 0:
        raise ValueError("cannot tile an empty set of images")
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    step_y, step_x = height + GRID_PADDING, width + GRID_PADDING
    canvas = np.full(
        (rows * step_y + GRID_PADDING, columns * step_x + GRID_PADDING, 3), GRID_BACKGROUND, dtype=np.uint8
    )
    for index, image in enumerate(array):
        top = GRID_PADDING + (index // columns) * step_y
        left = GRID_PADDING + (index % columns) * step_x
        canvas[top : top + height, left : left + width] = image.transpose(1, 2, 0)
    return Image.fromarray(canvas, mode="RGB")


def write_png(image: Image.Image, path: Path) -> Path:
    """Write a PNG atomically (the same pixels always give the same bytes)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return atomic_write_bytes(path, buffer.getvalue())


def write_sample_grid(images: torch.Tensor | np.ndarray, path: Path, *, limit: int = MAX_GRID_IMAGES) -> Path:
    """The first ``limit`` images (generated or real) as a square grid PNG."""
    return write_png(tile_images(images[:limit]), path)


def write_memorisation_pairs(
    fake: torch.Tensor | np.ndarray,
    real: torch.Tensor | np.ndarray,
    pairs: Sequence[tuple[int, int]],
    path: Path,
) -> Path:
    """Closest (generated, training) pairs side by side: generated on the top row, its neighbour below.

    ``pairs`` lists ``(fake_index, real_index)``, closest first.
    """
    if not pairs:
        raise ValueError("no memorisation pairs to draw")
    fake_array, real_array = _as_uint8_array(fake), _as_uint8_array(real)
    top = fake_array[[fake_index for fake_index, _ in pairs]]
    bottom = real_array[[real_index for _, real_index in pairs]]
    return write_png(tile_images(np.concatenate([top, bottom]), columns=len(pairs)), path)
