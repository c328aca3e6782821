"""`slbench track` on a short DCGAN run: one row per step and metric, resume, repair, bad steps, CLI."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from generators.checkpoint import list_checkpoints
from generators.safe_io import sha256_file
from reports.curves import collect_curves
from reports.results import load_results
from reports.tracks import TRACK_COLUMNS, load_track, track_row, write_track
from slbench.cli import app
from slbench.data import load_dataset
from slbench.data.synth import write_synthetic_dataset
from slbench.errors import SlbenchError
from slbench.evaluation import runner
from slbench.evaluation.selection import best_step, parse_select
from slbench.metrics import DEFAULT_FEATURE_METRICS, METRICS
from slbench.tracking import track_folder
from slbench.training import train_model
from evaluation_builders import dcgan_run_with_lesion_extractor

STEPS, SNAPSHOT_EVERY, N_FAKE = 6, 2, 24
DCGAN_SETTINGS = ("ngf=8", "ndf=8", "batch_size=8", f"snapshot_every={SNAPSHOT_EVERY}", "keep_last=10")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_dataset):
    """A 6-step DCGAN run on MEL with a checkpoint every 2 steps, and a lesion extractor."""
    return dcgan_run_with_lesion_extractor(tmp_path_factory.mktemp("track"), synthetic_dataset, steps=STEPS,
                                           settings=DCGAN_SETTINGS)


@pytest.fixture(autouse=True)
def private_cache(workspace, monkeypatch, one_thread):
    monkeypatch.setenv("SLBENCH_CACHE", str(workspace["root"] / "cache"))


def track(workspace, out, **overrides):
    options = dict(features="lesion", n_samples=N_FAKE, seed=1, batch=12, out=out,
                   weights_dir=workspace["weights_dir"])
    return track_folder(workspace["checkpoints"], **(options | overrides))


@pytest.fixture(scope="module")
def first_track(workspace):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(workspace["root"] / "cache"))
        track(workspace, workspace["root"] / "first")
    return workspace["root"] / "first"


def test_a_track_holds_every_saved_step_and_metric(first_track, workspace):
    stored = load_track(first_track)
    saved = [step for step, _ in list_checkpoints(workspace["checkpoints"])]
    assert saved == [2, 4, 6]
    assert stored.steps() == saved
    frame = pd.read_csv(first_track / "track.csv")
    assert tuple(frame.columns) == TRACK_COLUMNS
    assert set(frame["status"]) == {"ok"}
    for step in saved:
        at_step = frame[frame["step"] == step]
        assert set(at_step["metric"]) == set(DEFAULT_FEATURE_METRICS) | {"class_consistency", "class_consistency_real"}
        assert (at_step["kimg"] == step * 8 / 1000).all()
    assert stored.settings["model"] == "dcgan" and stored.settings["category"] == "MEL"
    assert stored.settings["n_fake"] == N_FAKE and stored.settings["data"] == str(workspace["data"])
    assert set(stored.provenance["steps"]) == {"2", "4", "6"}
    assert stored.provenance["steps"]["4"]["metadata"]["step"] == 4
    assert "rng" not in stored.provenance["steps"]["4"]["metadata"]


def test_step_values_equal_a_run_of_that_checkpoint(first_track, workspace, tmp_path):
    checkpoints = tmp_path / "checkpoints" / "dcgan" / "MEL"
    checkpoints.mkdir(parents=True)
    for suffix in (".safetensors", ".json"):
        shutil.copy2(workspace["checkpoints"] / f"step-0000004{suffix}", checkpoints / f"step-0000004{suffix}")
    (checkpoints / "latest").write_text("step-0000004\n")
    out = runner.run_evaluation(data=workspace["data"], models="dcgan", categories="MEL",
                                checkpoints=tmp_path / "checkpoints", n_samples=N_FAKE, features="lesion",
                                out=tmp_path / "run", seed=1, weights_dir=workspace["weights_dir"], batch=12,
                                report_formats=("md",))
    run_rows = pd.read_csv(out / "metrics.csv").set_index("metric")["value"]
    tracked = pd.read_csv(first_track / "track.csv")
    at_step = tracked[tracked["step"] == 4].set_index("metric")["value"]
    for metric in DEFAULT_FEATURE_METRICS:
        assert at_step[metric] == run_rows[metric], metric


def test_a_rerun_skips_every_step_and_a_repaired_track_is_identical(first_track, workspace, tmp_path, monkeypatch):
    out = tmp_path / "copy"
    shutil.copytree(first_track, out)
    original = (first_track / "track.csv").read_bytes()
    evaluated = []
    real_evaluate = runner.evaluate_pair

    def counting(*args, **kwargs):
        evaluated.append(kwargs["checkpoint"].metadata["step"])
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr("slbench.tracking.tracker.evaluate_pair", counting)
    track(workspace, out)
    assert evaluated == []
    assert (out / "track.csv").read_bytes() == original
    lines = original.decode().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("6,")]
    assert len(kept) < len(lines)
    (out / "track.csv").write_text("".join(kept))
    track(workspace, out)
    assert evaluated == [6]
    assert (out / "track.csv").read_bytes() == original


def test_every_k_takes_multiples_of_k_snapshots_and_the_newest(workspace, tmp_path):
    tracker = track(workspace, tmp_path / "every", every=2)
    assert sorted(tracker.done_steps) == [4, 6]


def test_a_broken_or_non_finite_step_is_recorded_and_the_track_goes_on(workspace, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(workspace["checkpoints"], folder)
    (folder / "step-0000002.safetensors").write_bytes(b"not a checkpoint")
    weights = folder / "step-0000004.safetensors"
    tensors = load_file(str(weights))
    name = next(key for key, value in tensors.items() if key.startswith("G") and value.is_floating_point())
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    save_file(tensors, str(weights), metadata={"format": "slbench-checkpoint/1"})
    metadata = json.loads(weights.with_suffix(".json").read_text())
    weights.with_suffix(".json").write_text(json.dumps({**metadata, "weights_sha256": sha256_file(weights)}))
    tracker = track_folder(folder, features="lesion", n_samples=N_FAKE, seed=1, batch=12, out=tmp_path / "t",
                           weights_dir=workspace["weights_dir"])
    stored = load_track(tracker.out)
    by_step = {step: [row for row in stored.rows if row["step"] == step] for step in stored.steps()}
    assert [row["status"] for row in by_step[2]] == ["unreadable"]
    assert "sha256" in by_step[2][0]["reason"] or "refused" in by_step[2][0]["reason"]
    assert [row["status"] for row in by_step[4]] == ["non-finite"]
    assert "non-finite" in by_step[4][0]["reason"]
    assert {row["status"] for row in by_step[6]} == {"ok"}


def test_other_settings_cannot_continue_a_track(first_track, workspace, tmp_path):
    out = tmp_path / "other"
    shutil.copytree(first_track, out)
    with pytest.raises(SlbenchError, match="other settings.*seed"):
        track(workspace, out, seed=2)


def test_the_cli_writes_beside_the_checkpoints_and_refuses_bad_input(workspace, tmp_path):
    folder = tmp_path / "ckpt"
    shutil.copytree(workspace["checkpoints"], folder)
    args = ["track", str(folder), "--features", "lesion", "--n-samples", str(N_FAKE), "--seed", "1", "--batch", "12",
            "--weights-dir", str(workspace["weights_dir"]), "--every", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert load_track(folder).steps() == [6]
    assert (folder / "track.csv").read_text() != ""
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = CliRunner().invoke(app, ["track", str(empty)])
    assert refused.exit_code == 2 and "holds no checkpoint" in refused.output
    zero = CliRunner().invoke(app, [*args[:2], "--every", "0"])
    assert zero.exit_code == 2 and "--every must be at least 1" in zero.output


def synthetic_track(folder, values):
    """A track of dcgan/MEL whose rows are ``{step: {metric: value}}``."""
    rows = [track_row(step, step / 100, metric, value, higher_is_better=METRICS[metric].higher_is_better)
            for step, metrics in values.items() for metric, value in metrics.items()]
    rows.append(track_row(9, 0.09, "", float("nan"), status="unreadable", reason="gone"))
    write_track(folder, rows, settings={"model": "dcgan", "category": "MEL"}, provenance={})
    return load_track(folder)


def test_best_fid_is_the_lowest_and_best_precision_the_highest(tmp_path):
    stored = synthetic_track(tmp_path, {2: {"fid": 30.0, "precision": 0.2}, 4: {"fid": 10.0, "precision": 0.5},
                                        6: {"fid": 20.0, "precision": 0.7}, 8: {"fid": 10.0, "precision": 0.1}})
    assert best_step(stored, "fid").step == 4  # ties go to the earliest step
    assert best_step(stored, "precision").step == 6
    assert best_step(stored, "fid").candidates == 4
    assert "lowest FID" in best_step(stored, "fid").describe()


def test_the_direction_comes_from_the_registry(tmp_path, monkeypatch):
    stored = synthetic_track(tmp_path, {2: {"fid": 30.0}, 4: {"fid": 10.0}})
    flipped = dataclasses.replace(METRICS["fid"], higher_is_better=True)
    monkeypatch.setattr("slbench.evaluation.selection.get_metric", lambda name: flipped)
    assert best_step(stored, "fid").step == 2


@pytest.mark.parametrize("text, message", [("best:nope", "unknown metric 'nope'"), ("worst:fid", "not 'latest'")])
def test_a_bad_select_rule_is_refused(text, message):
    with pytest.raises(SlbenchError, match=message):
        parse_select(text)


def test_run_select_best_evaluates_the_best_tracked_step(first_track, workspace, tmp_path):
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(workspace["checkpoints"], checkpoints / "dcgan" / "MEL")
    for name in ("track.csv", "track.json"):
        shutil.copy2(first_track / name, checkpoints / "dcgan" / "MEL" / name)
    tracked = pd.read_csv(first_track / "track.csv")
    kid = tracked[tracked["metric"] == "kid"].sort_values(["value", "step"]).iloc[0]
    out = runner.run_evaluation(data=workspace["data"], models="dcgan", categories="MEL", checkpoints=checkpoints,
                                n_samples=N_FAKE, features="lesion", out=tmp_path / "run", seed=1, batch=12,
                                weights_dir=workspace["weights_dir"], report_formats=("md", "html"), select="best:kid")
    stored = load_results(out)
    selection = stored.provenance["pairs"]["dcgan/MEL"]["selection"]
    assert selection["step"] == kid["step"] and selection["metric"] == "kid"
    assert stored.provenance["pairs"]["dcgan/MEL"]["checkpoint"]["metadata"]["step"] == kid["step"]
    assert stored.settings["select"] == "best:kid"
    run_kid = stored.rows.set_index("metric").loc["kid", "value"]
    assert run_kid == kid["value"]
    report = (out / "report.md").read_text()
    assert f"step {kid['step']}" in report and "lowest KID" in report and "optimistic" in report


def test_the_html_report_draws_the_tracks_with_the_reported_step_marked(first_track, workspace, tmp_path):
    checkpoints = tmp_path / "checkpoints"
    shutil.copytree(workspace["checkpoints"], checkpoints / "dcgan" / "MEL")
    for name in ("track.csv", "track.json"):
        shutil.copy2(first_track / name, checkpoints / "dcgan" / "MEL" / name)
    out = runner.run_evaluation(data=workspace["data"], models="dcgan", categories="MEL", checkpoints=checkpoints,
                                n_samples=N_FAKE, features="lesion", out=tmp_path / "run", seed=1, batch=12,
                                weights_dir=workspace["weights_dir"], report_formats=("html",), select="best:fid")
    stored = load_results(out)
    assert (out / stored.artifacts["tracks"]["dcgan/MEL"]).is_file()
    chosen = stored.provenance["pairs"]["dcgan/MEL"]["selection"]["step"]
    curves = {curve.metric: curve for curve in collect_curves(stored)}
    assert set(DEFAULT_FEATURE_METRICS) <= set(curves)
    assert curves["fid"].steps == (2, 4, 6) and curves["fid"].chosen_step == chosen
    assert curves["fid"].values == tuple(row["value"] for row in load_track(first_track).values("fid"))
    html = (out / "report.html").read_text()
    assert "Training curves" in html and html.count('alt="FID during training"') == 1


def test_report_renders_a_folder_that_track_wrote(first_track):
    result = CliRunner().invoke(app, ["report", str(first_track), "--format", "md,html"])
    assert result.exit_code == 0, result.output
    markdown = (first_track / "track-report.md").read_text()
    steps = [line.split("|")[1].strip() for line in markdown.splitlines() if line.startswith("| step ")]
    assert [label.split(" (")[0] for label in steps] == ["step 2", "step 4", "step 6"]
    html = (first_track / "track-report.html").read_text()
    assert html.count('alt="FID during training"') == 1


def test_a_best_step_no_longer_on_disk_is_an_error(first_track, workspace, tmp_path):
    folder = tmp_path / "checkpoints" / "dcgan" / "MEL"
    shutil.copytree(workspace["checkpoints"], folder)
    for name in ("track.csv", "track.json"):
        shutil.copy2(first_track / name, folder / name)
    best = best_step(load_track(folder), "fid").step
    (folder / f"step-{best:07d}.safetensors").unlink()
    with pytest.raises(SlbenchError, match=f"best step by fid .* is {best}.*keep_last"):
        runner.run_evaluation(data=workspace["data"], models="dcgan", categories="MEL",
                              checkpoints=tmp_path / "checkpoints", n_samples=N_FAKE, features="lesion",
                              out=tmp_path / "run", weights_dir=workspace["weights_dir"], select="best:fid")


EVAL_OPTIONS = {"features": "lesion", "n_samples": N_FAKE, "device": "cpu"}


@pytest.fixture(scope="module")
def trained_with_eval(workspace):
    """The workspace's DCGAN run again, evaluated at every checkpoint as training writes it."""
    out = workspace["root"] / "eval-dcgan-MEL"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(workspace["root"] / "cache"))
        train_model(model="dcgan", category="MEL", data=workspace["data"], resolution=32, steps=STEPS, out=out,
                    seed=0, settings=DCGAN_SETTINGS, device="cpu", eval_every=1,
                    eval_options=EVAL_OPTIONS | {"weights_dir": workspace["weights_dir"]})
    return out


