"""`slbench demo`, in pieces and at toy size: each step is skipped when already done, and the whole
flow (data, training, lesion extractor, run, report, check) holds together."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from slbench import demo
from slbench.cli import app
from slbench.demo import DemoConfig, ensure_checkpoint, run_demo
from evaluation_builders import save_generator_checkpoint


def toy_config() -> DemoConfig:
    return DemoConfig(
        per_class=10, kimg=0.024, settings={"dcgan": ("ngf=8", "ndf=8", "batch_size=8")},
        lesion_epochs=1, n_samples=16, bootstrap=5, checked_model="dcgan",
    )


def test_default_demo_is_the_documented_workflow():
    config = DemoConfig()
    assert config.category == "MEL" and config.resolution == 32
    assert set(config.models) == {"sl-stylegan", "stylegan", "dcgan"}
    assert config.checked_model in config.models
    with pytest.raises(ValueError, match="checked model"):
        DemoConfig(settings={"dcgan": ()})
    with pytest.raises(ValueError, match="budget"):
        DemoConfig(kimg=0)


def test_training_is_skipped_resumed_or_started_as_needed(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "train_model", lambda **kwargs: calls.append(kwargs))
    config = DemoConfig(kimg=0.08, settings={"dcgan": ()}, checked_model="dcgan")
    data = tmp_path / "data"
    ensure_checkpoint("dcgan", data, tmp_path / "fresh", config)
    assert calls[-1]["resume"] is False and calls[-1]["kimg"] == 0.08 and calls[-1]["resolution"] == 32
    save_generator_checkpoint(tmp_path / "short", "dcgan", "MEL", step=2)
    ensure_checkpoint("dcgan", data, tmp_path / "short", config)
    assert calls[-1]["resume"] is True and calls[-1]["out"] == tmp_path / "short" / "dcgan" / "MEL"
    save_generator_checkpoint(tmp_path / "done", "dcgan", "MEL", step=5)
    ensure_checkpoint("dcgan", data, tmp_path / "done", config)
    assert len(calls) == 2


def test_toy_demo_completes_and_a_rerun_redoes_nothing(tmp_path, monkeypatch):
    outcome = run_demo(folder=tmp_path / "demo", config=toy_config())
    assert outcome.report.is_file() and outcome.report.name == "report.html"
    assert outcome.results.parent == tmp_path / "demo"
    assert (outcome.results / "metrics.csv").is_file()
    assert not outcome.check.regressed  # the checkpoint against its own run
    assert {c.metric for c in outcome.check.comparisons} >= {"fid", "kid", "precision", "recall"}

    def must_not_run(**_kwargs):
        raise AssertionError("a finished step ran again")

    monkeypatch.setattr(demo, "train_model", must_not_run)
    monkeypatch.setattr(demo, "train_lesion_extractor", must_not_run)
    monkeypatch.setattr("slbench.evaluation.runner.evaluate_pair", must_not_run)
    again = run_demo(folder=tmp_path / "demo", config=toy_config())
    assert again.results == outcome.results
    assert (again.results / "metrics.csv").read_bytes() == (outcome.results / "metrics.csv").read_bytes()


def test_cli_runs_the_demo_in_the_given_folder(monkeypatch, tmp_path):
    received = {}
    monkeypatch.setattr("slbench.demo.run_demo", lambda **kwargs: received.update(kwargs))
    assert CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d")]).exit_code == 0
    assert received == {"folder": tmp_path / "d"}
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["demo"]).exit_code == 0
    assert received == {"folder": Path("slbench-demo")}
