"""`slbench demo`, in pieces and at toy size: each step is skipped when already done, and the whole
flow (data, training, lesion extractor, run, report, check) holds together."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from slbench import demo
from slbench.cli import app
from slbench.errors import SlbenchError
from generators import load_checkpoint
from reports.tracks import load_track, write_track
from slbench.demo import DemoConfig, ensure_checkpoint, ensure_lesion_extractor, run_demo, train_all
from evaluation_builders import save_generator_checkpoint


def toy_config() -> DemoConfig:
    return DemoConfig(
        per_class=10, kimg=0.024, batch_size=8, settings={"dcgan": ("ngf=8", "ndf=8")}, snapshot_every=1,
        workers=1, lesion_epochs=1, n_samples=16, bootstrap=5, checked_model="dcgan",
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
    with pytest.raises(ValueError, match="training process"):
        DemoConfig(workers=0)
    # one budget and one batch for every model; StyleGAN at full size from the start, and the
    # printed description names every setting that departs from a model's published training
    for model in config.models:
        assert config.training_settings(model)[0] == f"batch_size={config.batch_size}"
        assert not any(s.startswith("batch_size=") for s in config.settings[model])
    assert f"start_resolution={config.resolution}" in config.settings["stylegan"]
    described = config.describe()
    assert all(value in described for value in config.settings["stylegan"])
    assert "sl-stylegan" not in described.split("own settings:")[1]
    # one width cap for all three, and no model narrowed on its own
    assert all(f"fmap_max={config.width_cap}" in config.training_settings(model) for model in config.models)
    # checkpoints of other demo settings live in another folder, never resumed with these
    assert DemoConfig().training_digest() == config.training_digest()
    assert len({DemoConfig(kimg=6.4).training_digest(), DemoConfig(width_cap=16).training_digest(),
                config.training_digest()}) == 3
    with pytest.raises(ValueError, match="width_cap"):
        DemoConfig(settings={"sl-stylegan": ("fmap_max=16",), "dcgan": ()}, checked_model="dcgan")


def test_training_is_skipped_resumed_or_started_as_needed(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "train_model", lambda **kwargs: calls.append(kwargs))
    config = DemoConfig(kimg=0.08, settings={"dcgan": ()}, checked_model="dcgan")
    data = tmp_path / "data"
    ensure_checkpoint("dcgan", data, tmp_path / "fresh", config)
    assert calls[-1]["resume"] is False and calls[-1]["kimg"] == 0.08 and calls[-1]["resolution"] == 32
    assert calls[-1]["settings"] == ("batch_size=16", "fmap_max=32", "snapshot_every=100")
    assert calls[-1]["eval_every"] == 1 and calls[-1]["eval_options"]["features"] == "lesion"
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
    # measured again, the run's own checkpoint gives the run's numbers to the last digit, and the demo says so
    assert all(c.delta == 0 for c in outcome.check.comparisons if math.isfinite(c.delta))
    assert "every delta is 0" in demo.reproduction_note(outcome.check).plain
    # every checkpoint was evaluated as it was written, the last one as the run evaluated it
    track = load_track(checkpoints_of(outcome) / "dcgan" / "MEL")
    assert track.steps() == [1, 2, 3]
    metrics = pd.read_csv(outcome.results / "metrics.csv")
    run_fid = metrics[(metrics.model == "dcgan") & (metrics.metric == "fid")].iloc[0]
    assert run_fid["step"] == 3 and track.values("fid")[-1]["value"] == pytest.approx(run_fid["value"], rel=1e-9)
    assert 'alt="FID during training"' in outcome.report.read_text()

    def must_not_run(**_kwargs):
        raise AssertionError("a finished step ran again")

    monkeypatch.setattr(demo, "train_model", must_not_run)
    monkeypatch.setattr(demo, "train_lesion_extractor", must_not_run)
    monkeypatch.setattr("slbench.evaluation.runner.evaluate_pair", must_not_run)
    monkeypatch.setattr("slbench.tracking.tracker.evaluate_pair", must_not_run)
    again = run_demo(folder=tmp_path / "demo", config=toy_config())
    assert again.results == outcome.results
    assert (again.results / "metrics.csv").read_bytes() == (outcome.results / "metrics.csv").read_bytes()


def test_a_rerun_evaluates_the_checkpoint_a_stopped_training_left_out_of_its_track(tmp_path):
    outcome = run_demo(folder=tmp_path / "demo", config=toy_config())
    folder = checkpoints_of(outcome) / "dcgan" / "MEL"
    complete = load_track(folder)
    write_track(folder, [row for row in complete.rows if row["step"] != 3], settings=complete.settings,
                provenance=complete.provenance)
    assert load_track(folder).steps() == [1, 2]
    run_demo(folder=tmp_path / "demo", config=toy_config())
    assert load_track(folder).rows == complete.rows
    (folder / "track.json").write_text("{not json")
    with pytest.raises(SlbenchError, match=r"cannot read the training track in .*track\.json is not valid JSON"):
        run_demo(folder=tmp_path / "demo", config=toy_config())


def checkpoints_of(outcome) -> Path:
    return outcome.folder / f"checkpoints-{toy_config().training_digest()}"


def test_cli_runs_the_demo_in_the_given_folder(monkeypatch, tmp_path):
    received = {}
    monkeypatch.setattr("slbench.demo.run_demo", lambda **kwargs: received.update(kwargs))
    assert CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d")]).exit_code == 0
    assert received == {"folder": tmp_path / "d", "config": DemoConfig()}
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["demo", "--kimg", "25.6"]).exit_code == 0
    assert received == {"folder": Path("slbench-demo"), "config": DemoConfig(kimg=25.6)}
    refused = CliRunner().invoke(app, ["demo", "--kimg", "0"])
    assert refused.exit_code == 2 and "--kimg" in refused.output


def test_the_demo_help_states_the_default_budget():
    help_text = " ".join(CliRunner().invoke(app, ["demo", "--help"], terminal_width=200).output.split())
    assert f"default {DemoConfig().kimg:g}," in help_text


def test_models_train_in_single_thread_worker_processes_on_one_budget(synthetic_dataset, tmp_path):
    settings = {"dcgan": ("ngf=4", "ndf=4"), "sl-stylegan": ()}
    config = DemoConfig(kimg=0.016, batch_size=8, width_cap=8, settings=settings, workers=2, checked_model="dcgan",
                        lesion_epochs=1, n_samples=16)
    ensure_lesion_extractor(synthetic_dataset, config)  # the workers evaluate each checkpoint with it
    train_all(synthetic_dataset, tmp_path / "checkpoints", config, tmp_path / "logs")
    for model in ("dcgan", "sl-stylegan"):
        _, metadata = load_checkpoint(tmp_path / "checkpoints" / model / "MEL")
        assert metadata["images_seen"] == 16 and metadata["config"]["batch_size"] == 8
        assert metadata["architecture"]["fmap_max"] == 8
        assert (tmp_path / "logs" / f"{model}.log").is_file()
        assert load_track(tmp_path / "checkpoints" / model / "MEL").steps() == [2]


def test_the_demo_refuses_a_folder_of_other_files_before_writing_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "write_synthetic_dataset", lambda *a, **k: pytest.fail("wrote into a foreign folder"))
    results = tmp_path / "[bold]results"
    results.mkdir()
    (results / "metrics.csv").write_text("model\n")
    (results / "notes.txt").write_text("mine\n")
    refused = CliRunner().invoke(app, ["demo", "--out", str(results)])
    assert refused.exit_code == 2
    said = " ".join(refused.output.split())
    assert "[bold]results holds files that are not an earlier demo's (metrics.csv and 1 more)" in said
    assert sorted(p.name for p in results.iterdir()) == ["metrics.csv", "notes.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(SlbenchError, match="is a file"):
        run_demo(folder=tmp_path / "file", config=toy_config())


def test_the_demo_goes_on_in_an_empty_folder_an_earlier_demo_or_an_interrupted_one(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "write_synthetic_dataset", lambda *a, **k: pytest.fail("reached"))
    empty, earlier, interrupted = (tmp_path / name for name in ("empty", "earlier", "interrupted"))
    empty.mkdir()
    (earlier / "data").mkdir(parents=True)
    (earlier / "data" / "SYNTHETIC.json").write_text("{}")
    (earlier / "results-0123abcd").mkdir()
    (interrupted / ".data.new-0011223344556677").mkdir(parents=True)
    for folder in (empty, earlier, interrupted, tmp_path / "new"):
        with pytest.raises(pytest.fail.Exception, match="reached"):
            run_demo(folder=folder, config=toy_config())
