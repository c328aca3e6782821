"""`slbench train --models`: several models one after another on one split and one budget in images,
resuming the unfinished and skipping the finished, and the options it refuses."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from slbench.cli import app
from slbench.shared_budget import images_at_end, shared_budget_images
from slbench.training import planned_run, settings_per_model
from slbench.errors import SlbenchError

pytestmark = pytest.mark.usefixtures("one_thread")

TINY_SETTINGS = ("--set", "ngf=4", "--set", "ndf=4", "--set", "stylegan:fmap_base=64", "--set", "stylegan:fmap_max=16",
                 "--set", "stylegan:mapping_layers=2", "--set", "stylegan:z_dim=16", "--set", "stylegan:w_dim=16")


def _train(data, root, *extra: str):
    args = ["train", "--category", "MEL", "--data", str(data), "--resolution", "32", "--out", str(root),
            "--split", "train", *TINY_SETTINGS, *extra]
    return CliRunner().invoke(app, args)


def _metadata(folder) -> dict:
    name = (folder / "latest").read_text().strip()
    return json.loads((folder / f"{name}.json").read_text())


def test_all_models_train_for_the_same_images_whatever_their_batch(synthetic_dataset, tmp_path):
    dcgan = tmp_path / "dcgan" / "MEL"
    first = CliRunner().invoke(app, ["train", "--model", "dcgan", "--category", "MEL", "--data", str(synthetic_dataset),
                                     "--resolution", "32", "--out", str(dcgan), "--split", "train", "--batch", "8",
                                     "--kimg", "0.008", "--set", "ngf=4", "--set", "ndf=4"])
    assert first.exit_code == 0, first.output
    assert _metadata(dcgan)["images_seen"] == 8  # one step of 8: unfinished for the 16-image budget below

    result = _train(synthetic_dataset, tmp_path, "--models", "all", "--kimg", "0.016", "--batch", "8")
    assert result.exit_code == 0, result.output
    assert "resuming" in result.output and "starting" in result.output
    records = {model: _metadata(tmp_path / model / "MEL") for model in ("sl-stylegan", "stylegan", "dcgan")}
    assert {model: record["images_seen"] for model, record in records.items()} == dict.fromkeys(records, 16)
    assert {record["split_fingerprint"] for record in records.values()} != {None}
    assert len({record["split_fingerprint"] for record in records.values()}) == 1
    assert records["stylegan"]["architecture"]["fmap_base"] == 64 and records["dcgan"]["architecture"]["ngf"] == 4
    assert records["dcgan"]["step"] == 2  # resumed from step 1, not restarted

    again = _train(synthetic_dataset, tmp_path, "--models", "dcgan,sl-stylegan", "--kimg", "0.016", "--batch", "8")
    assert again.exit_code == 0, again.output
    assert again.output.count("already trained") == 2
    assert _metadata(tmp_path / "dcgan" / "MEL")["saved_at"] == records["dcgan"]["saved_at"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--models", "all", "--steps", "3"), "give --kimg, not --steps"),
        (("--models", "all", "--model", "dcgan"), "not both"),
        ((), "say which model to train"),
        (("--models", "dcgan,biggan"), "unknown model(s) biggan"),
        (("--models", "all", "--resume"), "drop --resume"),
        (("--models", "all", "--kimg", "0"), "'--kimg': Input should be greater than or equal to 0.001"),
        (("--models", "dcgan", "--set", "nope=1"), "no model trained here has a setting 'nope'"),
    ],
)
def test_refused_options_exit_2_with_a_reason(synthetic_dataset, tmp_path, extra, message):
    result = _train(synthetic_dataset, tmp_path, *extra)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_settings_go_to_the_models_that_have_them():
    chosen = settings_per_model(("sl-stylegan", "stylegan", "dcgan"),
                                ["lr=0.001", "ngf=8", "stylegan:mixing_prob=0.5", "dcgan:lr=0.0002"])
    assert chosen == {"sl-stylegan": ("lr=0.001",), "stylegan": ("lr=0.001", "mixing_prob=0.5"),
                      "dcgan": ("ngf=8", "lr=0.0002")}
    assert settings_per_model(("dcgan",), ["stylegan:mixing_prob=0.5"]) == {"dcgan": ()}
    with pytest.raises(SlbenchError, match="names 'biggan'"):
        settings_per_model(("dcgan",), ["biggan:lr=1"])


def test_a_budget_between_minibatches_is_rounded_up_to_one_every_model_ends_on(synthetic_dataset, tmp_path):
    result = _train(synthetic_dataset, tmp_path, "--models", "sl-stylegan,dcgan", "--kimg", "0.02",
                    "--set", "sl-stylegan:batch_size=8", "--set", "dcgan:batch_size=16")
    assert result.exit_code == 0, result.output
    assert "0.02 kimg rounded up to 0.032 kimg" in " ".join(result.output.split())
    records = {model: _metadata(tmp_path / model / "MEL") for model in ("sl-stylegan", "dcgan")}
    assert {model: (record["images_seen"], record["step"]) for model, record in records.items()} == {
        "sl-stylegan": (32, 4), "dcgan": (32, 2)}  # not 24 and 32, each model's first step past 20


@pytest.mark.parametrize(("kimg", "settings"), [
    (0.2, ()),  # minibatches 16, 128 (StyleGAN's official one at 8 px) and 128
    (3.7, ("stylegan:schedule=short", "stylegan:start_resolution=8")),  # StyleGAN's minibatch changes as it grows
    (320.0, ("stylegan:schedule=short",)),  # the paper's budget is already a multiple of every minibatch
])
def test_the_shared_budget_is_one_that_every_planned_run_ends_on(tmp_path, kimg, settings):
    models = ("sl-stylegan", "stylegan", "dcgan")
    per_model = settings_per_model(models, settings)
    common = dict(category="MEL", resolution=32, seed=0, split="all")

    def plan_for(model, budget):
        return planned_run(model, tmp_path / model, common | {"settings": per_model[model], "kimg": budget})

    images = shared_budget_images(models, kimg, plan_for)
    assert kimg * 1000 <= images < kimg * 1000 + 128
    assert {model: images_at_end(plan_for(model, images / 1000)) for model in models} == dict.fromkeys(models, images)
    assert (images == kimg * 1000) == (kimg == 320.0)
