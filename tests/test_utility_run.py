"""`slbench utility` end to end on the built-in synthetic lesions at 32 px, with very short training.

The generators are real DCGAN checkpoints made by `slbench train --split train` (one step, 8
channels); the dataset is the built-in synthetic one restricted to three classes, so that the
synthetic-only arm (which needs a generator for every class) stays cheap.
"""

from __future__ import annotations

import csv
import json
import hashlib
import math
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reports.results import load_results
from slbench.cli import app
from slbench.training import train_model
from slbench.utility import run_utility

CLASSES = ("DF", "NV", "MEL")  # in CATEGORIES order, as the classifier's outputs are
GROUND_TRUTH = "ISIC2018_Task3_Training_GroundTruth.csv"
GROUPINGS = "ISIC2018_Task3_Training_LesionGroupings.csv"
IMAGES = "ISIC2018_Task3_Training_Input"
RUN = dict(models="dcgan", categories="all", synthetic_per_class=4, epochs=1, batch=32)


pytestmark = pytest.mark.usefixtures("one_thread")


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _subset(source: Path, target: Path, classes: tuple[str, ...]) -> Path:
    """The dataset at ``source`` (ISIC 2018 layout) with only the images, labels and lesions of ``classes``."""
    header, rows = _read_csv(source / GROUND_TRUTH)
    kept = [row for row in rows if any(float(row[c]) == 1.0 for c in classes)]
    ids = {row["image"] for row in kept}
    (target / IMAGES).mkdir(parents=True)
    for image_id in ids:
        shutil.copy2(source / IMAGES / f"{image_id}.jpg", target / IMAGES / f"{image_id}.jpg")
    _write_csv(target / GROUND_TRUTH, header, kept)
    group_header, groups = _read_csv(source / GROUPINGS)
    _write_csv(target / GROUPINGS, group_header, [row for row in groups if row["image"] in ids])
    return target


def _train(data: Path, checkpoints: Path, category: str, split: str) -> None:
    train_model(model="dcgan", category=category, data=data, resolution=32, steps=1, batch=4,
                out=checkpoints / "dcgan" / category, split=split, settings=["ngf=8", "ndf=8"])


@pytest.fixture(scope="module")
def three_classes(synthetic_dataset, tmp_path_factory) -> Path:
    return _subset(synthetic_dataset, tmp_path_factory.mktemp("three") / "lesions", CLASSES)


