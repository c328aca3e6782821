"""Every class of bad input or environment fault, through the CLI: exit 2, one line, no traceback,
nothing already on disk changed; a bug exits 70, never 1 (the code of a failed `slbench check`)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from evaluation_builders import save_generator_checkpoint
from reports_factory import quality_rows, write_run
from slbench.cli import app
from slbench.errors import INTERNAL_ERROR_EXIT_CODE

BAD_METADATA = {
    "resolution-is-text": {"resolution": "abc"},
    "resolution-unsupported": {"resolution": 48},
    "unknown-model": {"model": "nope"},
    "negative-step": {"step": -1},
    "step-beyond-int64": {"step": 10**30},
    "seed-beyond-int64": {"seed": 2**64},
    "architecture-not-a-mapping": {"architecture": [1, 2]},
    "architecture-wrong-type": {"architecture": {"ngf": "wide", "ndf": 8}},
    "architecture-too-large": {"architecture": {"ngf": 1_000_000, "ndf": 8}},
    "architecture-beyond-memory": {"architecture": {"ngf": 60_000, "ndf": 8}},
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_dataset):
    """A dataset, one checkpoint, a baseline results folder and earlier results that must survive."""
    root = tmp_path_factory.mktemp("bad-input")
    checkpoint = save_generator_checkpoint(root / "checkpoints", "dcgan", "MEL")
    earlier = root / "earlier"
    earlier.mkdir()
    (earlier / "metrics.json").write_text('{"kept": true}\n')
    (root / "a-file").write_text("not a folder\n")
    baseline = write_run(root / "baseline", quality_rows(models=("dcgan",), categories=("MEL",)), artifacts=False)
    return {"root": root, "data": synthetic_dataset, "checkpoint": checkpoint, "baseline": baseline}


def snapshot(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def invoke(args: list[str]):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def assert_one_line_error(result, *needles: str, code: int = 2) -> None:
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output and "╭" not in output, output
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    for needle in needles:
        assert needle in lines[0], output


def lying_checkpoint(workspace, name: str, change: dict) -> Path:
    folder = workspace["root"] / "lying" / name
    if not folder.exists():
        source = workspace["checkpoint"]
        folder.mkdir(parents=True)
        for path in source.iterdir():
            (folder / path.name).write_bytes(path.read_bytes())
        meta_path = next(folder.glob("step-*.json"))
        metadata = json.loads(meta_path.read_text())
        meta_path.write_text(json.dumps(metadata | change))
    return folder


def cli_case(name: str, workspace, tmp_path) -> tuple[list, tuple[str, ...]]:
    """The command line of one bad-input case and the words its error line must hold."""
    data, checkpoint, root = workspace["data"], workspace["checkpoint"], workspace["root"]
    train = ["train", "--model", "dcgan", "--category", "MEL", "--data", data, "--resolution", 32,
             "--out", tmp_path / "train-out"]
    cases = {
        "output-under-a-file": (["generate", checkpoint, "--n", 2, "--out", root / "a-file" / "images"],
                                ("a-file", "not a folder")),
        "markup-in-a-path": (["generate", checkpoint, "--n", 2, "--out", root / "a-file" / "x[/]y[bold]"],
                             ("x[/]y[bold]",)),
        "kimg-zero": ([*train, "--kimg", "0"], ("kimg",)),
        "train-into-results": (["train", "--model", "dcgan", "--category", "MEL", "--data", data, "--resolution", 32,
                                "--steps", 1, "--out", workspace["baseline"]], ("holds the results of", "not checkpoints")),
        "track-into-results": (["track", checkpoint, "--out", workspace["baseline"]],
                               ("holds the results of", "not a training track")),
        "generate-into-results": (["generate", checkpoint, "--n", 1, "--out", workspace["baseline"]],
                                  ("did not write",)),
        "steps-beyond-any-run": ([*train, "--batch", 1, "--kimg", "1e8"], ("kimg",)),
        "architecture-too-large": ([*train, "--steps", 1, "--set", "ngf=1000000"], ("ngf=1000000",)),
        "architecture-beyond-memory": ([*train, "--steps", 1, "--set", "ngf=60000"], ("GiB",)),
        "setting-not-finite": ([*train, "--steps", 1, "--set", "lr=inf"], ("lr",)),
        "setting-malformed": ([*train, "--steps", 1, "--set", "lr"], ("key=value",)),
        "run-seed-beyond-32-bits": (["run", "--models", "dcgan", "--category", "MEL", "--data", data, "--checkpoints",
                                     root / "checkpoints", "--features", "lesion", "--seed", 2**32,
                                     "--out", tmp_path / "run"], ("--seed", "4294967295")),
        "track-negative-seed": (["track", checkpoint, "--seed", -1, "--out", tmp_path / "track"], ("--seed",)),
        "track-resolution-zero": (["track", checkpoint, "--resolution", 0, "--out", tmp_path / "track"],
                                  ("--resolution 0", "minimum")),
        "track-into-a-file": (["track", checkpoint, "--out", root / "a-file"], ("a-file", "is a file")),
        "check-batch-zero": (["check", checkpoint, "--baseline", workspace["baseline"], "--batch", 0], ("--batch",)),
        "report-into-another-run": (["report", workspace["baseline"], "--out", root / "earlier"],
                                    ("earlier", "holds the results of")),
        "report-combined-into-one-of-its-runs": (["report", workspace["baseline"], root / "earlier", "--out",
                                                  workspace["baseline"]], ("one of the runs being combined",)),
        "pool-into-checkpoints": (["pool", workspace["baseline"], root / "earlier", "--out", checkpoint],
                                  ("holds the checkpoints of",)),
        "baseline-nested-json": (["check", checkpoint, "--baseline", root / "nested"], ("nested too deeply",)),
        "baseline-wrong-type": (["check", checkpoint, "--baseline", root / "wrong-type"], ("resolution",)),
        "baseline-row-wrong-type": (["check", checkpoint, "--baseline", root / "wrong-row"], ("value",)),
    }
    cases.update({f"metadata-{key}": (["generate", lying_checkpoint(workspace, key, change), "--n", 2,
                                       "--out", tmp_path / "gen"], ("checkpoint metadata",))
                  for key, change in BAD_METADATA.items()})
    return cases[name]


def write_bad_baselines(root: Path, baseline: Path) -> None:
    if (root / "nested").exists():
        return
    (root / "nested").mkdir()
    (root / "nested" / "metrics.json").write_text("[" * 100_000 + "]" * 100_000)
    document = json.loads((baseline / "metrics.json").read_text())
    for name, change in (("wrong-type", "settings"), ("wrong-row", "rows")):
        (root / name).mkdir()
        broken = json.loads(json.dumps(document))
        if change == "settings":
            broken["settings"].update(data="somewhere", data_fingerprint="0" * 16, features="lesion", seed=0,
                                      resolution="thirty-two", resize="squash")
        else:
            broken["rows"][0]["value"] = "twenty"
        (root / name / "metrics.json").write_text(json.dumps(broken))


CASES = ["output-under-a-file", "markup-in-a-path", "kimg-zero", "steps-beyond-any-run",
         "architecture-too-large", "architecture-beyond-memory", "setting-not-finite", "setting-malformed",
         "baseline-nested-json", "baseline-wrong-type", "baseline-row-wrong-type",
         "train-into-results", "track-into-results", "generate-into-results",
         "run-seed-beyond-32-bits", "track-negative-seed", "track-resolution-zero", "track-into-a-file",
         "check-batch-zero", "report-into-another-run", "report-combined-into-one-of-its-runs",
         "pool-into-checkpoints",
         *[f"metadata-{key}" for key in BAD_METADATA]]


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_line_and_exit_2_and_changes_nothing(name, workspace, tmp_path, monkeypatch, one_thread):
    monkeypatch.setattr("generators.sizing.memory_bytes", lambda: 16 * 2**30)
    write_bad_baselines(workspace["root"], workspace["baseline"])
    args, needles = cli_case(name, workspace, tmp_path)
    before = snapshot(workspace["root"])
    result = invoke(args)
    assert_one_line_error(result, *needles)
    assert snapshot(workspace["root"]) == before


@pytest.mark.parametrize("args", [
    ["run", "--n-samples", "1e23"], ["run", "--seed", str(10**23)], ["generate", "x", "--n", "2", "--out", "o",
                                                                      "--seed", "-1"],
    ["train", "--model", "dcgan", "--category", "MEL", "--data", "d", "--seed", str(10**23)],
    ["data", "synth", "o", "--per-class", "0"],
    ["train", "--model", "dcgan", "--category", "MEL", "--data", "d", "--kimg", "nan"],
], ids=["n-samples-float", "seed-huge", "seed-negative", "train-seed-huge", "per-class-zero", "kimg-nan"])
def test_out_of_range_numbers_are_one_line_usage_errors(args):
    result = invoke(args)
    option = next(arg for arg in args if arg.startswith("--") and arg not in ("--model", "--category", "--data",
                                                                               "--n", "--out"))
    assert_one_line_error(result, option, "--help")


@pytest.mark.parametrize("fault", [errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT])
def test_environment_faults_while_writing_are_one_line_errors(fault, workspace, tmp_path, monkeypatch, one_thread):
    def refuse(path, *_args, **_kwargs):
        raise OSError(fault, os.strerror(fault), str(path))

    monkeypatch.setattr("generators.safe_io.create_new_file", refuse)
    result = invoke(["generate", workspace["checkpoint"], "--n", 2, "--out", tmp_path / "images"])
    assert_one_line_error(result, "images")


def test_a_cache_location_that_is_a_file_is_a_one_line_error(workspace, tmp_path, monkeypatch, one_thread):
    monkeypatch.setenv("SLBENCH_CACHE", str(workspace["root"] / "a-file"))
    result = invoke(["train", "--model", "dcgan", "--category", "MEL", "--data", workspace["data"],
                     "--resolution", 32, "--steps", 1, "--set", "ngf=8", "--set", "ndf=8", "--out", tmp_path / "t"])
    assert_one_line_error(result, "SLBENCH_CACHE")


def test_a_full_cache_disk_degrades_to_no_cache_with_a_warning(workspace, monkeypatch, capsys, one_thread):
    from slbench.data import load_dataset, load_images

    def disk_full(path, *data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("slbench.data.image_cache.atomic_write_bytes", disk_full)
    records = load_dataset(workspace["data"]).records("MEL")[:3]
    images = load_images(records, 32)
    again = load_images(records, 32)
    assert images.shape == (3, 3, 32, 32) and torch.equal(images, again)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "without the cache" in warnings[0]


def test_short_and_malformed_label_rows_are_problems_not_crashes(synthetic_dataset, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for path in synthetic_dataset.rglob("*"):
        if path.is_file():
            target = data / path.relative_to(synthetic_dataset)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    with open(data / "ISIC2018_Task3_Training_GroundTruth.csv", "a") as table:
        table.write("ISIC_9999999,1\nISIC_9999998,x,y\n")
    with open(data / "ISIC2018_Task3_Training_LesionGroupings.csv", "a") as table:
        table.write("ISIC_0000000\n")
    non_utf8 = data / "ISIC2018_Task3_Training_Input" / "ISIC_\udcff\udcfe.jpg"
    non_utf8.write_bytes(b"not an image")
    result = invoke(["data", "info", data])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "ISIC_9999999" in result.output and "ISIC_9999998" in result.output


def test_a_bug_exits_70_with_a_short_message_not_1(workspace, tmp_path, monkeypatch):
    def broken(**_kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("slbench.cli.generate_cmd.generate_images", broken)
    result = invoke(["generate", workspace["checkpoint"], "--n", 2, "--out", tmp_path / "g"])
    assert_one_line_error(result, "internal error", "ZeroDivisionError", "bug in slbench",
                          code=INTERNAL_ERROR_EXIT_CODE)
    assert INTERNAL_ERROR_EXIT_CODE not in (0, 1, 2)


@pytest.mark.parametrize("args, words", [
    (["run", "--bogus"], ("No such option: --bogus", "see `slbench run --help`")),
    (["--bogus"], ("No such option: --bogus", "see `slbench --help`")),
    (["frobnicate"], ("No such command 'frobnicate'", "see `slbench --help`")),
    (["data", "frob"], ("No such command 'frob'", "see `slbench data --help`")),
])
def test_unknown_options_and_commands_are_one_line_errors(args, words):
    assert_one_line_error(invoke(args), *words)


def test_a_group_called_bare_still_shows_its_help():
    result = invoke(["data"])
    assert result.exit_code == 2 and "Commands" in result.output and "error:" not in result.output
