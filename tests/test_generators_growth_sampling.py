"""A StyleGAN checkpoint saved mid-growth is sampled at its recorded stage and fade-in, not at full
resolution (whose upper layers are untrained), and says so in what run and generate record."""

from __future__ import annotations

import pytest
import torch

from generators import load_checkpoint
from generators.checkpoint import growth_sampling_options, growth_stage_text
from slbench.evaluation.checkpoints import read_checkpoint_info
from training_support import random_images, run_tiny

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def mid_growth(tmp_path_factory):
    """Two steps of 4 images with 6-image phases: 16 px fading in, a third of the way."""
    out = tmp_path_factory.mktemp("growing")
    run_tiny("stylegan", out, random_images(), steps=2)
    return out


def test_mid_growth_checkpoint_samples_at_its_stage_upscaled(mid_growth):
    generator, metadata = load_checkpoint(mid_growth)
    options = growth_sampling_options(metadata)
    assert options == {"stage": 16, "alpha": pytest.approx(1 / 3)}
    assert growth_stage_text(metadata) == "16 px, fade-in 0.33"
    images = generator.sample(3, seed=5)
    assert images.shape == (3, 3, 32, 32)
    assert torch.equal(images, generator.sample(3, seed=5, **options))
    assert not torch.allclose(images, generator.sample(3, seed=5, stage=32, alpha=1.0))
    blocks = images.reshape(3, 3, 16, 2, 16, 2)
    assert torch.equal(blocks, blocks[:, :, :, :1, :, :1].expand_as(blocks))  # each 16 px pixel repeated 2 x 2
    assert read_checkpoint_info(mid_growth).stage == "16 px, fade-in 0.33"


def test_grown_and_non_growing_checkpoints_sample_at_full_resolution():
    assert growth_sampling_options({"resolution": 32, "growth": {"stage": 32, "alpha": 1.0}}) == {}
    assert growth_sampling_options({"resolution": 32}) == {}
    assert growth_sampling_options({"resolution": 32, "growth": {"stage": 32, "alpha": 0.5}}) == {"stage": 32,
                                                                                                   "alpha": 0.5}
    assert growth_stage_text({"resolution": 64, "growth": {"stage": 16, "alpha": 1.0}}) == "16 px"
