"""The lesion-grouped, class-stratified, seeded train/test split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slbench.data import CATEGORIES, Dataset, ImageRecord, load_dataset, split_by_lesion
from slbench.errors import SlbenchError


def dataset_of(spec: dict[str, list[int]]) -> Dataset:
    """A dataset from category -> sizes of its lesions (a size of 0 means one image without lesion id)."""
    records = []
    for category, lesions in spec.items():
        for lesion_number, size in enumerate(lesions):
            lesion_id = f"{category}-L{lesion_number}" if size else None
            for view in range(max(size, 1)):
                image_id = f"{category}-{lesion_number}-{view}"
                records.append(ImageRecord(Path(f"/nowhere/{image_id}.jpg"), image_id, category, lesion_id))
    return Dataset(root=Path("/nowhere"), layout="class-folders", records=records, problems=[])


def lesions_of(side):
    return {r.group for records in side.values() for r in records}


def test_no_lesion_on_both_sides_and_each_class_near_the_fraction():
    dataset = dataset_of({"MEL": [3, 1, 2, 1, 1, 4, 1, 1, 2, 1], "NV": [1] * 30 + [5, 5], "DF": [0, 0, 0, 0, 0]})
    split = split_by_lesion(dataset, test_fraction=0.25, seed=3)
    assert lesions_of(split.train).isdisjoint(lesions_of(split.test))
    for category in ("MEL", "NV", "DF"):
        total = len(dataset.records(category))
        assert len(split.train[category]) + len(split.test[category]) == total
        assert abs(len(split.test[category]) - 0.25 * total) <= 1
    assert split.train["BCC"] == [] and split.test["BCC"] == [] and set(split.train) == set(CATEGORIES)


def test_same_seed_same_split_other_seed_other_split():
    dataset = dataset_of({"MEL": [1] * 20, "NV": [2] * 10})
    first, again = split_by_lesion(dataset, seed=7), split_by_lesion(dataset, seed=7)
    assert first.to_json() == again.to_json()
    assert first.fingerprint("test") == again.fingerprint("test")
    other = split_by_lesion(dataset, seed=8)
    assert other.fingerprint("test") != first.fingerprint("test")
    assert other.fingerprint("train") != first.fingerprint("train")


def test_small_classes_keep_an_image_on_each_side():
    split = split_by_lesion(dataset_of({"VASC": [1, 1], "DF": [1], "BCC": [1, 1, 1]}), test_fraction=0.2)
    assert (len(split.train["VASC"]), len(split.test["VASC"])) == (1, 1)
    assert (len(split.train["DF"]), len(split.test["DF"])) == (1, 0)
    assert (len(split.train["BCC"]), len(split.test["BCC"])) == (2, 1)
    one_lesion = split_by_lesion(dataset_of({"MEL": [2]}), test_fraction=0.5)
    assert (len(one_lesion.train["MEL"]), len(one_lesion.test["MEL"])) == (2, 0)


def test_a_lesion_listed_under_two_classes_stays_on_one_side():
    records = [ImageRecord(Path(f"/x/{i}.jpg"), f"i{i}", "MEL" if i % 2 else "NV", "shared" if i < 2 else f"L{i}")
               for i in range(12)]
    dataset = Dataset(root=Path("/x"), layout="class-folders", records=records, problems=[])
    for seed in range(10):
        split = split_by_lesion(dataset, test_fraction=0.5, seed=seed)
        assert lesions_of(split.train).isdisjoint(lesions_of(split.test))


def test_to_json_records_seed_fraction_and_test_ids():
    dataset = dataset_of({"MEL": [1] * 10})
    split = split_by_lesion(dataset, test_fraction=0.3, seed=1)
    record = json.loads(json.dumps(split.to_json()))
    assert record["seed"] == 1 and record["test_fraction"] == 0.3
    assert record["test_ids"]["MEL"] == [r.image_id for r in split.test["MEL"]] and len(record["test_ids"]["MEL"]) == 3
    assert record["train_fingerprint"] == split.fingerprint("train")


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 2])
def test_bad_fraction_is_a_user_error(fraction):
    with pytest.raises(SlbenchError, match="test fraction"):
        split_by_lesion(dataset_of({"MEL": [1, 1]}), test_fraction=fraction)


def test_synthetic_lesions_with_two_images_stay_together(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset)
    split = split_by_lesion(dataset, test_fraction=0.5, seed=0)
    assert lesions_of(split.train).isdisjoint(lesions_of(split.test))
    assert all(len(split.test[c]) > 0 and len(split.train[c]) > 0 for c in CATEGORIES)
