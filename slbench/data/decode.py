"""One image file to a square RGB uint8 tensor: orientation, colour conversion, resize.

* EXIF orientation is applied, so an image looks as a viewer shows it.
* Every mode becomes 8-bit RGB: grayscale is repeated over three channels; palette, CMYK
  and YCbCr go through Pillow's conversion; an alpha channel is dropped (as torchvision's
  ``ImageFolder`` loader does); 16-bit grayscale is scaled by 255/65535 and rounded, not
  clipped (Pillow itself reads 16-bit RGB PNGs as their high bytes).
* Resizing is ``"squash"`` (the whole image to R x R, aspect ratio not kept, as the
  SL-StyleGAN reference code fed its networks) or ``"center-crop"`` (the central square,
  then resized). The filter, :data:`RESIZE_FILTER`, is bicubic with antialiasing (the
  kernel widened by the downscale factor), the filter of PIL's ``Image.BICUBIC`` that
  clean-fid (Parmar et al., CVPR 2022) recommends; it runs in torch's uint8 kernels, which
  match PIL within one grey level and are several times faster.
* When the output is at most half the stored size, a JPEG is decoded at a reduced DCT scale
  (Pillow's draft mode, 1/2, 1/4 or 1/8) that still leaves at least twice the output size,
  so the final filter still does the downscaling that matters. Other JPEGs are decoded by
  torchvision (the same libjpeg-turbo, straight into a tensor, no copy out of Pillow).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError
from torchvision.io import ImageReadMode, decode_jpeg

from slbench.errors import SlbenchError

RESIZE_FILTER = "bicubic-antialias"
RESIZE_MODES = ("squash", "center-crop")
DEFAULT_RESIZE = "squash"  # as the reference code fed its networks
DRAFT_MARGIN = 2
EXIF_ORIENTATION = 0x0112
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
JPEG_END = b"\xff\xd9"


DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, or its type name when it has none."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def check_resize_mode(resize: str) -> str:
    if resize not in RESIZE_MODES:
        raise SlbenchError(f"unknown resize mode {resize!r}: use one of {', '.join(RESIZE_MODES)}")
    return resize


def draft_size(size: tuple[int, int], resolution: int, resize: str) -> tuple[int, int] | None:
    """The size to request from JPEG draft mode, or ``None`` when the image is not large enough to reduce."""
    width, height = size
    needed = DRAFT_MARGIN * resolution
    if resize == "squash":
        request = (needed, needed)
    else:
        short = min(width, height)
        request = (math.ceil(width * needed / short), math.ceil(height * needed / short))
    if request[0] * 2 > width or request[1] * 2 > height:
        return None
    return request


def to_rgb_array(image: Image.Image) -> np.ndarray:
    """Height x width x 3 uint8 RGB pixels of any Pillow image (see module docstring)."""
    if image.mode in SIXTEEN_BIT_MODES:
        gray = np.asarray(image, dtype=np.float64)
        scaled = np.rint(np.clip(gray, 0, 65535) * (255.0 / 65535.0)).astype(np.uint8)
        return np.repeat(scaled[:, :, None], 3, axis=2)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.array(image)


def check_pixel_count(size: tuple[int, int]) -> None:
    """Refuse an image above Pillow's decompression-bomb limit before decoding it."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit and size[0] * size[1] > limit:
        raise ValueError(f"{size[0]}x{size[1]} pixels is more than the {limit} an image may have")


def pillow_rgb(data: bytes, resolution: int | None, resize: str) -> torch.Tensor:
    """Decode with Pillow (draft mode for large JPEGs, every mode and format) to a 3 x H x W uint8 tensor."""
    with Image.open(io.BytesIO(data)) as image:
        check_pixel_count(image.size)
        if resolution is not None and image.format == "JPEG":
            request = draft_size(image.size, resolution, resize)
            if request is not None:
                image.draft("RGB", request)
        image.load()
        if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
            image = ImageOps.exif_transpose(image)
        return torch.from_numpy(to_rgb_array(image)).permute(2, 0, 1)


def _needs_pillow(data: bytes, resolution: int | None, resize: str) -> bool:
    """Whether Pillow must decode: anything but a whole JPEG, or a JPEG large enough for draft mode.

    A JPEG cut short goes to Pillow too, which reports it, where libjpeg would only warn and pad.
    """
    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        check_pixel_count(image.size)
        if image.format != "JPEG" or not data[-64:].rstrip(b"\x00").endswith(JPEG_END):
            return True
        return resolution is not None and draft_size(image.size, resolution, resize) is not None


def read_rgb(path: Path, resolution: int | None = None, resize: str = "squash") -> torch.Tensor:
    """Decode ``path`` to upright RGB: a 3 x H x W uint8 tensor (channels-last strides).

    Full-size JPEGs go through torchvision's libjpeg-turbo decoder, which writes straight into
    the tensor and gives the same pixels as Pillow; JPEGs it refuses (e.g. 12-bit) and every
    other file go through Pillow. With a resolution, large JPEGs decode in draft mode.
    """
    data = bytearray(path.read_bytes())
    if not _needs_pillow(data, resolution, resize):
        try:
            encoded = torch.frombuffer(data, dtype=torch.uint8)
            return decode_jpeg(encoded, mode=ImageReadMode.RGB, apply_exif_orientation=True)
        except RuntimeError:
            pass
    return pillow_rgb(data, resolution, resize)


def resize_square(pixels: torch.Tensor, resolution: int, resize: str) -> torch.Tensor:
    """3 x R x R uint8 tensor from 3 x H x W pixels, by :data:`RESIZE_FILTER`."""
    if resize == "center-crop":
        height, width = pixels.shape[1:]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        pixels = pixels[:, top : top + side, left : left + side]
    batch = pixels.unsqueeze(0)  # channels-last strides from both decoders: torch's fast uint8 kernel
    if batch.shape[-2:] != (resolution, resolution):
        batch = F.interpolate(batch, size=(resolution, resolution), mode="bicubic", antialias=True, align_corners=False)
    return batch[0]


def decode_resized(path: Path, resolution: int, resize: str = "squash") -> torch.Tensor:
    """3 x R x R uint8 RGB tensor of one image file; an undecodable file is an :class:`SlbenchError`."""
    try:
        pixels = read_rgb(path, resolution, resize)
    except DECODE_ERRORS as err:
        raise SlbenchError(
            f"cannot decode {path} ({first_line(err)}); remove or replace it (`slbench data info` lists the broken images)"
        ) from err
    return resize_square(pixels, resolution, resize)
