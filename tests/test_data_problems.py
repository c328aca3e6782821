"""Bad datasets: every problem is collected with its kind, and `data info` exits 2 only when nothing is usable."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image
from typer.testing import CliRunner

from data_builders import write_image, write_isic
from slbench.cli import app
from slbench.data import ImageRecord, ProblemKind, load_dataset, load_images
from slbench.errors import SlbenchError

LABELS = {"ISIC_0000001": "MEL", "ISIC_0000002": "MEL", "ISIC_0000003": "NV", "ISIC_0000004": "NV"}


def kinds(dataset):
    return [p.kind for p in dataset.problems if p.kind is not ProblemKind.EMPTY_CATEGORY]


def inputs(root):
    return root / "ISIC2018_Task3_Training_Input"


def run_info(path):
    return CliRunner().invoke(app, ["data", "info", str(path)])


def test_unreadable_and_truncated_images_are_left_out(tmp_path):
    write_isic(tmp_path, LABELS)
    (inputs(tmp_path) / "ISIC_0000001.jpg").write_bytes(b"this is not a jpeg")
    whole = (inputs(tmp_path) / "ISIC_0000003.jpg").read_bytes()
    (inputs(tmp_path) / "ISIC_0000003.jpg").write_bytes(whole[: len(whole) // 2])
    dataset = load_dataset(tmp_path)
    assert sorted(kinds(dataset)) == sorted([ProblemKind.UNREADABLE_IMAGE, ProblemKind.TRUNCATED_IMAGE])
    assert [r.image_id for r in dataset.all_records()] == ["ISIC_0000004", "ISIC_0000002"]
    assert {p.path.name for p in dataset.problems if p.path} == {"ISIC_0000001.jpg", "ISIC_0000003.jpg"}


def test_truncated_png_is_caught(tmp_path):
    write_image(tmp_path / "MEL" / "a.png")
    write_image(tmp_path / "MEL" / "b.png")
    data = (tmp_path / "MEL" / "b.png").read_bytes()
    (tmp_path / "MEL" / "b.png").write_bytes(data[:-20])
    dataset = load_dataset(tmp_path)
    assert kinds(dataset) == [ProblemKind.TRUNCATED_IMAGE]
    assert len(dataset.records("MEL")) == 1


def test_rows_that_are_not_one_hot_ids_without_file_and_files_without_label(tmp_path):
    extra = ["ISIC_0000008,1.0,1.0,0.0,0.0,0.0,0.0,0.0", "ISIC_0000009,0.5,0.5,0.0,0.0,0.0,0.0,0.0",
             "ISIC_0000010,0.0,0.0,0.0,0.0,0.0,0.0,0.0", "ISIC_0000011,0.0,0.0,0.0,0.0,0.0,0.0,1.0"]
    write_isic(tmp_path, LABELS, extra_rows=extra)
    for image_id in ("ISIC_0000008", "ISIC_0000009", "ISIC_0000010"):
        write_image(inputs(tmp_path) / f"{image_id}.jpg")
    write_image(inputs(tmp_path) / "ISIC_0000099.jpg")
    dataset = load_dataset(tmp_path)
    found = kinds(dataset)
    assert found.count(ProblemKind.NOT_ONE_HOT) == 3
    assert found.count(ProblemKind.MISSING_FILE) == 1  # ISIC_0000011 (VASC) has no file
    assert found.count(ProblemKind.UNLABELLED_FILE) == 1  # ISIC_0000099
    assert len(dataset) == 4
    assert "ISIC_0000011" in " ".join(p.message for p in dataset.problems if p.kind is ProblemKind.MISSING_FILE)


def test_duplicate_content_keeps_one_copy_or_none_when_labels_disagree(tmp_path):
    write_isic(tmp_path, {**LABELS, "ISIC_0000005": "MEL", "ISIC_0000006": "BCC"})
    shutil.copy(inputs(tmp_path) / "ISIC_0000001.jpg", inputs(tmp_path) / "ISIC_0000005.jpg")  # same label
    shutil.copy(inputs(tmp_path) / "ISIC_0000003.jpg", inputs(tmp_path) / "ISIC_0000006.jpg")  # NV vs BCC
    dataset = load_dataset(tmp_path)
    assert kinds(dataset) == [ProblemKind.DUPLICATE_CONTENT, ProblemKind.DUPLICATE_CONTENT]
    assert [r.image_id for r in dataset.records("MEL")] == ["ISIC_0000001", "ISIC_0000002"]
    assert [r.image_id for r in dataset.records("NV")] == ["ISIC_0000004"]
    assert dataset.records("BCC") == []


def test_duplicate_rows_with_conflicting_labels_leave_the_image_out(tmp_path):
    write_isic(tmp_path, LABELS, extra_rows=["ISIC_0000001,0.0,1.0,0.0,0.0,0.0,0.0,0.0"])
    dataset = load_dataset(tmp_path)
    assert kinds(dataset) == [ProblemKind.DUPLICATE_ID]
    assert [r.image_id for r in dataset.records("MEL")] == ["ISIC_0000002"]


def test_empty_categories_are_reported(tmp_path):
    dataset = load_dataset(write_isic(tmp_path, LABELS))
    empty = [p.message for p in dataset.problems if p.kind is ProblemKind.EMPTY_CATEGORY]
    assert len(empty) == 5 and any("DF" in message for message in empty)


def test_unknown_dx_and_stray_folders(tmp_path):
    (tmp_path / "HAM10000_metadata.csv").write_text("image_id,lesion_id,dx\nISIC_1,HAM_1,mel\nISIC_2,HAM_2,scc\n")
    write_image(tmp_path / "HAM10000_images_part_1" / "ISIC_1.jpg")
    write_image(tmp_path / "HAM10000_images_part_1" / "ISIC_2.jpg")
    dataset = load_dataset(tmp_path)
    assert kinds(dataset) == [ProblemKind.UNKNOWN_LABEL]  # its file is not reported twice

    folders = tmp_path / "folders"
    write_image(folders / "MEL" / "a.jpg")
    write_image(folders / "holiday" / "b.jpg")
    write_image(folders / "c.jpg")
    assert sorted(kinds(load_dataset(folders))) == sorted([ProblemKind.UNKNOWN_FOLDER, ProblemKind.UNLABELLED_FILE])


def test_usable_dataset_with_problems_exits_0_and_lists_them(tmp_path):
    write_isic(tmp_path, LABELS)
    (inputs(tmp_path) / "ISIC_0000001.jpg").write_bytes(b"")
    result = run_info(tmp_path)
    assert result.exit_code == 0, result.output
    assert "unreadable image" in result.output and "ISIC_0000001.jpg" in result.output
    assert "Traceback" not in result.output


def test_every_labelled_image_broken_exits_2_with_one_line_reason(tmp_path):
    write_isic(tmp_path, LABELS)
    for path in inputs(tmp_path).iterdir():
        path.write_bytes(path.read_bytes()[:-300])
    dataset = load_dataset(tmp_path)
    assert len(dataset) == 0 and dataset.unusable_reason() is not None
    result = run_info(tmp_path)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no usable labelled image" in errors[0] and "4 x truncated image" in errors[0]


def test_labels_that_match_no_file_exit_2(tmp_path):
    write_isic(tmp_path, LABELS)
    for path in inputs(tmp_path).iterdir():
        path.rename(path.with_name("other_" + path.name))
    result = run_info(tmp_path)
    assert result.exit_code == 2
    assert "id without file" in result.output and "file without label" in result.output


def test_input_folder_without_ground_truth_exits_2(tmp_path):
    write_image(inputs(tmp_path) / "ISIC_1.jpg")
    result = run_info(tmp_path)
    assert result.exit_code == 2 and "GroundTruth" in result.output


def test_not_a_dataset_exits_2_without_traceback(tmp_path):
    result = run_info(tmp_path / "nowhere")
    assert result.exit_code == 2
    assert result.output.strip().startswith("error:") and "does not exist" in result.output


def test_images_above_the_pixel_limit_are_refused(tmp_path, monkeypatch):
    write_image(tmp_path / "MEL" / "small.png", size=(8, 8))
    write_image(tmp_path / "MEL" / "large.png", size=(12, 10))  # over the limit, under twice it: Pillow only warns
    write_image(tmp_path / "MEL" / "huge.png", size=(40, 30))  # over twice the limit: Pillow refuses
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.warns(Image.DecompressionBombWarning):
        dataset = load_dataset(tmp_path)
    assert kinds(dataset) == [ProblemKind.UNREADABLE_IMAGE, ProblemKind.UNREADABLE_IMAGE]
    assert [r.image_id for r in dataset.records("MEL")] == ["small"]
    large = ImageRecord(tmp_path / "MEL" / "large.png", "large", "MEL")
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(SlbenchError, match="more than the 100"):
        load_images([large], 8, cache=False)


def test_commands_that_use_a_dataset_say_once_which_files_it_left_out(tmp_path, monkeypatch):
    write_isic(tmp_path, LABELS)
    (inputs(tmp_path) / "ISIC_0000001.jpg").write_bytes(b"")
    whole = (inputs(tmp_path) / "ISIC_0000003.jpg").read_bytes()
    (inputs(tmp_path) / "ISIC_0000003.jpg").write_bytes(whole[: len(whole) // 2])
    warnings = []
    monkeypatch.setattr("slbench.data.dataset.print_warning", warnings.append)
    monkeypatch.setattr("slbench.data.dataset._WARNED_ROOTS", set())
    load_dataset(tmp_path).require_usable()
    load_dataset(tmp_path).require_usable()
    assert warnings == [f"2 image file(s) of {tmp_path.resolve()} left out (1 x unreadable image, 1 x truncated "
                        f"image); `slbench data info {tmp_path.resolve()}` lists them"]


def test_a_dataset_with_nothing_left_out_gives_no_warning(tmp_path, monkeypatch):
    write_isic(tmp_path, LABELS)
    warnings = []
    monkeypatch.setattr("slbench.data.dataset.print_warning", warnings.append)
    assert load_dataset(tmp_path).require_usable().left_out_summary() is None and warnings == []
