"""Datasets labelled by a table: ISIC 2018 Task 3 and HAM10000.

ISIC 2018 Task 3 (Codella et al., arXiv:1902.03368) ships ``ISIC2018_Task3_<Split>_Input/``
folders of ``ISIC_xxxxxxx.jpg`` images and a ``ISIC2018_Task3_<Split>_GroundTruth.csv`` (also
found inside a ``ISIC2018_Task3_<Split>_GroundTruth/`` folder, as unzipped) with the columns
``image,MEL,NV,BCC,AKIEC,BKL,DF,VASC`` holding one-hot floats. HAM10000 (Tschandl et al., 2018)
ships ``HAM10000_metadata.csv`` (``image_id``, ``lesion_id``, ``dx``, ...) and the same images in
``HAM10000_images_part_1/`` and ``HAM10000_images_part_2/`` (or one folder, once merged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from slbench.data.categories import GROUND_TRUTH_COLUMNS, parse_category
from slbench.data.records import ImageRecord, Problem, ProblemKind, is_image_file
from slbench.data.tables import read_table
from slbench.errors import SlbenchError

ISIC_SPLITS = ("Training", "Validation", "Test")


@dataclass
class Labels:
    """Labels read from tables: image id -> (category, lesion id), the ids whose rows were rejected, and why."""

    entries: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)

    def reject(self, image_id: str, problem: Problem) -> None:
        """A row that names ``image_id`` but gives no usable label: its file is not reported again as unlabelled."""
        self.rejected.add(image_id)
        self.problems.append(problem)

    def add(self, image_id: str, category: str, lesion_id: str | None, source: Path) -> None:
        previous = self.entries.get(image_id)
        if previous is None:
            if image_id not in self.rejected:
                self.entries[image_id] = (category, lesion_id)
            return
        if previous[0] == category:
            self.problems.append(Problem(ProblemKind.DUPLICATE_ID, f"{image_id} is listed twice (in {source.name})"))
            return
        del self.entries[image_id]
        self.reject(
            image_id,
            Problem(
                ProblemKind.DUPLICATE_ID,
                f"{image_id} is labelled both {previous[0]} and {category} (in {source.name}); the image is left out",
            )
        )


def strip_image_suffix(image_id: str) -> str:
    """``ISIC_0024306.jpg`` -> ``ISIC_0024306``: some copies of the tables name files, not ids."""
    path = Path(image_id)
    return path.stem if path.suffix.lower() in {".jpg", ".jpeg", ".png"} else image_id


def index_image_files(folders: list[Path]) -> tuple[dict[str, Path], list[Problem]]:
    """Image files (direct children) of the folders by id; an id seen again in a later folder is ignored."""
    files: dict[str, Path] = {}
    problems: list[Problem] = []
    for folder in folders:
        repeated: list[Path] = []
        for path in sorted(folder.iterdir()):
            if not is_image_file(path):
                continue
            if path.stem in files:
                repeated.append(path)
            else:
                files[path.stem] = path
        if repeated:
            problems.append(
                Problem(
                    ProblemKind.DUPLICATE_ID,
                    f"{len(repeated)} file(s) in {folder.name}/ repeat image ids found earlier "
                    f"(e.g. {repeated[0].name}); those copies are ignored",
                    repeated[0],
                )
            )
    return files, problems


def match_labels(labels: Labels, files: dict[str, Path]) -> tuple[list[ImageRecord], list[Problem]]:
    """Records for labelled ids that have a file; a problem for each id without file and file without label."""
    records: list[ImageRecord] = []
    problems = list(labels.problems)
    for image_id, (category, lesion_id) in labels.entries.items():
        path = files.get(image_id)
        if path is None:
            problems.append(Problem(ProblemKind.MISSING_FILE, f"{image_id} ({category}) has no image file"))
        else:
            records.append(ImageRecord(path=path, image_id=image_id, category=category, lesion_id=lesion_id))
    for image_id, path in files.items():
        if image_id not in labels.entries and image_id not in labels.rejected:
            problems.append(Problem(ProblemKind.UNLABELLED_FILE, f"{path.name} has no label; it is left out", path))
    return records, problems


# ISIC 2018 Task 3 ---------------------------------------------------------------------------


def isic_input_folders(root: Path) -> list[tuple[str, Path]]:
    return [
        (split, root / f"ISIC2018_Task3_{split}_Input")
        for split in ISIC_SPLITS
        if (root / f"ISIC2018_Task3_{split}_Input").is_dir()
    ]


def isic_ground_truth(root: Path, split: str) -> Path | None:
    name = f"ISIC2018_Task3_{split}_GroundTruth.csv"
    for candidate in (root / name, root / f"ISIC2018_Task3_{split}_GroundTruth" / name):
        if candidate.is_file():
            return candidate
    return None


def looks_like_isic2018(root: Path) -> bool:
    return bool(isic_input_folders(root)) or any(isic_ground_truth(root, split) for split in ISIC_SPLITS)


def one_hot_category(row: dict[str, str]) -> str | None:
    """The category of a ground-truth row whose labels are exactly one 1.0 and six 0.0; else ``None``."""
    try:
        values = [float(row[column]) for column in GROUND_TRUTH_COLUMNS]
    except (KeyError, ValueError):
        return None
    hot = [column for column, value in zip(GROUND_TRUTH_COLUMNS, values) if value == 1.0]
    if len(hot) != 1 or any(value not in (0.0, 1.0) for value in values):
        return None
    return hot[0]


def read_isic_labels(ground_truth: Path, labels: Labels) -> None:
    table = read_table(ground_truth)
    table.require_columns("image", *GROUND_TRUTH_COLUMNS)
    for row in table.rows:
        image_id = strip_image_suffix(row["image"])
        category = one_hot_category(row)
        if category is None:
            cells = ",".join(row.get(column, "") for column in GROUND_TRUTH_COLUMNS)
            labels.reject(
                image_id,
                Problem(ProblemKind.NOT_ONE_HOT, f"{image_id} has labels {cells} in {ground_truth.name}; left out"),
            )
        else:
            labels.add(image_id, category, None, ground_truth)


def scan_isic2018(root: Path) -> tuple[list[ImageRecord], list[Problem]]:
    """Records and problems of an ISIC 2018 Task 3 folder (every split that has inputs and labels)."""
    labels = Labels()
    folders: list[Path] = []
    problems: list[Problem] = []
    for split in ISIC_SPLITS:
        ground_truth = isic_ground_truth(root, split)
        folder = root / f"ISIC2018_Task3_{split}_Input"
        if ground_truth is not None:
            read_isic_labels(ground_truth, labels)
        if not folder.is_dir():
            if ground_truth is not None:
                problems.append(
                    Problem(ProblemKind.MISSING_FILE, f"{ground_truth.name} is here but {folder.name}/ is not")
                )
        elif ground_truth is None:
            count = sum(1 for path in folder.iterdir() if is_image_file(path))
            problems.append(
                Problem(
                    ProblemKind.MISSING_LABELS,
                    f"{folder.name}/ has {count} image(s) but there is no ISIC2018_Task3_{split}_GroundTruth.csv; "
                    "they are left out",
                    folder,
                )
            )
        else:
            folders.append(folder)
    if not labels.entries and not labels.problems and not folders:
        raise SlbenchError(
            f"{root} has ISIC 2018 Task 3 files but no labelled input: it needs ISIC2018_Task3_Training_Input/ "
            "with ISIC2018_Task3_Training_GroundTruth.csv beside it"
        )
    files, index_problems = index_image_files(folders)
    records, match_problems = match_labels(labels, files)
    return records, problems + index_problems + match_problems


# HAM10000 -----------------------------------------------------------------------------------


def ham_metadata_files(root: Path) -> list[Path]:
    """``HAM10000_metadata*.csv`` (or ``.tab``/``.txt``) files in ``root``, the official name first."""
    found = [
        path
        for path in sorted(root.glob("HAM10000_metadata*"))
        if path.is_file() and path.suffix.lower() in {".csv", ".tab", ".txt"}
    ]
    return sorted(found, key=lambda path: path.name != "HAM10000_metadata.csv")


def scan_ham10000(root: Path, metadata: Path) -> tuple[list[ImageRecord], list[Problem]]:
    """Records and problems of a HAM10000 folder: the metadata table plus images in the root or its subfolders."""
    table = read_table(metadata)
    table.require_columns("image_id", "dx")
    labels = Labels()
    for row in table.rows:
        image_id = strip_image_suffix(row["image_id"])
        category = parse_category(row["dx"])
        if category is None:
            labels.reject(
                image_id,
                Problem(ProblemKind.UNKNOWN_LABEL, f"{image_id} has dx {row['dx']!r}, not a known class; left out"),
            )
        else:
            labels.add(image_id, category, row.get("lesion_id") or None, metadata)
    folders = [root, *sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))]
    files, index_problems = index_image_files(folders)
    records, match_problems = match_labels(labels, files)
    return records, index_problems + match_problems
