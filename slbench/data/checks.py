"""Checks on image files that do not decode every pixel, so they stay fast on 10,000 images.

* Unreadable: Pillow cannot identify the file or parse its header (empty, not an image), or it
  has more pixels than Pillow's decompression-bomb limit.
* Truncated: a JPEG that does not end with its end-of-image marker, or a PNG without its
  ``IEND`` chunk: a partial download or copy. Other formats, being rare here, are decoded fully.
* Duplicate content: byte-identical files under two ids. Only files whose sizes collide are
  hashed. Copies with the same label keep the first id (in id order); copies with different
  labels are all left out, since their label is unknown.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from generators.safe_io import sha256_file
from slbench.data.decode import DECODE_ERRORS, JPEG_END, check_pixel_count, first_line
from slbench.data.records import ImageRecord, Problem, ProblemKind
from slbench.data.workers import thread_map

PNG_END = b"IEND\xaeB`\x82"
TAIL_BYTES = 64


@dataclass(frozen=True)
class ImageCheck:
    """What the header check found: the size (width, height) of a readable image, or the problem."""

    size: tuple[int, int] | None
    problem: Problem | None


def _tail(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - TAIL_BYTES))
        return handle.read().rstrip(b"\x00")


def _is_complete(path: Path, image_format: str | None) -> bool:
    if image_format == "JPEG":
        return _tail(path).endswith(JPEG_END)
    if image_format == "PNG":
        return _tail(path).endswith(PNG_END)
    with Image.open(path) as image:
        image.load()
    return True


def check_image(path: Path) -> ImageCheck:
    """Header check of one image file (see module docstring)."""
    try:
        with Image.open(path) as image:
            size, image_format = image.size, image.format
        check_pixel_count(size)
        complete = _is_complete(path, image_format)
    except DECODE_ERRORS as err:
        reason = "file is empty" if path.is_file() and path.stat().st_size == 0 else first_line(err)
        return ImageCheck(None, Problem(ProblemKind.UNREADABLE_IMAGE, f"{path.name}: {reason}; left out", path))
    if not complete:
        return ImageCheck(
            None, Problem(ProblemKind.TRUNCATED_IMAGE, f"{path.name} is cut short ({image_format}); left out", path)
        )
    return ImageCheck(size, None)


def check_images(
    records: list[ImageRecord],
) -> tuple[list[ImageRecord], list[Problem], dict[Path, tuple[int, int]]]:
    """The records whose images pass :func:`check_image`, the problems of the others, and image sizes."""
    checks = thread_map(lambda record: check_image(record.path), records, description="Checking images")
    usable = [record for record, check in zip(records, checks) if check.problem is None]
    problems = [check.problem for check in checks if check.problem is not None]
    sizes = {record.path: check.size for record, check in zip(records, checks) if check.size is not None}
    return usable, problems, sizes


def drop_duplicate_content(records: list[ImageRecord]) -> tuple[list[ImageRecord], list[Problem]]:
    """Records without byte-identical copies (see module docstring), and one problem per set of copies."""
    by_size: dict[int, list[ImageRecord]] = defaultdict(list)
    for record in records:
        by_size[record.path.stat().st_size].append(record)
    candidates = [record for group in by_size.values() if len(group) > 1 for record in group]
    digests = thread_map(lambda record: sha256_file(record.path), candidates)
    by_digest: dict[str, list[ImageRecord]] = defaultdict(list)
    for record, digest in zip(candidates, digests):
        by_digest[digest].append(record)
    dropped: set[Path] = set()
    problems: list[Problem] = []
    for copies in by_digest.values():
        if len(copies) < 2:
            continue
        copies.sort(key=lambda record: record.image_id)
        names = ", ".join(f"{record.image_id} ({record.category})" for record in copies)
        if len({record.category for record in copies}) == 1:
            dropped.update(record.path for record in copies[1:])
            message = f"{names} are the same file; only {copies[0].image_id} is kept"
        else:
            dropped.update(record.path for record in copies)
            message = f"{names} are the same file with different labels; all are left out"
        problems.append(Problem(ProblemKind.DUPLICATE_CONTENT, message, copies[0].path))
    return [record for record in records if record.path not in dropped], problems