def test_eval_every_tracks_the_saved_checkpoints_without_changing_training(trained_with_eval, workspace):
    saved = [step for step, _ in list_checkpoints(trained_with_eval)]
    assert load_track(trained_with_eval).steps() == saved == [2, 4, 6]
    for step in saved:
        name = f"step-{step:07d}.safetensors"
        with_eval, without = load_file(str(trained_with_eval / name)), load_file(str(workspace["checkpoints"] / name))
        assert with_eval.keys() == without.keys()
        assert all(torch.equal(with_eval[key], without[key]) for key in with_eval)


def test_track_of_a_folder_evaluated_during_training_gives_identical_values(trained_with_eval, workspace, tmp_path):
    tracker = track_folder(trained_with_eval, out=tmp_path / "again", weights_dir=workspace["weights_dir"],
                           **EVAL_OPTIONS)
    assert (tracker.out / "track.csv").read_bytes() == (trained_with_eval / "track.csv").read_bytes()
    rerun = track_folder(trained_with_eval, weights_dir=workspace["weights_dir"], **EVAL_OPTIONS)
    assert rerun.seconds == 0.0  # every step was already in the track beside the checkpoints


def test_eval_every_sees_checkpoints_that_keep_last_deletes(workspace, tmp_path):
    out = tmp_path / "dcgan-MEL"
    settings = [arg for item in DCGAN_SETTINGS[:-1] + ("keep_last=1",) for arg in ("--set", item)]
    result = CliRunner().invoke(app, [
        "train", "--model", "dcgan", "--category", "MEL", "--data", str(workspace["data"]), "--resolution", "32",
        "--steps", str(STEPS), "--out", str(out), "--device", "cpu", *settings, "--eval-every", "2",
        "--eval-features", "lesion", "--eval-n-samples", str(N_FAKE), "--weights-dir", str(workspace["weights_dir"]),
    ])
    assert result.exit_code == 0, result.output
    assert [step for step, _ in list_checkpoints(out)] == [6]
    assert load_track(out).steps() == [4, 6]
    assert "of the training time" in result.output


