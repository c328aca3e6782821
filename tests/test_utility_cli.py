"""`slbench utility` on the command line: what reaches the library, and user mistakes as exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import slbench.utility
from slbench.cli import app


@pytest.fixture
def received(monkeypatch) -> dict:
    calls: dict = {}
    monkeypatch.setattr(slbench.utility, "run_utility", lambda **kwargs: calls.update(kwargs) or Path("out"))
    return calls


def _invoke(*args: str):
    result = CliRunner().invoke(app, ["utility", *args])
    return result.exit_code, " ".join(result.output.split())


def test_options_reach_the_library_function(received, tmp_path):
    code, _ = _invoke("--data", str(tmp_path), "--models", "dcgan,sl-stylegan", "--category", "MEL,DF",
                      "--checkpoints", str(tmp_path / "ck"), "--synthetic-per-class", "50", "--seeds", "5",
                      "--seed", "7", "--resolution", "64", "--epochs", "3", "--batch", "8",
                      "--out", str(tmp_path / "out"), "--pretrained", "--weights-dir", str(tmp_path / "w"))
    assert code == 0
    assert received == {
        "data": tmp_path, "models": "dcgan,sl-stylegan", "categories": "MEL,DF", "checkpoints": tmp_path / "ck",
        "synthetic_per_class": 50, "balance": False, "seeds": 5, "seed": 7, "resolution": 64, "epochs": 3,
        "batch": 8, "out": tmp_path / "out", "pretrained": True, "weights_dir": tmp_path / "w", "resume": False,
    }


def test_defaults_match_slbench_run_and_balance_by_default(received):
    code, _ = _invoke()
    assert code == 0
    assert received["data"] == Path("Datasets") and received["checkpoints"] == Path("checkpoints")
    assert received["models"] == "all" and received["categories"] == "all"
    assert received["balance"] is True and received["synthetic_per_class"] is None
    assert received["seeds"] == 3 and received["seed"] == 0 and received["out"] is None
    assert received["resolution"] is None and received["pretrained"] is False


def test_both_amounts_of_synthetic_images_is_a_usage_error(received):
    code, output = _invoke("--synthetic-per-class", "5", "--balance")
    assert code == 2 and "not both" in output and not received


@pytest.mark.parametrize(("option", "value"), [("--seeds", "0"), ("--epochs", "0"), ("--batch", "0")])
def test_counts_below_one_are_refused(option, value, tmp_path):
    code, output = _invoke("--data", str(tmp_path), option, value)
    assert code == 2 and f"'{option}': Input should be greater than or equal to 1" in output


def test_pretrained_without_the_weights_file_says_which_file_and_where(tmp_path):
    code, output = _invoke("--data", str(tmp_path), "--pretrained", "--weights-dir", str(tmp_path))
    assert code == 2
    assert "resnet18-f37072fd.pth" in output and str(tmp_path) in output and "Traceback" not in output
