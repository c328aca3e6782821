"""The built-in synthetic dataset: deterministic, valid ISIC 2018 layout, ISIC proportions, learnable."""

from __future__ import annotations

import csv
import errno
from collections import Counter

import numpy as np
import pytest
from typer.testing import CliRunner

from slbench.cli import app
from slbench.data import CATEGORIES, ISIC2018_COUNTS, load_dataset, load_images, split_by_lesion
from slbench.data import synth
from slbench.data.synth import class_counts, write_synthetic_dataset
from slbench.errors import SlbenchError


def file_bytes(root):
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_same_seed_same_bytes_other_seed_other_images(tmp_path):
    options = dict(per_class=2, seed=5, image_size=(48, 36))
    first = file_bytes(write_synthetic_dataset(tmp_path / "a", **options))
    second = file_bytes(write_synthetic_dataset(tmp_path / "b", **options))
    assert first == second and len(first) == 14 + 3
    other = file_bytes(write_synthetic_dataset(tmp_path / "c", **{**options, "seed": 6}))
    assert other.keys() == first.keys()
    jpegs = [name for name in first if name.endswith(".jpg")]
    assert all(other[name] != first[name] for name in jpegs)


def test_class_counts_follow_isic_2018_unless_balanced():
    assert class_counts(total=10015) == ISIC2018_COUNTS
    counts = class_counts(total=350)
    assert sum(counts.values()) == 350 and max(counts, key=counts.get) == "NV"
    for category in CATEGORIES:
        assert abs(counts[category] - 350 * ISIC2018_COUNTS[category] / 10015) <= 2
    assert min(class_counts(total=20).values()) == 2  # every class keeps two images
    assert set(class_counts(total=70, balanced=True).values()) == {10}
    assert set(class_counts(per_class=3).values()) == {3}
    with pytest.raises(SlbenchError):
        class_counts(per_class=3, total=30)
    with pytest.raises(SlbenchError):
        class_counts(total=5)


def test_fixture_is_a_valid_isic_dataset_with_grouped_lesions(synthetic_dataset):
    dataset = load_dataset(synthetic_dataset)
    assert dataset.layout == "isic2018" and dataset.categories() == list(CATEGORIES)
    assert all(len(dataset.records(c)) == 12 for c in CATEGORIES)
    assert [p for p in dataset.problems] == []
    with open(synthetic_dataset / "ISIC2018_Task3_Training_LesionGroupings.csv") as handle:
        lesion_sizes = Counter(row["lesion_id"] for row in csv.DictReader(handle))
    assert 1 <= sum(size == 2 for size in lesion_sizes.values()) < len(lesion_sizes) // 3
    assert sum(dataset.lesion_count(c) for c in CATEGORIES) == len(lesion_sizes)
    result = CliRunner().invoke(app, ["data", "info", str(synthetic_dataset)])
    assert result.exit_code == 0 and "no problems found" in result.output


def colour_histograms(images):
    """Joint RGB histograms (4 levels per channel), normalised: a deliberately simple description."""
    levels = (images // 64).long()
    codes = (levels[:, 0] * 16 + levels[:, 1] * 4 + levels[:, 2]).flatten(1)
    counts = np.stack([np.bincount(row, minlength=64) for row in codes.numpy()]).astype(float)
    return counts / counts.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("size", [(64, 48), (200, 150)])
def test_classes_are_separable_by_colour_histogram_nearest_centroid(tmp_path, size):
    root = write_synthetic_dataset(tmp_path / "lesions", per_class=10, seed=3, image_size=size)
    split = split_by_lesion(load_dataset(root), test_fraction=0.5, seed=0)
    centroids = np.stack([colour_histograms(load_images(split.train[c], 32)).mean(axis=0) for c in CATEGORIES])
    correct = total = 0
    for label, category in enumerate(CATEGORIES):
        features = colour_histograms(load_images(split.test[category], 32))
        predicted = np.argmin(((features[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
        correct += int((predicted == label).sum())
        total += len(features)
    assert correct / total >= 0.6, f"accuracy {correct / total:.2f} (chance {1 / 7:.2f})"


def test_existing_folders_are_reused_replaced_or_refused(tmp_path):
    out = write_synthetic_dataset(tmp_path / "d", per_class=1, image_size=(32, 24))
    ground_truth = out / "ISIC2018_Task3_Training_GroundTruth.csv"
    stamp = ground_truth.stat().st_mtime_ns
    write_synthetic_dataset(out, per_class=1, image_size=(32, 24))
    assert ground_truth.stat().st_mtime_ns == stamp  # same request: nothing rewritten
    write_synthetic_dataset(out, per_class=2, image_size=(32, 24))
    assert len(load_dataset(out)) == 14
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no staging folder left behind
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(SlbenchError, match="already holds other files"):
        write_synthetic_dataset(tmp_path / "mine", per_class=1)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_synth_command_writes_and_shows_the_dataset(tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["data", "synth", str(out), "--per-class", "2", "--seed", "1", "--size", "40x30"])
    assert result.exit_code == 0, result.output
    assert "MEL" in result.output and len(load_dataset(out)) == 14
    bad = CliRunner().invoke(app, ["data", "synth", str(tmp_path / "x"), "--per-class", "2", "--total", "30"])
    assert bad.exit_code == 2 and "either --per-class or --total" in bad.output
    bad_size = CliRunner().invoke(app, ["data", "synth", str(tmp_path / "y"), "--size", "big"])
    assert bad_size.exit_code == 2 and "WIDTHxHEIGHT" in bad_size.output


@pytest.mark.parametrize(("size", "words"), [("8x8", "at least 16 x 16"), ("100000x100000", "choose a smaller --size")])
def test_sizes_that_could_not_be_written_or_read_back_are_refused(tmp_path, size, words):
    result = CliRunner().invoke(app, ["data", "synth", str(tmp_path / "x"), "--per-class", "1", "--size", size])
    assert result.exit_code == 2 and words in result.output and not (tmp_path / "x").exists()


def test_a_folder_that_cannot_be_written_is_named_as_given_not_by_its_staging_folder(tmp_path, monkeypatch):
    def read_only(parent, prefix):
        raise OSError(errno.EROFS, "Read-only file system", str(parent / f"{prefix}0123"))

    monkeypatch.setattr(synth, "new_folder_beside", read_only)
    result = CliRunner().invoke(app, ["data", "synth", str(tmp_path / "d"), "--per-class", "1"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2
    assert f"cannot write a dataset into {tmp_path / 'd'} (Read-only file system)" in said and ".d.new-" not in said
