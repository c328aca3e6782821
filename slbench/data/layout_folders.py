"""Datasets labelled by folder: one folder per class, and the reference code's ``Datasets/ISIC2018_<class>/``.

Class folders are named by code or full name in any case (``MEL``, ``melanoma``,
``Melanocytic_nevi``); the SL-StyleGAN reference code (Qin et al., 2020) keeps one folder per
class named ``ISIC2018_<class>`` (``ISIC2018_mel``), usually inside ``Datasets/``. Images are
found at any depth below a class folder. An image's id is its file name without extension, or,
where two files share a name, its path relative to the dataset root.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from slbench.data.categories import parse_category
from slbench.data.records import ImageRecord, Problem, ProblemKind, is_image_file

REFERENCE_PREFIX = "isic2018_"


def _subfolders(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith("."))


def reference_base(root: Path) -> Path:
    """The folder holding the ``ISIC2018_<class>`` folders: ``root/Datasets`` when it exists, else ``root``."""
    datasets = root / "Datasets"
    return datasets if datasets.is_dir() else root


def reference_class_folders(root: Path) -> dict[Path, str]:
    """``ISIC2018_<class>`` folders (any case) mapped to their category."""
    found: dict[Path, str] = {}
    for folder in _subfolders(reference_base(root)):
        name = folder.name.lower()
        if name.startswith(REFERENCE_PREFIX):
            category = parse_category(name[len(REFERENCE_PREFIX) :])
            if category is not None:
                found[folder] = category
    return found


def class_folders(root: Path) -> dict[Path, str]:
    """Subfolders named after a category (code or full name, any case) mapped to it."""
    return {folder: category for folder in _subfolders(root) if (category := parse_category(folder.name))}


def _images_below(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if is_image_file(path))


def _image_ids(root: Path, paths: list[Path]) -> dict[Path, str]:
    stems = Counter(path.stem for path in paths)
    return {
        path: path.stem if stems[path.stem] == 1 else path.relative_to(root).with_suffix("").as_posix()
        for path in paths
    }


def _stray_problems(base: Path, labelled: dict[Path, str]) -> list[Problem]:
    """Images directly in the base folder, and folders with images that name no class."""
    problems = [
        Problem(ProblemKind.UNLABELLED_FILE, f"{path.name} is not inside a class folder; it is left out", path)
        for path in sorted(base.iterdir())
        if is_image_file(path)
    ]
    for folder in _subfolders(base):
        if folder in labelled:
            continue
        count = len(_images_below(folder))
        if count:
            problems.append(
                Problem(
                    ProblemKind.UNKNOWN_FOLDER,
                    f"{folder.name}/ has {count} image(s) but its name is not a lesion class; they are left out",
                    folder,
                )
            )
    return problems


def scan_class_folders(root: Path, base: Path, folders: dict[Path, str]) -> tuple[list[ImageRecord], list[Problem]]:
    """Records for every image below each class folder, and the images that belong to no class."""
    by_path = {path: category for folder, category in folders.items() for path in _images_below(folder)}
    ids = _image_ids(root, list(by_path))
    records = [
        ImageRecord(path=path, image_id=ids[path], category=category, lesion_id=None)
        for path, category in by_path.items()
    ]
    return records, _stray_problems(base, folders)
