"""Images embedded in the HTML report as ``data:image/png;base64,...`` URIs.

PNGs are embedded byte for byte; anything else Pillow can read is converted to PNG; very
large grids are scaled down so the page stays light. Small images are shown enlarged with
nearest-neighbour scaling, so 32-pixel samples stay crisp instead of blurring.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from PIL import Image, UnidentifiedImageError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_EMBED_SIDE = 1024
SMALL_DISPLAY_WIDTH = 256
MAX_PIXEL_SCALE = 4


@dataclass(frozen=True)
class EmbeddedImage:
    """An image ready for an ``<img>`` tag: its data URI and the size to display it at."""

    data_uri: str
    width: int
    height: int
    pixelated: bool


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def embed_png_bytes(png: bytes) -> EmbeddedImage:
    """Embed PNG bytes as they are, at their natural size."""
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    return EmbeddedImage(png_data_uri(png), width, height, pixelated=False)


def embed_image_data(data: bytes, name: str) -> EmbeddedImage:
    """Embed an image file's bytes; raises ``ValueError`` naming ``name`` when they are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            if not data.startswith(PNG_MAGIC) or max(width, height) > MAX_EMBED_SIDE:
                data, (width, height) = _as_small_png(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValueError(f"{name} is not a readable image") from None
    scale = 1
    if width < SMALL_DISPLAY_WIDTH:
        scale = max(1, min(MAX_PIXEL_SCALE, SMALL_DISPLAY_WIDTH // width))
    return EmbeddedImage(png_data_uri(data), width * scale, height * scale, pixelated=scale > 1)


def _as_small_png(image: Image.Image) -> tuple[bytes, tuple[int, int]]:
    image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    if max(image.size) > MAX_EMBED_SIDE:
        image.thumbnail((MAX_EMBED_SIDE, MAX_EMBED_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), image.size
