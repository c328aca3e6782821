"""A dataset on disk as slbench sees it: usable labelled images per category, and what is wrong.

:func:`load_dataset` recognises the layout (:mod:`slbench.data.layouts`), checks every image's
header (:mod:`slbench.data.checks`) and collects problems instead of raising, so that
``slbench data info`` can list them all. Only a folder that is no dataset at all, or that
cannot be read, raises an :class:`~slbench.errors.SlbenchError`.

A dataset is *usable* when at least one labelled image passed the checks; every command that
needs images refuses an unusable one with :meth:`Dataset.unusable_reason` as its reason.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

from generators.safe_io import sha256_file
from slbench.console import print_warning
from slbench.data.categories import CATEGORIES, FULL_NAMES, require_category
from slbench.data.checks import check_images, drop_duplicate_content
from slbench.data.layouts import scan_layout
from slbench.data.records import ImageRecord, Problem, ProblemKind
from slbench.data.workers import thread_map
from slbench.errors import SlbenchError

FINGERPRINT_VERSION = "slbench-dataset-v1"

LEAVING_OUT = frozenset({ProblemKind.UNREADABLE_IMAGE, ProblemKind.TRUNCATED_IMAGE, ProblemKind.NOT_ONE_HOT,
                         ProblemKind.UNKNOWN_LABEL, ProblemKind.DUPLICATE_ID, ProblemKind.DUPLICATE_CONTENT,
                         ProblemKind.UNLABELLED_FILE})
"""Problems that keep an image file out of the dataset's categories."""

_WARNED_ROOTS: set[Path] = set()  # dataset folders whose left-out files this process has warned of


class Dataset:
    """Usable images per category of one dataset folder, its layout and its problems."""

    def __init__(
        self,
        *,
        root: Path,
        layout: str,
        records: list[ImageRecord],
        problems: list[Problem],
        image_sizes: dict[Path, tuple[int, int]] | None = None,
    ) -> None:
        self.root = root
        self.layout = layout
        self.problems = list(problems)
        self._by_category = {
            category: sorted((r for r in records if r.category == category), key=lambda r: r.image_id)
            for category in CATEGORIES
        }
        self._sizes = dict(image_sizes or {})
        self._fingerprint: str | None = None

    def records(self, category: str) -> list[ImageRecord]:
        """The usable images of one category (code or name, any case), sorted by image id."""
        return list(self._by_category[require_category(category)])

    def categories(self) -> list[str]:
        """Categories with at least one usable image, in :data:`CATEGORIES` order."""
        return [category for category in CATEGORIES if self._by_category[category]]

    def all_records(self) -> list[ImageRecord]:
        """Every usable image, category by category in :data:`CATEGORIES` order."""
        return [record for category in CATEGORIES for record in self._by_category[category]]

    def __len__(self) -> int:
        return sum(len(records) for records in self._by_category.values())

    def image_size(self, record: ImageRecord) -> tuple[int, int] | None:
        """(width, height) of a record's image as stored, when the checks read it."""
        return self._sizes.get(record.path)

    def lesion_count(self, category: str) -> int | None:
        """Distinct lesions in a category (an image without lesion id counts as its own); ``None`` if none is known."""
        records = self.records(category)
        if not any(record.lesion_id for record in records):
            return None
        return len({record.group for record in records})

    def fingerprint(self) -> str:
        """sha256 hex over the content and label of every usable image (not their names or place)."""
        if self._fingerprint is None:
            records = self.all_records()
            digests = thread_map(lambda r: sha256_file(r.path), records, description="Hashing images")
            lines = sorted(f"{record.category}\t{digest}\n" for record, digest in zip(records, digests))
            payload = (FINGERPRINT_VERSION + "\n" + "".join(lines)).encode()
            self._fingerprint = hashlib.sha256(payload).hexdigest()
        return self._fingerprint

    def unusable_reason(self) -> str | None:
        """Why no command can use this dataset (no usable image at all), or ``None`` when it is usable."""
        if len(self):
            return None
        kinds = Counter(problem.kind.value for problem in self.problems)
        found = "; ".join(f"{count} x {kind}" for kind, count in kinds.most_common() if kind != "empty category")
        return f"{self.root} has no usable labelled image" + (f" ({found})" if found else "")

    def left_out_summary(self) -> str | None:
        """One line on the image files its problems keep out of every category (unreadable or
        truncated, badly labelled, duplicated), or ``None`` when none is."""
        kinds = Counter(problem.kind.value for problem in self.problems if problem.kind in LEAVING_OUT)
        if not kinds:
            return None
        listed = ", ".join(f"{count} x {kind}" for kind, count in kinds.most_common())
        return (f"{sum(kinds.values())} image file(s) of {self.root} left out ({listed}); "
                f"`slbench data info {self.root}` lists them")

    def require_usable(self) -> "Dataset":
        """This dataset, or an :class:`SlbenchError` with the reason it cannot be used; a usable one
        with files left out says so on the console, once per dataset folder, so that no command
        trains or measures on fewer images than the folder holds without saying it."""
        reason = self.unusable_reason()
        if reason:
            raise SlbenchError(f"{reason}; run `slbench data info {self.root}` for details")
        summary = self.left_out_summary()
        if summary and self.root not in _WARNED_ROOTS:
            _WARNED_ROOTS.add(self.root)
            print_warning(summary)
        return self

    def __repr__(self) -> str:
        counts = ", ".join(f"{c}={len(self._by_category[c])}" for c in self.categories())
        summary = f"layout={self.layout!r}, {counts or 'empty'}, problems={len(self.problems)}"
        return f"Dataset({str(self.root)!r}, {summary})"


def empty_category_problems(records: list[ImageRecord]) -> list[Problem]:
    present = {record.category for record in records}
    return [
        Problem(ProblemKind.EMPTY_CATEGORY, f"no usable image of {category} ({FULL_NAMES[category]})")
        for category in CATEGORIES
        if category not in present
    ]


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset folder in any recognised layout; problems are collected on the result."""
    root = Path(path).expanduser()
    if not root.exists():
        raise SlbenchError(f"{root} does not exist; give the folder that holds the dataset")
    if not root.is_dir():
        raise SlbenchError(f"{root} is a file, not a dataset folder; give the folder that holds it")
    root = root.resolve()
    try:
        layout, records, problems = scan_layout(root)
        usable, image_problems, sizes = check_images(records)
        unique, duplicate_problems = drop_duplicate_content(usable)
    except OSError as err:
        where = err.filename or root
        raise SlbenchError(f"cannot read {where} ({err.strerror or err}); check its permissions") from err
    problems = problems + image_problems + duplicate_problems + empty_category_problems(unique)
    return Dataset(root=root, layout=layout, records=unique, problems=problems, image_sizes=sizes)
