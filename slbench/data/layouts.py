"""Which of the four on-disk layouts a folder holds, and where its lesion ids come from.

Recognised, in this order: ISIC 2018 Task 3 (``isic2018``), the reference code's
``Datasets/ISIC2018_<class>/`` (``reference-folders``), HAM10000 (``ham10000``) and one folder
per class (``class-folders``). Where a HAM10000 metadata table sits beside plain class folders,
the table's ``dx`` is the label. Several images often show one lesion; the lesion of an image is read
from ``ISIC2018_Task3_<Split>_LesionGroupings.csv`` (``image,lesion_id,...``) and from any
``HAM10000_metadata*.csv`` (``image_id,lesion_id,...``) found in the dataset folder, whatever
the layout.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from slbench.data.layout_folders import class_folders, reference_base, reference_class_folders, scan_class_folders
from slbench.data.layout_tables import (
    ISIC_SPLITS,
    ham_metadata_files,
    looks_like_isic2018,
    scan_ham10000,
    scan_isic2018,
    strip_image_suffix,
)
from slbench.data.records import ImageRecord, Problem
from slbench.data.tables import read_table
from slbench.errors import SlbenchError

LAYOUTS = ("isic2018", "ham10000", "class-folders", "reference-folders")

LAYOUT_DESCRIPTIONS = {
    "isic2018": "ISIC 2018 Task 3 (input folders and ground-truth CSV)",
    "ham10000": "HAM10000 (metadata CSV and image folders)",
    "class-folders": "one folder per class",
    "reference-folders": "reference-code folders (Datasets/ISIC2018_<class>/)",
}


def scan_layout(root: Path) -> tuple[str, list[ImageRecord], list[Problem]]:
    """Recognise the layout of ``root`` and list its labelled images (not yet checked) and problems."""
    if looks_like_isic2018(root):
        layout, (records, problems) = "isic2018", scan_isic2018(root)
    elif reference := reference_class_folders(root):
        layout, (records, problems) = "reference-folders", scan_class_folders(root, reference_base(root), reference)
    elif metadata := ham_metadata_files(root):
        layout, (records, problems) = "ham10000", scan_ham10000(root, metadata[0])
    elif classes := class_folders(root):
        layout, (records, problems) = "class-folders", scan_class_folders(root, root, classes)
    else:
        raise SlbenchError(
            f"{root} is not a dataset layout slbench knows: expected ISIC2018_Task3_Training_Input/ with its "
            "GroundTruth CSV, HAM10000_metadata.csv with its images, Datasets/ISIC2018_<class>/ folders, "
            "or one folder per class (MEL/, NV/, ...)"
        )
    lesions = read_lesion_ids(root)
    if layout == "reference-folders" and reference_base(root) != root:
        lesions = {**read_lesion_ids(reference_base(root)), **lesions}
    return layout, with_lesion_ids(records, lesions), problems


def lesion_sources(root: Path) -> list[Path]:
    """Files that map image ids to lesion ids, the ISIC groupings first."""
    groupings = [
        candidate
        for split in ISIC_SPLITS
        for candidate in (
            root / f"ISIC2018_Task3_{split}_LesionGroupings.csv",
            root / f"ISIC2018_Task3_{split}_GroundTruth" / f"ISIC2018_Task3_{split}_LesionGroupings.csv",
        )
        if candidate.is_file()
    ]
    return groupings + ham_metadata_files(root)


def read_lesion_ids(root: Path) -> dict[str, str]:
    """Image id -> lesion id from every lesion source in ``root``; the first source that names an image wins."""
    lesions: dict[str, str] = {}
    for source in lesion_sources(root):
        table = read_table(source)
        id_column = "image" if "image" in table.header else "image_id"
        table.require_columns(id_column, "lesion_id")
        for row in table.rows:
            if row["lesion_id"]:
                lesions.setdefault(strip_image_suffix(row[id_column]), row["lesion_id"])
    return lesions


def with_lesion_ids(records: list[ImageRecord], lesions: dict[str, str]) -> list[ImageRecord]:
    """Records with their lesion id filled in where a lesion source knows it."""
    return [
        replace(record, lesion_id=lesions[record.image_id])
        if record.lesion_id is None and record.image_id in lesions
        else record
        for record in records
    ]