@pytest.fixture(scope="module")
def checkpoints(three_classes, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("checkpoints")
    for category in CLASSES:
        _train(three_classes, folder, category, "train")
    return folder


@pytest.fixture(scope="module")
def first_run(three_classes, checkpoints, tmp_path_factory):
    folder = run_utility(data=three_classes, checkpoints=checkpoints, seeds=2, seed=0,
                         out=tmp_path_factory.mktemp("results") / "run", **RUN)
    return load_results(folder)


def _rows(result) -> dict[tuple[str, str, str], dict]:
    return {(r["model"], r["category"], r["metric"]): r for r in result.rows.to_dict("records")}


def test_every_arm_trains_and_yields_every_metric(first_run):
    rows = _rows(first_run)
    arms = ("real-only", "real+dcgan", "synthetic-only:dcgan")
    assert set(first_run.rows["model"]) == set(arms)
    assert set(first_run.rows["table"]) == {"utility"}
    per_seed = {arm: first_run.provenance["arms"][arm]["per_seed"] for arm in arms}
    for arm in arms:
        assert sorted(per_seed[arm]) == ["0", "1"]
        for metric in ("balanced_accuracy", "auc_macro"):
            row = rows[(arm, "all", metric)]
            assert 0.0 <= row["value"] <= 1.0
            assert row["value"] == pytest.approx(sum(s[metric] for s in per_seed[arm].values()) / 2)
        for scores in per_seed[arm].values():  # balanced accuracy is the mean per-class sensitivity
            assert scores["balanced_accuracy"] == pytest.approx(sum(scores["sensitivity"].values()) / len(CLASSES))
        for category in CLASSES:
            for metric in ("sensitivity", "specificity"):
                assert 0.0 <= rows[(arm, category, metric)]["value"] <= 1.0
    for arm in arms[1:]:
        gain = rows[(arm, "all", "gain_balanced_accuracy")]
        differences = [per_seed[arm][s]["balanced_accuracy"] - per_seed["real-only"][s]["balanced_accuracy"]
                       for s in ("0", "1")]
        assert gain["value"] == pytest.approx(sum(differences) / 2)
        assert gain["note"].startswith("paired t-test over 2 seeds")
    assert ("real-only", "all", "gain_balanced_accuracy") not in rows


def test_each_arm_trains_on_the_images_it_names(first_run):
    arms = first_run.provenance["arms"]
    real = arms["real-only"]["real_train"]
    assert set(real) == set(CLASSES) and all(n > 0 for n in real.values())
    assert arms["real-only"]["synthetic_train"] == {c: 0 for c in CLASSES}
    assert arms["real+dcgan"]["real_train"] == real
    assert arms["real+dcgan"]["synthetic_train"] == {c: 4 for c in CLASSES}
    assert arms["synthetic-only:dcgan"]["real_train"] == {c: 0 for c in CLASSES}
    assert arms["synthetic-only:dcgan"]["synthetic_train"] == {c: 4 for c in CLASSES}
    rows = _rows(first_run)
    assert rows[("real+dcgan", "MEL", "sensitivity")]["n_fake"] == 4
    assert rows[("synthetic-only:dcgan", "all", "balanced_accuracy")]["n_fake"] == 12
    assert set(first_run.provenance["checkpoints"]) == {f"dcgan/{c}" for c in CLASSES}
    assert all(len(entry["sha256"]) == 64 for entry in first_run.provenance["checkpoints"].values())


def test_the_split_is_grouped_by_lesion_stratified_and_recorded(first_run, three_classes):
    split = first_run.provenance["split"]
    assert split["seed"] == 0 and split["test_fraction"] == 0.2
    _, labels = _read_csv(three_classes / GROUND_TRUTH)
    category_of = {row["image"]: next(c for c in CLASSES if float(row[c]) == 1.0) for row in labels}
    lesion_of = {row["image"]: row["lesion_id"] for row in _read_csv(three_classes / GROUPINGS)[1]}
    test_ids = {image for ids in split["test_ids"].values() for image in ids}
    train_ids = set(category_of) - test_ids
    assert not {lesion_of[i] for i in test_ids} & {lesion_of[i] for i in train_ids}
    assert len(set(lesion_of[i] for i in category_of)) < len(category_of)  # some lesions do have two images
    for category in CLASSES:
        total = sum(1 for c in category_of.values() if c == category)
        tested = split["test_ids"][category]
        assert all(category_of[i] == category for i in tested)
        assert 1 <= len(tested) <= round(0.2 * total)
        assert split["train_counts"][category] == total - len(tested)
    lines = sorted(f"{category_of[i]}\t{i}\n" for i in test_ids)
    assert split["test_fingerprint"] == hashlib.sha256("".join(lines).encode()).hexdigest()
    assert _rows(first_run)[("real-only", "all", "balanced_accuracy")]["n_real"] == len(test_ids)


def test_identical_seeds_give_identical_results(first_run, three_classes, checkpoints, tmp_path):
    again = load_results(run_utility(data=three_classes, checkpoints=checkpoints, seeds=1, seed=1,
                                     out=tmp_path / "again", **RUN))
    for arm, record in again.provenance["arms"].items():
        assert record["per_seed"]["1"] == first_run.provenance["arms"][arm]["per_seed"]["1"], arm
    assert again.provenance["split"] == first_run.provenance["split"]
    gain = _rows(again)[("real+dcgan", "all", "gain_balanced_accuracy")]
    assert "one seed" in gain["note"] and math.isnan(gain["std"])


def _invoke(*args: str):
    result = CliRunner().invoke(app, ["utility", *args])
    return result.exit_code, " ".join(result.output.split())


def test_missing_checkpoints_are_listed_together(three_classes, checkpoints):
    code, output = _invoke("--data", str(three_classes), "--checkpoints", str(checkpoints),
                           "--models", "dcgan,stylegan", "--epochs", "1")
    assert code == 2
    assert "3 checkpoint(s) missing" in output
    assert all(f"stylegan/{c}" in output for c in CLASSES) and "dcgan/MEL" not in output
    assert "slbench train --split train" in output and "Traceback" not in output


def test_checkpoints_that_saw_test_images_are_refused_before_training(
    synthetic_dataset, three_classes, checkpoints, tmp_path
):
    mixed = tmp_path / "checkpoints"
    _train(three_classes, mixed, "MEL", "all")  # trained on every image, test side included
    _train(synthetic_dataset, mixed, "NV", "train")  # the train side of other data
    shutil.copytree(checkpoints / "dcgan" / "DF", mixed / "dcgan" / "DF")
    code, output = _invoke("--data", str(three_classes), "--checkpoints", str(mixed), "--models", "dcgan",
                           "--out", str(tmp_path / "never"))
    assert code == 2
    assert "2 checkpoint(s) may have seen the test images" in output
    assert "dcgan/MEL (trained on split 'all'" in output and "dcgan/NV (trained on other data)" in output
    assert "dcgan/DF (" not in output
    assert "slbench train --split train" in output
    assert not (tmp_path / "never").exists()


def test_a_requested_class_without_synthetic_images_is_an_error(three_classes, checkpoints, tmp_path):
    swapped = tmp_path / "checkpoints"
    shutil.copytree(checkpoints / "dcgan" / "MEL", swapped / "dcgan" / "NV")
    code, output = _invoke("--data", str(three_classes), "--checkpoints", str(swapped), "--models", "dcgan",
                           "--category", "NV")
    assert code == 2 and "no synthetic images of the requested class" in output
    assert "makes MEL images, not NV" in output
    code, output = _invoke("--data", str(three_classes), "--checkpoints", str(checkpoints), "--models", "dcgan",
                           "--category", "BCC")
    assert code == 2 and "no images of BCC" in output


def test_an_unreadable_checkpoint_is_named_not_called_missing(three_classes, checkpoints, tmp_path):
    broken = tmp_path / "checkpoints"
    for category in CLASSES:
        shutil.copytree(checkpoints / "dcgan" / category, broken / "dcgan" / category)
    metadata = next((broken / "dcgan" / "DF").glob("step-*.json"))
    metadata.write_text(metadata.read_text()[:40])  # truncated
    code, output = _invoke("--data", str(three_classes), "--checkpoints", str(broken), "--models", "dcgan")
    assert code == 2
    assert "1 checkpoint(s) cannot be read: dcgan/DF" in output and "missing" not in output


def _utility_args(data: Path, checkpoints: Path, out: Path, *extra: str) -> list[str]:
    return ["--data", str(data), "--checkpoints", str(checkpoints), "--models", "dcgan", "--category", "all",
            "--synthetic-per-class", "4", "--epochs", "1", "--batch", "32", "--seeds", "2", "--seed", "0",
            "--out", str(out), *extra]


def test_sigterm_keeps_finished_classifiers_and_resume_matches_an_uninterrupted_run(
    first_run, three_classes, checkpoints, tmp_path, monkeypatch
):
    import os
    import signal

    import slbench.utility.experiment as experiment

    real_train, calls = experiment.train_classifier, []

    def terminated_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # as `timeout` would, while synthetic-only:dcgan trains for seed 0
            os.kill(os.getpid(), signal.SIGTERM)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(experiment, "train_classifier", terminated_on_the_fourth)
    out = tmp_path / "interrupted"
    code, output = _invoke(*_utility_args(three_classes, checkpoints, out))
    assert code == 143, output
    assert "interrupted (SIGTERM)" in output and "--resume" in output
    saved = json.loads((out / "utility-seeds.json").read_text())
    assert [(r["arm"], r["seed"]) for r in saved["results"]] == [("real+dcgan", 0), ("real-only", 0), ("real-only", 1)]
    assert not (out / "metrics.json").exists()
    monkeypatch.setattr(experiment, "train_classifier", real_train)
    code, output = _invoke(*_utility_args(three_classes, checkpoints, out, "--resume"))
    assert code == 0, output
    assert "3 of 6 classifier(s) already trained" in output
    for name in ("metrics.csv", "utility-seeds.json"):
        assert (out / name).read_bytes() == (first_run.folder / name).read_bytes(), name
    assert load_results(out).provenance["arms"] == first_run.provenance["arms"]


def test_resume_is_refused_when_settings_differ_and_a_used_folder_without_it(first_run, three_classes, checkpoints):
    args = _utility_args(three_classes, checkpoints, first_run.folder)
    code, output = _invoke(*[a if a != "2" else "3" for a in args], "--resume")  # --seeds 3
    assert code == 2 and "cannot resume" in output and "other seeds" in output and "Traceback" not in output
    code, output = _invoke(*args)
    assert code == 2 and "add --resume" in output


def test_saved_results_follow_the_umask(first_run):
    for name in ("utility-seeds.json", "metrics.csv"):
        assert (first_run.folder / name).stat().st_mode & 0o777 == 0o666 & ~_umask(), name


def _umask() -> int:
    import os

    current = os.umask(0)
    os.umask(current)
    return current


def test_two_gloo_ranks_share_the_classifiers_and_write_what_one_process_does(first_run, three_classes, checkpoints,
                                                                              tmp_path):
    from sharding_support import run_ranks

    out = tmp_path / "sharded"
    options = dict(data=three_classes, checkpoints=checkpoints, seeds=2, seed=0, out=out, device="cpu", **RUN)
    outcomes, _ = run_ranks(options, tmp_path / "ranks", target=run_utility)
    assert [o["outcome"] for o in outcomes] == ["finished", "finished"]
    assert [o["quiet"] for o in outcomes] == [False, True]  # only rank 0 prints
    for name in ("metrics.csv", "utility-seeds.json"):
        assert (out / name).read_bytes() == (first_run.folder / name).read_bytes(), name
    assert load_results(out).provenance["arms"] == first_run.provenance["arms"]


def test_a_damaged_seeds_file_is_refused_on_resume(three_classes, checkpoints, tmp_path):
    out = tmp_path / "damaged"
    out.mkdir()
    (out / "utility-seeds.json").write_text('{"results": [')
    code, output = _invoke(*_utility_args(three_classes, checkpoints, out, "--resume"))
    assert code == 2 and "cannot resume from" in output and "utility-seeds.json" in output
    assert "Traceback" not in output
