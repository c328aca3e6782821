"""`slbench run` resolves and validates everything before heavy work: one error lists every problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from generators.checkpoint import save_checkpoint
from slbench.errors import SlbenchError
from slbench.evaluation.plan import parse_categories, parse_models, plan_evaluation

MODELS = ("sl-stylegan", "stylegan", "dcgan")
CATEGORIES = ("AKIEC", "BCC", "BKL", "DF", "NV", "MEL", "VASC")
AVAILABLE = {"MEL": 12, "NV": 30, "DF": 5}


def fake_checkpoint(root: Path, model: str, category: str, *, resolution: int = 32, trained_on: str | None = None,
                    resize: str | None = None):
    """A checkpoint folder as `slbench train` leaves it (the weights themselves do not matter here)."""
    metadata = {"model": model, "category": trained_on or category, "resolution": resolution}
    if resize is not None:
        metadata["data"] = {"resize": resize}
    save_checkpoint(root / model / category, 10, {"G.w": torch.zeros(1)}, metadata)


def plan(root: Path, models="all", categories="MEL", resolution=None):
    return plan_evaluation(
        models=models,
        categories=categories,
        checkpoints=root,
        known_models=MODELS,
        known_categories=CATEGORIES,
        available=AVAILABLE,
        resolution=resolution,
    )


def test_parse_models_and_categories():
    assert parse_models("all", MODELS) == MODELS
    assert parse_models("dcgan, sl-stylegan,dcgan", MODELS) == ("dcgan", "sl-stylegan")
    assert parse_categories("all", CATEGORIES, ["NV", "MEL"]) == ("NV", "MEL")
    assert parse_categories("mel,nv", CATEGORIES, ["NV", "MEL"]) == ("NV", "MEL")
    with pytest.raises(SlbenchError, match="unknown model.*gan2"):
        parse_models("dcgan,gan2", MODELS)
    with pytest.raises(SlbenchError, match="unknown category XYZ"):
        parse_categories("MEL,xyz", CATEGORIES, ["MEL"])
    with pytest.raises(SlbenchError, match="empty"):
        parse_models(" , ", MODELS)


def test_plan_resolves_every_pair_in_order(tmp_path):
    for model in MODELS:
        for category in ("MEL", "NV"):
            fake_checkpoint(tmp_path, model, category)
    result = plan(tmp_path, categories="NV,MEL")
    assert [pair.key for pair in result.pairs] == [
        "sl-stylegan/NV", "sl-stylegan/MEL", "stylegan/NV", "stylegan/MEL", "dcgan/NV", "dcgan/MEL",
    ]
    assert result.resolution == 32
    assert all(pair.checkpoint.path.name == "step-0000010.safetensors" for pair in result.pairs)


def test_every_missing_checkpoint_is_listed_in_one_message(tmp_path):
    fake_checkpoint(tmp_path, "dcgan", "MEL")
    with pytest.raises(SlbenchError) as caught:
        plan(tmp_path, categories="MEL,NV")
    message = str(caught.value)
    for missing in ("sl-stylegan/MEL", "sl-stylegan/NV", "stylegan/MEL", "stylegan/NV", "dcgan/NV"):
        assert f"missing checkpoint for {missing}" in message
    assert "dcgan/MEL" not in message
    assert "5 problem(s)" in message
    assert "\n" not in message


def test_category_model_and_data_mismatches_are_collected(tmp_path):
    fake_checkpoint(tmp_path, "dcgan", "MEL", trained_on="NV")
    fake_checkpoint(tmp_path, "dcgan", "VASC")
    with pytest.raises(SlbenchError) as caught:
        plan(tmp_path, models="dcgan", categories="MEL,VASC")
    message = str(caught.value)
    assert "trained on category NV, not MEL" in message
    assert "the dataset has no images of VASC" in message


def test_resolution_default_is_the_shared_one_else_the_smallest(tmp_path):
    fake_checkpoint(tmp_path, "dcgan", "MEL", resolution=64)
    fake_checkpoint(tmp_path, "sl-stylegan", "MEL", resolution=32)
    result = plan(tmp_path, models="dcgan,sl-stylegan")
    assert result.resolution == 32
    assert "smallest" in result.resolution_source
    assert plan(tmp_path, models="dcgan").resolution == 64


def test_requested_resolution_is_never_an_upscale(tmp_path):
    fake_checkpoint(tmp_path, "dcgan", "MEL", resolution=64)
    fake_checkpoint(tmp_path, "sl-stylegan", "MEL", resolution=32)
    assert plan(tmp_path, models="dcgan,sl-stylegan", resolution=32).resolution == 32
    with pytest.raises(SlbenchError, match="sl-stylegan/MEL is trained at 32 px, below --resolution 64"):
        plan(tmp_path, models="dcgan,sl-stylegan", resolution=64)


def test_classes_too_small_for_the_metrics_are_listed(tmp_path):
    fake_checkpoint(tmp_path, "dcgan", "DF")
    fake_checkpoint(tmp_path, "dcgan", "MEL")
    with pytest.raises(SlbenchError, match="only 5 images of DF, the metrics need 6") as raised:
        plan_evaluation(models="dcgan", categories="DF,MEL", checkpoints=tmp_path, known_models=MODELS,
                        known_categories=CATEGORIES, available=AVAILABLE, min_images=6)
    assert str(raised.value).endswith("; leave classes with too few images out of --category")


def test_a_missing_checkpoint_and_a_small_class_each_get_their_own_advice(tmp_path):
    fake_checkpoint(tmp_path, "dcgan", "MEL")
    with pytest.raises(SlbenchError, match=r"2 problem\(s\).*out of --category; train what is missing"):
        plan_evaluation(models="dcgan", categories="DF,MEL", checkpoints=tmp_path, known_models=MODELS,
                        known_categories=CATEGORIES, available=AVAILABLE, min_images=6)


def test_real_side_is_made_square_as_the_checkpoints_training_images_were(tmp_path):
    for model in MODELS:
        fake_checkpoint(tmp_path / "cropped", model, "MEL", resize="center-crop")
        fake_checkpoint(tmp_path / "unrecorded", model, "MEL")
    assert plan(tmp_path / "cropped").resize == "center-crop"
    assert plan(tmp_path / "unrecorded").resize == "squash"


def test_checkpoints_trained_on_differently_squared_images_are_not_compared(tmp_path):
    fake_checkpoint(tmp_path, "sl-stylegan", "MEL", resize="center-crop")
    fake_checkpoint(tmp_path, "dcgan", "MEL", resize="squash")
    with pytest.raises(SlbenchError, match=r"made square in different ways.*sl-stylegan/MEL: center-crop.*same --resize"):
        plan(tmp_path, models="sl-stylegan,dcgan")