def test_check_against_a_track_compares_best_steps(first_track, workspace, tmp_path):
    same = tmp_path / "same"
    shutil.copytree(workspace["checkpoints"], same)
    args = ["--baseline", str(first_track), "--weights-dir", str(workspace["weights_dir"]), "--json"]
    passed = CliRunner().invoke(app, ["check", str(same), *args])
    assert passed.exit_code == 0, passed.output
    verdict = json.loads(passed.stdout)
    assert verdict["verdict"] == "pass" and verdict["settings"]["candidate_steps"] == [2, 4, 6]
    assert all(m["delta"] == 0.0 for m in verdict["metrics"] if m["delta"] is not None)
    fid = load_track(first_track).values("fid")
    worst = max(fid, key=lambda row: row["value"])["step"]
    late = tmp_path / "worst-only"
    late.mkdir()
    for suffix in (".safetensors", ".json"):
        shutil.copy2(same / f"step-{worst:07d}{suffix}", late / f"step-{worst:07d}{suffix}")
    (late / "latest").write_text(f"step-{worst:07d}\n")
    failed = CliRunner().invoke(app, ["check", str(late), *args, "--tolerance", "fid=0"])
    assert failed.exit_code == 1, failed.output
    verdict = json.loads(failed.stdout)
    assert "fid" in verdict["regressed_metrics"]
    by_metric = {m["metric"]: m for m in verdict["metrics"]}
    worst_kimg = next(row["kimg"] for row in fid if row["step"] == worst)
    assert f"vs {worst} ({worst_kimg:.3g} kimg)" in by_metric["fid"]["rule"]
    assert by_metric["fid"]["baseline"] == min(row["value"] for row in fid)


