"""One PNG encoding for every study image, real or generated.

Both kinds arrive as uint8 RGB at the study resolution and leave through this one encoder with
the same settings and no metadata chunks, so neither the file format, the bit depth, the
compression settings nor any text chunk can tell a rater which is which.
"""

from __future__ import annotations

import base64
import io

import torch
from PIL import Image

PNG_SETTINGS = {"format": "PNG", "compress_level": 9, "optimize": False}


def encode_png(image: torch.Tensor) -> bytes:
    """A 3 x R x R uint8 tensor as PNG bytes (RGB, 8 bits, no metadata)."""
    if image.dtype != torch.uint8 or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected a 3 x H x W uint8 image, got {tuple(image.shape)} {image.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(image.permute(1, 2, 0).contiguous().numpy(), mode="RGB").save(buffer, **PNG_SETTINGS)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
