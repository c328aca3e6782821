"""What real images each model was trained on, and the warning when one class's models differ."""

from __future__ import annotations

from reports.render import render_report
from reports.training_data import describe_training_data, training_data_entries, unequal_training_data_warning
from reports_factory import quality_rows, write_run
from slbench.evaluation.training_images import training_images_record

ALL_60 = {"side": "all", "images": 60, "fingerprint": "a" * 64, "scored_dataset": True}
TRAIN_48 = {"side": "train", "images": 48, "fingerprint": "b" * 64, "scored_dataset": True}


def test_models_trained_on_the_same_images_raise_no_warning():
    entries = [("sl-stylegan", "MEL", ALL_60), ("dcgan", "MEL", dict(ALL_60)), ("dcgan", "NV", TRAIN_48)]
    assert unequal_training_data_warning(entries) is None
    unknown = {"side": "all", "images": None, "fingerprint": None, "scored_dataset": True}
    assert unequal_training_data_warning([("dcgan", "MEL", ALL_60), ("stylegan", "MEL", unknown)]) is None


def test_a_class_whose_models_saw_different_images_is_named_with_what_each_saw():
    other = {**ALL_60, "fingerprint": "c" * 64, "scored_dataset": False}
    warning = unequal_training_data_warning([("dcgan", "NV", ALL_60), ("dcgan", "MEL", TRAIN_48),
                                             ("sl-stylegan", "MEL", ALL_60), ("stylegan", "NV", other)])
    assert ("NV: stylegan all 60 images of another dataset, dcgan all 60 images; "
            "MEL: sl-stylegan all 60 images, dcgan the training side of the lesion split (48 images);") in warning
    assert warning.endswith("train every model on the same data with the same --split for a fair comparison.")
    assert describe_training_data({"side": "all", "images": None}) == "all its images"


def test_entries_are_read_from_run_settings():
    settings = {"trained_on": {"dcgan/MEL": ALL_60, "sl-stylegan/MEL": TRAIN_48, "garbled": ALL_60}}
    assert training_data_entries(settings) == [("dcgan", "MEL", ALL_60), ("sl-stylegan", "MEL", TRAIN_48)]
    assert training_data_entries({}) == [] and training_data_entries({"trained_on": "garbled"}) == []


def test_a_combined_report_names_models_as_its_tables_do(tmp_path):
    rows = quality_rows(models=("dcgan",), categories=("MEL",))
    first = write_run(tmp_path / "first", rows + quality_rows(models=("sl-stylegan",), categories=("MEL",)),
                      artifacts=False, settings={"trained_on": {"dcgan/MEL": ALL_60, "sl-stylegan/MEL": ALL_60}})
    second = write_run(tmp_path / "second", rows, artifacts=False, settings={"trained_on": {"dcgan/MEL": TRAIN_48}})
    heard: list[str] = []
    written = render_report([first, second], out=tmp_path / "report", formats="md", on_warning=heard.append)
    expected = ("MEL: sl-stylegan all 60 images, dcgan [first] all 60 images, dcgan [second] the training side of "
                "the lesion split (48 images)")
    assert [warning for warning in heard if "different real images" in warning] == [heard[-1]]
    assert expected in heard[-1]
    assert expected in written["md"].read_text().replace("\\[", "[").replace("\\]", "]")  # Markdown escapes brackets


class _Dataset:
    def fingerprint(self) -> str:
        return "d" * 64


def test_a_checkpoints_record_comes_from_its_metadata():
    trained = {"split": "train", "data_fingerprint": "d" * 64, "split_fingerprint": "e" * 64, "num_images": 48}
    assert training_images_record(trained, _Dataset()) == {"side": "train", "images": 48, "fingerprint": "e" * 64,
                                                           "scored_dataset": True}
    elsewhere = {"split": "all", "data_fingerprint": "f" * 64, "num_images": True}
    assert training_images_record(elsewhere, _Dataset()) == {"side": "all", "images": None, "fingerprint": "f" * 64,
                                                             "scored_dataset": False}
    assert training_images_record({"split": "all"}, _Dataset()) is None
    assert training_images_record({"split": "train", "data_fingerprint": "d" * 64}, _Dataset()) is None


def test_the_console_hears_the_training_data_warning_once_however_many_tables_carry_it(tmp_path):
    from dataclasses import replace

    from reports.render import report_warnings
    from reports.results import load_results
    from reports.tables import build_tables

    rows = quality_rows(categories=("MEL",)) + quality_rows(categories=("MEL",), features="lesion", resolution=32)
    result_set = load_results(write_run(tmp_path / "run", rows, artifacts=False))
    tables = [replace(table, training_data_warning="Models trained on different real images: W.")
              for table in build_tables(result_set.rows)]
    assert len(tables) == 2
    assert report_warnings(result_set, tables) == ["Models trained on different real images: W."]