def test_train_eval_real_side_chooses_what_the_track_scores_on(workspace, tmp_path):
    out = tmp_path / "split-trained"
    settings = [part for setting in DCGAN_SETTINGS for part in ("--set", setting)]
    result = CliRunner().invoke(app, [
        "train", "--model", "dcgan", "--category", "MEL", "--data", str(workspace["data"]), "--steps", "2", "--resolution", "32",
        "--out", str(out), "--split", "train", *settings, "--device", "cpu", "--eval-every", "1",
        "--eval-features", "lesion", "--eval-n-samples", str(N_FAKE), "--weights-dir", str(workspace["weights_dir"]),
        "--eval-real-side", "all"])
    assert result.exit_code == 0, result.output
    stored = load_track(out)
    assert stored.settings["real_side"] == "all"  # not the train side a split-trained track defaults to
    assert stored.settings["n_real"] == len(load_dataset(workspace["data"]).records("MEL"))


def test_a_class_too_small_for_the_metrics_stops_training_and_tracking_before_any_work(workspace, tmp_path):
    small = write_synthetic_dataset(tmp_path / "small", per_class=6, balanced=True, seed=0, image_size=(64, 48))
    out = tmp_path / "dcgan-MEL"
    settings = [arg for item in DCGAN_SETTINGS for arg in ("--set", item)]
    trained = CliRunner().invoke(app, [
        "train", "--model", "dcgan", "--category", "MEL", "--data", str(small), "--resolution", "32",
        "--steps", str(STEPS), "--out", str(out), "--device", "cpu", *settings, "--eval-every", "1",
        "--eval-features", "lesion", "--eval-n-samples", str(N_FAKE)])
    assert trained.exit_code == 2, trained.output
    assert "MEL has 6 image(s) on all images of the class, the metrics need 10" in trained.output
    assert list_checkpoints(out) == []
    tracked = CliRunner().invoke(app, ["track", str(workspace["checkpoints"]), "--data", str(small),
                                       "--features", "lesion", "--out", str(tmp_path / "track")])
    assert tracked.exit_code == 2 and "the metrics need 10; leave the class out" in tracked.output, tracked.output


