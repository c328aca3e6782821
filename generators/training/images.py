"""Images to PNG files: quantisation, grids, atomic writes."""

from __future__ import annotations

import io
import math
from pathlib import Path

import torch
from PIL import Image

from generators.safe_io import atomic_write_bytes


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Floats in [0, 1] (N x 3 x H x W) to uint8 by rounding, as torchvision's ``save_image``."""
    return (images.detach().float().cpu().clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8)


def image_grid(images: torch.Tensor, *, columns: int | None = None, padding: int = 2) -> torch.Tensor:
    """A uint8 N x 3 x H x W batch tiled into one 3 x H' x W' image (black padding)."""
    count, channels, height, width = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    grid = torch.zeros(channels, rows * (height + padding) + padding, columns * (width + padding) + padding,
                       dtype=images.dtype)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[:, top : top + height, left : left + width] = images[index]
    return grid


def png_bytes(image: torch.Tensor) -> bytes:
    """One uint8 3 x H x W image encoded as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).contiguous().numpy()).save(buffer, format="PNG")
    return buffer.getvalue()


def write_png(path: str | Path, image: torch.Tensor) -> Path:
    """Atomically write one uint8 3 x H x W image as a PNG file."""
    return atomic_write_bytes(path, png_bytes(image))
