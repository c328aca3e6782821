"""`slbench train` end to end on the built-in synthetic dataset: what it records, what it refuses,
how it stops on a NaN and on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal

import pytest
from typer.testing import CliRunner

from generators.checkpoint import read_checkpoint, save_checkpoint
from generators.training import losses
from slbench.cli import app
from slbench.data import load_dataset, split_by_lesion
from slbench.training import TrainingProgress

pytestmark = pytest.mark.usefixtures("one_thread")


def _train(data, out, *extra: str):
    args = ["train", "--model", "dcgan", "--category", "mel", "--data", str(data), "--resolution", "32",
            "--batch", "4", "--out", str(out), "--set", "ngf=4", "--set", "ndf=4", *extra]
    return CliRunner().invoke(app, args)


def _metadata(out) -> dict:
    name = (out / "latest").read_text().strip()
    return json.loads((out / f"{name}.json").read_text())


def test_train_records_model_data_and_settings(synthetic_dataset, tmp_path):
    out = tmp_path / "ck"
    result = _train(synthetic_dataset, out, "--steps", "2", "--seed", "5", "--set", "lr=0.001")
    assert result.exit_code == 0, result.output
    metadata = _metadata(out)
    dataset = load_dataset(synthetic_dataset)
    assert (metadata["model"], metadata["category"], metadata["step"], metadata["seed"]) == ("dcgan", "MEL", 2, 5)
    assert metadata["data_fingerprint"] == dataset.fingerprint()
    assert (metadata["split"], metadata["split_fingerprint"]) == ("all", None)
    assert metadata["num_images"] == len(dataset.records("MEL"))
    assert metadata["config"]["lr"] == 0.001 and metadata["config"]["batch_size"] == 4
    assert metadata["architecture"] == {"ngf": 4, "ndf": 4, "fmap_max": None}
    assert metadata["data"]["resize"] == "squash" and metadata["data"]["resize_filter"]
    assert (out / "step-0000002.png").is_file()


def test_the_train_split_hides_the_held_out_lesions(synthetic_dataset, tmp_path):
    out = tmp_path / "ck"
    assert _train(synthetic_dataset, out, "--steps", "1", "--split", "train").exit_code == 0
    metadata = _metadata(out)
    split = split_by_lesion(load_dataset(synthetic_dataset))
    assert metadata["split"] == "train"
    assert metadata["split_fingerprint"] == split.fingerprint("train")
    assert metadata["num_images"] == len(split.train["MEL"]) < len(load_dataset(synthetic_dataset).records("MEL"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [(("--set", "nope=1"), "unknown setting 'nope'"),
     (("--set", "lr"), "is not key=value"),
     (("--set", "log_every=two"), "cannot read log_every"),
     (("--set", "batch_size=8"), "batch size is given twice"),
     (("--kimg", "1"), "not both")],
)
def test_bad_settings_are_one_line_errors(synthetic_dataset, tmp_path, extra, message):
    result = _train(synthetic_dataset, tmp_path / "ck", "--steps", "1", *extra)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "ck").exists()


def test_an_unknown_category_and_a_used_folder_are_refused(synthetic_dataset, tmp_path):
    args = ["train", "--model", "dcgan", "--category", "XYZ", "--data", str(synthetic_dataset)]
    assert CliRunner().invoke(app, args).exit_code == 2
    out = tmp_path / "ck"
    assert _train(synthetic_dataset, out, "--steps", "1").exit_code == 0
    again = _train(synthetic_dataset, out, "--steps", "2")
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = _train(synthetic_dataset, out, "--steps", "2", "--resume")
    assert resumed.exit_code == 0 and _metadata(out)["step"] == 2


def test_a_nan_loss_is_a_one_line_error_and_the_last_checkpoint_survives(synthetic_dataset, tmp_path, monkeypatch):
    real_loss, calls = losses.bce_g, {"count": 0}

    def poisoned(fake_logits):
        calls["count"] += 1
        return real_loss(fake_logits) * (float("inf") if calls["count"] == 2 else 1.0)

    monkeypatch.setattr(losses, "bce_g", poisoned)
    out = tmp_path / "ck"
    result = _train(synthetic_dataset, out, "--steps", "4", "--set", "snapshot_every=1")
    assert result.exit_code == 2
    assert "loss_G = inf) at step 2" in result.output and "step-0000001" in result.output
    assert _metadata(out)["step"] == 1 and not (out / "step-0000002.json").exists()


def test_resuming_from_a_checkpoint_with_non_finite_weights_is_refused_before_a_step(synthetic_dataset, tmp_path):
    out = tmp_path / "ck"
    assert _train(synthetic_dataset, out, "--steps", "1").exit_code == 0
    tensors, metadata = read_checkpoint(out / "step-0000001.safetensors")
    key = next(name for name in tensors if name.startswith("G.") and tensors[name].is_floating_point())
    tensors[key].view(-1)[0] = float("nan")
    save_checkpoint(out, 1, tensors, {k: v for k, v in metadata.items() if k not in ("format", "weights_file")})
    result = _train(synthetic_dataset, out, "--steps", "3", "--resume")
    assert result.exit_code == 2, result.output
    assert "non-finite values" in result.output and key in result.output and "good" not in result.output
    assert _metadata(out)["step"] == 1 and not (out / "step-0000002.json").exists()


def test_ctrl_c_saves_the_finished_step_and_exits_130(synthetic_dataset, tmp_path, monkeypatch):
    update = TrainingProgress.update

    def press_ctrl_c_at_step_2(self, step, stats):
        update(self, step, stats)
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(TrainingProgress, "update", press_ctrl_c_at_step_2)
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when pytest runs as a background job
    out = tmp_path / "ck"
    result = _train(synthetic_dataset, out, "--steps", "50", "--set", "log_every=1")
    assert result.exit_code == 130
    assert "interrupted" in result.output and "--resume" in result.output
    assert _metadata(out)["step"] == 3  # the step under way when Ctrl-C came was finished and saved
    assert signal.getsignal(signal.SIGINT) is before  # the handler the run found, whatever it was


def test_sigterm_saves_the_finished_step_and_exits_143(synthetic_dataset, tmp_path, monkeypatch):
    update = TrainingProgress.update

    def terminate_at_step_2(self, step, stats):
        update(self, step, stats)
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(TrainingProgress, "update", terminate_at_step_2)
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "ck"
    result = _train(synthetic_dataset, out, "--steps", "50", "--set", "log_every=1")
    assert result.exit_code == 143
    assert "interrupted (SIGTERM)" in result.output and "--resume" in result.output
    assert _metadata(out)["step"] == 3
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_interrupted_models_all_says_to_run_the_same_command_again_which_finishes_it(
        synthetic_dataset, tmp_path, monkeypatch):
    update = TrainingProgress.update

    def press_ctrl_c_once_at_step_2(self, step, stats):
        update(self, step, stats)
        if step == 2 and not pressed:
            pressed.append(step)
            os.kill(os.getpid(), signal.SIGINT)

    pressed: list[int] = []
    monkeypatch.setattr(TrainingProgress, "update", press_ctrl_c_once_at_step_2)
    out = tmp_path / "ck"
    args = ["train", "--models", "dcgan,sl-stylegan", "--category", "MEL", "--data", str(synthetic_dataset),
            "--resolution", "32", "--kimg", "0.096", "--out", str(out), "--set", "fmap_max=4", "--set", "log_every=1"]
    result = CliRunner().invoke(app, args)
    said = " ".join(result.output.split())
    assert result.exit_code == 130 and "to continue, run the same command again" in said and "--resume" not in said
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert _metadata(out / "dcgan" / "MEL")["images_seen"] == _metadata(out / "sl-stylegan" / "MEL")["images_seen"]