def test_steps_sampled_before_the_network_finished_growing_say_their_stage(workspace, tmp_path):
    from rich.console import Console

    from reports.track_report import render_tracks
    from slbench.tracking.folder import track_table

    growing = tmp_path / "stylegan-MEL"
    train_model(model="stylegan", category="MEL", data=workspace["data"], resolution=32, kimg=0.4, out=growing,
                seed=0, device="cpu", settings=("fmap_max=8", "schedule=short", "batch_size=8", "snapshot_every=10",
                                                "keep_last=10"))
    tracker = track_folder(growing, features="lesion", n_samples=N_FAKE, seed=1, batch=12, out=tmp_path / "t",
                           weights_dir=workspace["weights_dir"])
    stages = load_track(tracker.out).stages()
    assert 10 in stages and 50 not in stages and all(" px" in stage for stage in stages.values())
    first = min(stages)
    console = Console(width=200, record=True)
    console.print(track_table(tracker.rows, stages=stages))
    printed = console.export_text()
    assert stages[first] in printed and "grown" in printed
    report = render_tracks([load_track(tracker.out)], ("md",), tmp_path / "report")["md"].read_text()
    assert f"(0.08 kimg; at {stages[first]})" in report and "finished growing" in report
    assert "| step 50 (0.40 kimg) |" in report
