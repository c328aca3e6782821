"""Tiny on-disk datasets for the data-layer tests, each image with its own content."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from slbench.data.categories import GROUND_TRUTH_COLUMNS

SIZE = (40, 30)


def pattern(key: str, size: tuple[int, int] = SIZE) -> np.ndarray:
    """A height x width x 3 uint8 pattern unique to ``key``."""
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)


def write_image(path: Path, key: str | None = None, size: tuple[int, int] = SIZE, **save) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pattern(key or path.stem, size)).save(path, **save)
    return path


def ground_truth_row(image_id: str, category: str) -> str:
    return image_id + "," + ",".join("1.0" if c == category else "0.0" for c in GROUND_TRUTH_COLUMNS)


def write_isic(root: Path, labels: dict[str, str], lesions: dict[str, str] | None = None, extra_rows=()) -> Path:
    """An ISIC 2018 Task 3 training folder: one JPEG per labelled id, the ground truth and lesion groupings."""
    inputs = root / "ISIC2018_Task3_Training_Input"
    inputs.mkdir(parents=True, exist_ok=True)
    for image_id in labels:
        write_image(inputs / f"{image_id}.jpg", quality=95)
    rows = [ground_truth_row(image_id, category) for image_id, category in labels.items()]
    header = "image," + ",".join(GROUND_TRUTH_COLUMNS)
    (root / "ISIC2018_Task3_Training_GroundTruth.csv").write_text("\n".join([header, *rows, *extra_rows]) + "\n")
    if lesions is not None:
        lines = ["image,lesion_id,diagnosis_confirm_type"] + [f"{i},{lesion},histo" for i, lesion in lesions.items()]
        (root / "ISIC2018_Task3_Training_LesionGroupings.csv").write_text("\n".join(lines) + "\n")
    return root


def png16(pixels: np.ndarray) -> bytes:
    """A 16-bit PNG (grey, RGB or RGBA by the channel count) written by hand: Pillow cannot write 16-bit RGB."""
    height, width, channels = pixels.shape
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + pixels[row].astype(">u2").tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_bytes(pixels: np.ndarray, **save) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", **save)
    return buffer.getvalue()
