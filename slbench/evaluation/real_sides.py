"""Which real images a run scores against: all of a class, or one side of its lesion-grouped split.

A checkpoint trained with ``slbench train --split train`` saw only the training side of the
lesion-grouped split (:func:`slbench.data.split_by_lesion`), and records that split's seed,
test fraction and training-side fingerprint. When every checkpoint of a run was trained on the
training side of one such split, the quality metrics (FID, KID, precision/recall, density/
coverage, the RBF MMD, PRD, the Vendi scores, the class-consistency ceiling) are scored
against the held-out (``test``) side, and memorisation against the ``train`` side: the images
the model could have copied. Checkpoints trained on every image are scored against ``all``.

``--real-side`` overrides: ``all`` scores everything (memorisation included) against every
image of the class, as runs did before the split was honoured; ``train`` scores quality on the
training side (memorisation still against what the models were trained on); ``test`` is
refused unless every checkpoint provably never saw the held-out side, since calling images a
model trained on "held-out" would misreport its generalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from slbench.data import Dataset, ImageRecord, split_by_lesion
from slbench.data.split import DEFAULT_SPLIT_SEED, DEFAULT_SPLIT_TEST_FRACTION, DataSplit
from slbench.errors import SlbenchError

ALL, TRAIN, TEST = "all", "train", "test"
SIDES = (ALL, TEST, TRAIN)

SIDE_WORDS = {
    ALL: "all images of the class",
    TEST: "the held-out (test) side of the lesion-grouped split",
    TRAIN: "the training side of the lesion-grouped split",
}


@dataclass(frozen=True)
class TrainedOn:
    """What one checkpoint's training saw: ``(seed, test fraction)`` of its lesion split, or None
    with the reason it cannot count as trained on the training side of this dataset's split."""

    key: str  # "model/category"
    split: tuple[int, float] | None
    reason: str


def trained_on(key: str, metadata: Mapping[str, Any], dataset: Dataset) -> TrainedOn:
    """Whether a checkpoint whose ``metadata`` is given was trained on the training side of a lesion
    split of ``dataset``, and which."""
    if metadata.get("split") != TRAIN:
        return TrainedOn(key, None, "trained on all images")
    if metadata.get("data_fingerprint") != dataset.fingerprint():
        return TrainedOn(key, None, "trained on the split of other data")
    data = metadata.get("data") if isinstance(metadata.get("data"), dict) else {}
    seed, fraction = data.get("split_seed", DEFAULT_SPLIT_SEED), data.get("split_test_fraction",
                                                                           DEFAULT_SPLIT_TEST_FRACTION)
    if isinstance(seed, bool) or not isinstance(seed, int) or not isinstance(fraction, (int, float)):
        return TrainedOn(key, None, "its metadata records no usable split seed and test fraction")
    split = split_by_lesion(dataset, test_fraction=float(fraction), seed=seed)
    if metadata.get("split_fingerprint") != split.fingerprint(TRAIN):
        return TrainedOn(key, None, "its training side differs from this dataset's split")
    return TrainedOn(key, (seed, float(fraction)), "")


@dataclass(frozen=True)
class RealSides:
    """The real side quality is scored on, the side memorisation uses, and the split behind them."""

    quality: str
    memorisation: str
    split: DataSplit | None  # None when both sides are ``all``
    source: str  # "default" or "--real-side"
    checkpoints_split: bool  # every checkpoint trained on the training side of ``split``

    def records(self, dataset: Dataset, category: str, side: str) -> list[ImageRecord]:
        """The images of ``category`` on ``side``, sorted by image id."""
        if side == ALL or self.split is None:
            return dataset.records(category)
        return list(self.split.side(side).get(category, []))

    def to_json(self) -> dict[str, Any]:
        """What ``metrics.json`` settings record (``slbench check`` replays ``quality``)."""
        record: dict[str, Any] = {"quality": self.quality, "memorisation": self.memorisation, "source": self.source,
                                  "checkpoints_trained_on": TRAIN if self.checkpoints_split else ALL}
        if self.split is not None:
            record["split"] = {"seed": self.split.seed, "test_fraction": self.split.test_fraction,
                               "grouping": "lesion", "train_fingerprint": self.split.fingerprint(TRAIN),
                               "test_fingerprint": self.split.fingerprint(TEST)}
        return record


def choose_real_sides(dataset: Dataset, checkpoints: Iterable[tuple[str, Mapping[str, Any]]],
                      requested: str | None, *, split_default: str = TEST) -> RealSides:
    """The real sides of a run on ``checkpoints`` (``(model/category, metadata)`` pairs); ``requested``
    is ``--real-side`` (``None``: ``split_default`` when every checkpoint was trained on the training
    side of one lesion split, else all; see the module docstring)."""
    if requested is not None and requested not in SIDES:
        raise SlbenchError(f"--real-side {requested!r} is not one of {', '.join(SIDES)}")
    seen = [trained_on(key, metadata, dataset) for key, metadata in checkpoints]
    splits = {item.split for item in seen if item.split is not None}
    on_split = bool(seen) and all(item.split is not None for item in seen)
    if on_split and len(splits) > 1 and requested != ALL:
        listed = "; ".join(f"{item.key}: seed {item.split[0]}, test fraction {item.split[1]:g}" for item in seen)
        raise SlbenchError(f"the checkpoints were trained on different lesion splits ({listed}), so no side is held "
                           "out for all of them; retrain them on one split, or give --real-side all")
    if requested == TEST and not on_split:
        seen_all = "; ".join(f"{item.key}: {item.reason}" for item in seen if item.split is None)
        raise SlbenchError(f"--real-side test needs checkpoints that never saw the held-out images, but {seen_all}; "
                           "retrain with `slbench train --split train`, or give --real-side all")
    quality = requested or (split_default if on_split else ALL)
    if quality == ALL:
        return RealSides(ALL, ALL, None, "default" if requested is None else "--real-side", on_split)
    seed, fraction = splits.pop() if on_split else (DEFAULT_SPLIT_SEED, DEFAULT_SPLIT_TEST_FRACTION)
    split = split_by_lesion(dataset, test_fraction=fraction, seed=seed)
    memorisation = TRAIN if on_split else ALL
    return RealSides(quality, memorisation, split, "default" if requested is None else "--real-side", on_split)


def replayed_sides(dataset: Dataset, recorded: Any) -> RealSides:
    """The real sides a baseline's settings record (results written before sides were: ``all``)."""
    if not isinstance(recorded, dict) or recorded.get("quality", ALL) == ALL:
        return RealSides(ALL, ALL, None, "baseline", False)
    split_record = recorded.get("split") or {}
    try:
        split = split_by_lesion(dataset, test_fraction=float(split_record["test_fraction"]),
                                seed=int(split_record["seed"]))
    except (KeyError, TypeError, ValueError):
        raise SlbenchError("the baseline records a split real side without its seed and test fraction; "
                           "re-run the baseline with this slbench") from None
    if split.fingerprint(TEST) != split_record.get("test_fingerprint"):
        raise SlbenchError("the baseline's held-out side differs from this dataset's split; "
                           "give --data with the baseline's dataset")
    quality, memorisation = recorded.get("quality"), recorded.get("memorisation", ALL)
    if quality not in SIDES or memorisation not in SIDES:
        raise SlbenchError(f"the baseline records unknown real sides {quality!r}/{memorisation!r}")
    return RealSides(quality, memorisation, split, "baseline", recorded.get("checkpoints_trained_on") == TRAIN)
