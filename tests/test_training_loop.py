"""The training loop on the built-in synthetic lesions: each model trains, saves, reloads and
resumes bit for bit; a non-finite loss stops the run with its last good checkpoint intact."""

from __future__ import annotations

import json
import math

import pytest
import torch
from thread_limits import one_thread
from training_support import MODELS, RESOLUTION, checkpoint_tensors, random_images, run_tiny

from generators import load_checkpoint
from generators.checkpoint import growth_sampling_options, read_checkpoint
from generators.training import NonFiniteLossError, losses
from slbench.data import load_dataset, load_images


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def lesion_images(synthetic_dataset):
    records = load_dataset(synthetic_dataset).records("MEL")
    return load_images(records, RESOLUTION, cache=False)


@pytest.fixture(scope="module")
def runs(lesion_images, tmp_path_factory):
    """Per model: 3 steps in one go, and 2 steps then a resumed run to step 3."""
    outcome = {}
    with one_thread():
        for model in MODELS:
            whole = tmp_path_factory.mktemp(f"{model}-whole")
            split = tmp_path_factory.mktemp(f"{model}-split")
            result = run_tiny(model, whole, lesion_images, steps=3)
            first = run_tiny(model, split, lesion_images, steps=2)
            resumed = run_tiny(model, split, lesion_images, steps=3, resume=True)
            outcome[model] = {"whole": whole, "split": split, "result": result, "first": first, "resumed": resumed}
    return outcome


@pytest.mark.parametrize("model", MODELS)
def test_training_gives_finite_losses_and_a_checkpoint_that_reloads_to_the_same_images(runs, model):
    run = runs[model]
    result = run["result"]
    assert result.step == 3 and result.images_seen == 12
    assert set(result.losses) == {"loss_D", "loss_G"}
    assert all(math.isfinite(value) for value in result.losses.values())
    generator, metadata = load_checkpoint(run["whole"])
    assert not generator.training
    assert metadata["model"] == model and metadata["step"] == 3 and metadata["resolution"] == RESOLUTION
    staged = growth_sampling_options(metadata)  # stylegan stops mid-growth: sampled at its stage
    assert (model == "stylegan") == bool(staged)
    assert torch.equal(generator.sample(4, seed=11), result.generator.sample(4, seed=11, **staged))
    if model == "stylegan":  # the moving average is what a StyleGAN checkpoint hands out
        assert metadata["sampled_weights"] == "G_ema"
        tensors = checkpoint_tensors(run["whole"])
        assert not torch.equal(tensors["G_ema.to_rgb.2.weight"], tensors["G.to_rgb.2.weight"])
        assert torch.equal(generator.state_dict()["to_rgb.2.weight"], tensors["G_ema.to_rgb.2.weight"])


@pytest.mark.parametrize("model", MODELS)
def test_two_steps_then_resume_equals_three_steps_bit_for_bit(runs, model):
    run = runs[model]
    assert run["first"].step == 2 and run["resumed"].step == 3
    whole, split = checkpoint_tensors(run["whole"]), checkpoint_tensors(run["split"])
    assert whole.keys() == split.keys()
    assert any(key.startswith("opt_D.") for key in whole) and any(key.startswith("opt_G.") for key in whole)
    different = [key for key in whole if not torch.equal(whole[key], split[key])]
    assert different == []


def test_resume_continues_from_a_changed_state(runs):
    """The resumed run really trained: its weights moved from the step-2 checkpoint."""
    first = runs["dcgan"]["first"]
    resumed = checkpoint_tensors(runs["dcgan"]["split"])
    before = first.generator.state_dict()
    assert not torch.equal(before["main.0.weight"], resumed["G.main.0.weight"])


def test_stylegan_grows_through_its_schedule(runs):
    """phase_kimg = 0.006 with 4-image steps: after 12 images the 16 px block is fully faded in."""
    metadata = json.loads((runs["stylegan"]["whole"] / "step-0000003.json").read_text())
    assert metadata["config"]["progressive"] is True
    assert metadata["growth"] == {"stage": 16, "alpha": 1.0}


def test_without_the_rng_state_the_resumed_run_would_differ(runs, lesion_images, tmp_path, monkeypatch):
    """Guard on the exactness test: restoring a fresh RNG instead of the saved one changes the result."""
    import generators.training.loop as loop

    monkeypatch.setattr(loop, "restore_rng", lambda states, device: torch.manual_seed(12345))
    split = tmp_path / "split"
    run_tiny("stylegan", split, lesion_images, steps=2)
    run_tiny("stylegan", split, lesion_images, steps=3, resume=True)
    whole = checkpoint_tensors(runs["stylegan"]["whole"])
    assert not torch.equal(whole["G.to_rgb.1.weight"], checkpoint_tensors(split)["G.to_rgb.1.weight"])


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(lesion_images, tmp_path, monkeypatch):
    calls = {"count": 0}
    real_loss = losses.bce_d

    def poisoned(real_scores, fake_scores):
        calls["count"] += 1
        loss = real_loss(real_scores, fake_scores)
        return loss * float("nan") if calls["count"] == 3 else loss

    monkeypatch.setattr(losses, "bce_d", poisoned)
    with pytest.raises(NonFiniteLossError, match=r"loss_D = nan\) at step 3.*step-0000002"):
        run_tiny("dcgan", tmp_path, lesion_images, steps=6, snapshot_every="2")
    assert (tmp_path / "latest").read_text().strip() == "step-0000002"
    assert not (tmp_path / "step-0000004.safetensors").exists()
    tensors, metadata = read_checkpoint(tmp_path)  # checks the weights against their recorded sha256
    assert metadata["step"] == 2
    assert all(torch.isfinite(t).all() for t in tensors.values() if t.is_floating_point())


@pytest.mark.parametrize(("reset", "adam_steps"), [("true", {1.0}), ("false", {4.0})])
def test_stylegan_adam_moments_restart_when_a_block_starts_and_ends_its_fade_in(tmp_path, reset, adam_steps):
    """Tiny schedule: steps 0-1 at 8 px, step 2 starts fading 16 px in, step 3 is stable at 16 px;
    the parameters every step trains (the mapping network's) count Adam steps since the last reset."""
    run_tiny("stylegan", tmp_path, random_images(), steps=4, reset_adam_on_growth=reset)
    tensors = checkpoint_tensors(tmp_path)
    counts = {name: value.item() for name, value in tensors.items() if name.endswith(".step")}
    assert {counts["opt_G.0.step"]} == adam_steps
    assert max(counts.values()) == max(adam_steps)
