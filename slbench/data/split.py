"""Train/test split by lesion, stratified by class, recorded with its seed.

HAM10000 holds several images of many lesions (Tschandl et al., 2018). A split that put one
image of a lesion in training and another in test would let a memorisation check or a
classifier score a near-copy as generalisation, so whole lesions go to one side. Within each
category the lesions are shuffled by a generator seeded with (seed, category) and taken into
the test side while that keeps the test count at or under round(test_fraction x images); a
category of two or more images keeps at least one image on each side where its lesions allow
(two images of one lesion cannot be split, and stay in training). An image without a
lesion id is its own lesion. A lesion that (wrongly) appears under two categories is placed
once, by the first category in :data:`CATEGORIES` order, so it never straddles the split.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from slbench.data.categories import CATEGORIES
from slbench.data.dataset import Dataset
from slbench.data.records import ImageRecord
from slbench.errors import SlbenchError

SIDES = ("train", "test")
DEFAULT_SPLIT_SEED = 0  # the split `slbench train --split train`, `features train` and `utility` use
DEFAULT_SPLIT_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class DataSplit:
    """The two sides of a split: every category -> its records (sorted by image id; empty when none)."""

    train: dict[str, list[ImageRecord]]
    test: dict[str, list[ImageRecord]]
    seed: int
    test_fraction: float

    def side(self, side: str) -> dict[str, list[ImageRecord]]:
        if side not in SIDES:
            raise SlbenchError(f"unknown split side {side!r}: use train or test")
        return self.train if side == "train" else self.test

    def fingerprint(self, side: str) -> str:
        """sha256 hex over the category and image id of every image on one side."""
        lines = sorted(f"{r.category}\t{r.image_id}\n" for records in self.side(side).values() for r in records)
        return hashlib.sha256("".join(lines).encode()).hexdigest()

    def to_json(self) -> dict:
        """A JSON-ready record of the split: seed, fraction, counts, fingerprints and the test image ids."""
        return {
            "seed": self.seed,
            "test_fraction": self.test_fraction,
            "grouping": "lesion",
            "train_counts": {category: len(records) for category, records in self.train.items()},
            "test_counts": {category: len(records) for category, records in self.test.items()},
            "train_fingerprint": self.fingerprint("train"),
            "test_fingerprint": self.fingerprint("test"),
            "test_ids": {category: [r.image_id for r in records] for category, records in self.test.items()},
        }


def _test_target(count: int, test_fraction: float) -> int:
    target = round(test_fraction * count)
    if count >= 2 and test_fraction > 0:
        target = min(max(target, 1), count - 1)
    return target


def _choose_test_groups(
    groups: dict[str, list[ImageRecord]], target: int, rng: np.random.Generator, fixed: dict[str, str]
) -> set[str]:
    """Groups sent to test: those already placed there, then shuffled groups while they fit the target."""
    chosen = {group for group in groups if fixed.get(group) == "test"}
    taken = sum(len(groups[group]) for group in chosen)
    free = sorted(group for group in groups if group not in fixed)
    for index in rng.permutation(len(free)):
        group = free[index]
        if taken + len(groups[group]) <= target:
            chosen.add(group)
            taken += len(groups[group])
    if taken == 0 and target > 0 and free:
        smallest = min(free, key=lambda group: (len(groups[group]), group))
        if len(groups[smallest]) < sum(len(records) for records in groups.values()):
            chosen.add(smallest)
    return chosen


def split_by_lesion(dataset: Dataset, *, test_fraction: float = 0.2, seed: int = 0) -> DataSplit:
    """Split the usable images of ``dataset`` into train and test, by lesion (see module docstring)."""
    if not 0.0 <= test_fraction < 1.0:
        raise SlbenchError(f"test fraction must be at least 0 and below 1, not {test_fraction}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SlbenchError(f"split seed must be a whole number >= 0, not {seed!r}")
    placed: dict[str, str] = {}
    train: dict[str, list[ImageRecord]] = {}
    test: dict[str, list[ImageRecord]] = {}
    for index, category in enumerate(CATEGORIES):
        records = dataset.records(category)
        groups: dict[str, list[ImageRecord]] = {}
        for record in records:
            groups.setdefault(record.group, []).append(record)
        rng = np.random.default_rng([seed, index])
        test_groups = _choose_test_groups(groups, _test_target(len(records), test_fraction), rng, placed)
        for group in groups:
            placed.setdefault(group, "test" if group in test_groups else "train")
        train[category] = [r for r in records if placed[r.group] == "train"]
        test[category] = [r for r in records if placed[r.group] == "test"]
    return DataSplit(train=train, test=test, seed=seed, test_fraction=test_fraction)
