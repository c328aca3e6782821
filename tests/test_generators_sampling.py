"""The sampling contract every registered generator keeps: shape, range, determinism, eval mode."""

from __future__ import annotations

import pytest
import torch

from generators_support import TINY_STYLEGAN
from generators import MODELS, build_generator

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = {"stylegan": TINY_STYLEGAN, "dcgan": {"ngf": 8}, "sl-stylegan": {}}
CASES = [(name, resolution) for name in ("sl-stylegan", "stylegan", "dcgan") for resolution in (32, 64)]


@pytest.fixture(scope="module")
def models():
    built = {}
    for name, resolution in CASES:
        torch.manual_seed(0)
        model = build_generator(name, resolution, **TINY[name])
        with torch.no_grad():
            for param_name, param in model.named_parameters():
                if param_name.endswith("noise_strength"):
                    param.fill_(0.5)  # StyleGAN's noise is switched off at init; make it count here
        built[name, resolution] = model
    return built


@pytest.mark.parametrize(("name", "resolution"), CASES)
def test_sample_shape_range_and_determinism(models, name, resolution):
    model = models[name, resolution]
    assert model.resolution == resolution and model.z_dim == {"sl-stylegan": 100, "stylegan": 32, "dcgan": 100}[name]
    images = model.sample(5, seed=7, batch_size=2)
    assert images.shape == (5, 3, resolution, resolution) and images.dtype == torch.float32
    assert images.device.type == "cpu"
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert images.std() > 0.0
    assert torch.equal(images, model.sample(5, seed=7, batch_size=2))
    assert torch.allclose(images, model.sample(5, seed=7, batch_size=5), atol=1e-4)  # batching: float rounding only
    assert torch.allclose(images[:3], model.sample(3, seed=7), atol=1e-4)  # a prefix of a larger draw
    assert not torch.allclose(images, model.sample(5, seed=8, batch_size=2))


@pytest.mark.parametrize("name", ["sl-stylegan", "stylegan"])
def test_sample_draws_the_noise_from_the_seed(models, name):
    model = models[name, 32]
    torch.manual_seed(1)
    first = model.sample(2, seed=3)
    torch.manual_seed(2)  # the global RNG plays no part
    assert torch.equal(first, model.sample(2, seed=3))


@pytest.mark.parametrize(("name", "resolution"), CASES[::2])
def test_sample_restores_mode_and_leaves_the_weights_alone(models, name, resolution):
    model = models[name, resolution]
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.sample(3, seed=0)
    assert model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key  # no BatchNorm statistics, no w_avg update
    model.eval()
    model.sample(1)
    assert not model.training


@pytest.mark.parametrize("name", list(MODELS))
def test_sample_edge_cases_and_options(models, name):
    model = models[name, 32]
    assert model.sample(0).shape == (0, 3, 32, 32)
    with pytest.raises(ValueError, match="unknown sampling option"):
        model.sample(1, temperature=0.5)
    with pytest.raises(ValueError, match="batch_size"):
        model.sample(1, batch_size=0)


@pytest.mark.parametrize("name", list(MODELS))
def test_output_range_matches_image_range(models, name):
    model = models[name, 32]
    expected = {"sl-stylegan": (0.0, 1.0), "stylegan": (-1.0, 1.0), "dcgan": (-1.0, 1.0)}[name]
    assert model.image_range == expected
    model.eval()
    with torch.no_grad():
        raw = model(torch.randn(3, model.z_dim))
    assert torch.allclose(model.to_unit_range(raw), ((raw - expected[0]) / (expected[1] - expected[0])).clamp(0, 1))
    if name != "stylegan":  # StyleGAN's ToRGB is linear; the others end in a sigmoid or tanh
        assert raw.min() >= expected[0] and raw.max() <= expected[1]
