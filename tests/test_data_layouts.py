"""Each on-disk layout is recognised and read with the right labels and lesions."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from data_builders import write_image, write_isic
from slbench.data import CATEGORIES, load_dataset, parse_category
from slbench.errors import SlbenchError


def counts(dataset):
    return {category: len(dataset.records(category)) for category in dataset.categories()}


def test_isic2018_layout_reads_one_hot_labels_and_lesion_groupings(tmp_path):
    labels = {"ISIC_0000001": "MEL", "ISIC_0000002": "MEL", "ISIC_0000003": "NV", "ISIC_0000004": "VASC"}
    lesions = {"ISIC_0000001": "HAM_1", "ISIC_0000002": "HAM_1", "ISIC_0000003": "HAM_2"}
    dataset = load_dataset(write_isic(tmp_path, labels, lesions))
    assert dataset.layout == "isic2018"
    assert dataset.root == tmp_path.resolve()
    assert counts(dataset) == {"NV": 1, "MEL": 2, "VASC": 1}
    assert dataset.categories() == ["NV", "MEL", "VASC"]  # CATEGORIES order
    mel = dataset.records("mel")
    assert [r.image_id for r in mel] == ["ISIC_0000001", "ISIC_0000002"]
    assert {r.lesion_id for r in mel} == {"HAM_1"}
    assert dataset.records("VASC")[0].lesion_id is None
    assert dataset.lesion_count("MEL") == 1 and dataset.lesion_count("VASC") is None
    assert all(r.path.is_file() and r.path.name == f"{r.image_id}.jpg" for r in dataset.all_records())


def test_isic2018_ground_truth_inside_its_unzipped_folder_and_validation_split(tmp_path):
    write_isic(tmp_path, {"ISIC_0000001": "BCC"})
    folder = tmp_path / "ISIC2018_Task3_Training_GroundTruth"
    folder.mkdir()
    (tmp_path / "ISIC2018_Task3_Training_GroundTruth.csv").rename(folder / "ISIC2018_Task3_Training_GroundTruth.csv")
    write_image(tmp_path / "ISIC2018_Task3_Validation_Input" / "ISIC_0000009.jpg")
    (tmp_path / "ISIC2018_Task3_Validation_GroundTruth.csv").write_text(
        "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\nISIC_0000009,0.0,0.0,0.0,0.0,0.0,1.0,0.0\n"
    )
    dataset = load_dataset(tmp_path)
    assert counts(dataset) == {"BCC": 1, "DF": 1}


def test_ham10000_layout_with_two_image_folders_and_lesion_ids(tmp_path):
    rows = [("ISIC_0000001", "HAM_A", "mel"), ("ISIC_0000002", "HAM_A", "mel"), ("ISIC_0000003", "HAM_B", "bkl"),
            ("ISIC_0000004", "HAM_C", "AKIEC")]
    with open(tmp_path / "HAM10000_metadata.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"])
        writer.writerows([lesion, image, dx, "histo", "50", "male", "back"] for image, lesion, dx in rows)
    write_image(tmp_path / "HAM10000_images_part_1" / "ISIC_0000001.jpg")
    write_image(tmp_path / "HAM10000_images_part_1" / "ISIC_0000002.jpg")
    write_image(tmp_path / "HAM10000_images_part_2" / "ISIC_0000003.jpg")
    write_image(tmp_path / "HAM10000_images_part_2" / "ISIC_0000004.jpg")
    dataset = load_dataset(tmp_path)
    assert dataset.layout == "ham10000"
    assert counts(dataset) == {"AKIEC": 1, "BKL": 1, "MEL": 2}
    assert [r.lesion_id for r in dataset.records("MEL")] == ["HAM_A", "HAM_A"]
    assert dataset.problems == [p for p in dataset.problems if p.kind.value == "empty category"]


def test_ham10000_images_in_one_folder(tmp_path):
    (tmp_path / "HAM10000_metadata.csv").write_text("image_id,lesion_id,dx\nISIC_1,HAM_1,df\nISIC_2,HAM_2,nv\n")
    write_image(tmp_path / "images" / "ISIC_1.jpg")
    write_image(tmp_path / "images" / "ISIC_2.jpg")
    assert counts(load_dataset(tmp_path)) == {"DF": 1, "NV": 1}


@pytest.mark.parametrize(
    "folders",
    [
        {"MEL": "MEL", "nv": "NV", "Bcc": "BCC"},
        {"melanoma": "MEL", "Melanocytic_nevi": "NV", "basal cell carcinoma": "BCC"},
    ],
)
def test_class_folders_by_code_or_full_name_in_any_case(tmp_path, folders):
    for index, name in enumerate(folders):
        for number in range(index + 1):
            write_image(tmp_path / name / f"{number:03d}.png", key=f"{name}{number}")
    dataset = load_dataset(tmp_path)
    assert dataset.layout == "class-folders"
    assert counts(dataset) == {code: index + 1 for index, code in enumerate(folders.values())}
    ids = [r.image_id for r in dataset.all_records()]
    assert len(set(ids)) == len(ids)  # same file names in two folders still give distinct ids


def test_reference_code_folders_inside_datasets(tmp_path):
    write_image(tmp_path / "Datasets" / "ISIC2018_mel" / "ISIC_1.jpg")
    write_image(tmp_path / "Datasets" / "ISIC2018_mel" / "ISIC_2.jpg")
    write_image(tmp_path / "Datasets" / "ISIC2018_vasc" / "images" / "ISIC_3.jpg")  # nested, as Keras loaders want
    (tmp_path / "Datasets" / "HAM10000_metadata.csv").write_text("image_id,lesion_id,dx\nISIC_1,HAM_7,mel\n")
    for root in (tmp_path, tmp_path / "Datasets"):
        dataset = load_dataset(root)
        assert dataset.layout == "reference-folders"
        assert counts(dataset) == {"MEL": 2, "VASC": 1}
        assert [(r.image_id, r.lesion_id) for r in dataset.records("MEL")] == [("ISIC_1", "HAM_7"), ("ISIC_2", None)]


def test_ham_metadata_beside_isic_layout_gives_lesion_ids(tmp_path):
    write_isic(tmp_path, {"ISIC_0000001": "NV", "ISIC_0000002": "NV", "ISIC_0000003": "NV"})
    (tmp_path / "HAM10000_metadata_subset.csv").write_text(
        "image_id,lesion_id,dx\nISIC_0000001,HAM_9,nv\nISIC_0000002,HAM_9,nv\n"
    )
    dataset = load_dataset(tmp_path)
    assert dataset.layout == "isic2018"
    assert [r.lesion_id for r in dataset.records("NV")] == ["HAM_9", "HAM_9", None]
    assert dataset.lesion_count("NV") == 2


def test_real_isic_sample_counts_match_its_csv(isic_sample):
    dataset = load_dataset(isic_sample)
    assert dataset.layout == "isic2018"
    expected = Counter()
    with open(isic_sample / "ISIC2018_Task3_Training_GroundTruth.csv") as handle:
        for row in csv.DictReader(handle):
            expected[max(("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"), key=lambda c: float(row[c]))] += 1
    assert counts(dataset) == dict(expected)
    assert counts(dataset) == {"AKIEC": 40, "BCC": 40, "BKL": 60, "DF": 40, "NV": 120, "MEL": 80, "VASC": 40}
    assert dataset.problems == []
    assert all(r.lesion_id and r.lesion_id.startswith("HAM_") for r in dataset.all_records())


@pytest.mark.parametrize("make", ["missing", "file", "empty", "unrelated"])
def test_a_path_that_is_no_dataset_is_a_one_line_error(tmp_path, make):
    target = tmp_path / "target"
    if make == "file":
        target.write_text("x")
    elif make in ("empty", "unrelated"):
        target.mkdir()
        if make == "unrelated":
            write_image(target / "holiday" / "beach.jpg")
    with pytest.raises(SlbenchError) as err:
        load_dataset(target)
    assert "\n" not in str(err.value) and str(target) in str(err.value)


def test_unreadable_folder_is_a_user_error(tmp_path, monkeypatch):
    write_isic(tmp_path, {"ISIC_1": "MEL"})
    inputs = tmp_path / "ISIC2018_Task3_Training_Input"
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == inputs:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(SlbenchError, match="cannot read .*Permission denied"):
        load_dataset(tmp_path)


def test_ground_truth_without_its_columns_is_a_user_error(tmp_path):
    write_isic(tmp_path, {"ISIC_1": "MEL"})
    (tmp_path / "ISIC2018_Task3_Training_GroundTruth.csv").write_text("image,label\nISIC_1,MEL\n")
    with pytest.raises(SlbenchError, match="lacks the column"):
        load_dataset(tmp_path)


def test_a_row_with_more_cells_than_the_header_is_refused_but_a_trailing_empty_one_is_not(tmp_path):
    write_isic(tmp_path, {"ISIC_1": "MEL", "ISIC_2": "NV"})
    table = tmp_path / "ISIC2018_Task3_Training_GroundTruth.csv"
    lines = table.read_text().splitlines()
    table.write_text("\n".join([lines[0], lines[1] + ",", *lines[2:]]) + "\n")
    assert len(load_dataset(tmp_path)) == 2
    table.write_text("\n".join([lines[0], lines[1], lines[2] + ",1.0"]) + "\n")
    with pytest.raises(SlbenchError, match=r"line 3 has 9 cells under a header of 8; check the file"):
        load_dataset(tmp_path)


def test_category_names_parse_to_codes():
    assert [parse_category(name) for name in ("akiec", "Basal_Cell_Carcinoma", "seborrheic", "nevus", "VASC")] == [
        "AKIEC", "BCC", None, "NV", "VASC"
    ]
    assert all(parse_category(code) == code for code in CATEGORIES)
