"""The small value types of the data layer: one labelled image, and one problem found in a dataset."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})


def is_image_file(path: Path) -> bool:
    """An image file by its suffix (any case); hidden files such as ``._x.jpg`` are not."""
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".") and path.is_file()


@dataclass(frozen=True)
class ImageRecord:
    """One labelled image: where it is, its id, its category code and, when the data says it, its lesion."""

    path: Path
    image_id: str
    category: str
    lesion_id: str | None = None

    @property
    def group(self) -> str:
        """What must stay together in a split: the lesion, or the image itself when its lesion is unknown."""
        return f"lesion:{self.lesion_id}" if self.lesion_id else f"image:{self.image_id}"


class ProblemKind(str, enum.Enum):
    """What can be wrong with a dataset. Problems are collected and reported, not raised."""

    UNREADABLE_IMAGE = "unreadable image"
    TRUNCATED_IMAGE = "truncated image"
    NOT_ONE_HOT = "label not one-hot"
    UNKNOWN_LABEL = "unknown label"
    MISSING_FILE = "id without file"
    UNLABELLED_FILE = "file without label"
    DUPLICATE_ID = "duplicate id"
    DUPLICATE_CONTENT = "duplicate image"
    UNKNOWN_FOLDER = "unknown folder"
    MISSING_LABELS = "labels missing"
    EMPTY_CATEGORY = "empty category"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset, with the file it concerns where there is one."""

    kind: ProblemKind
    message: str
    path: Path | None = None

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"
