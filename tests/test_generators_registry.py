"""The model registry: names, resolutions and override keys are validated and listed."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import generators
from generators import MODELS, build_discriminator, build_generator
from generators.base import Discriminator, Generator
from generators.registry import ModelSpec, register_model

pytestmark = pytest.mark.usefixtures("one_thread")


def test_registry_names_the_three_families():
    assert list(MODELS) == ["sl-stylegan", "stylegan", "dcgan"]
    for name, spec in MODELS.items():
        assert spec.name == name
        assert issubclass(spec.generator, Generator) and issubclass(spec.discriminator, Discriminator)


def test_unknown_model_lists_the_supported_ones():
    with pytest.raises(ValueError) as err:
        build_generator("biggan", 64)
    for name in MODELS:
        assert name in str(err.value)
    with pytest.raises(ValueError, match="biggan"):
        build_discriminator("biggan", 64)


@pytest.mark.parametrize(
    ("name", "resolution"),
    [("sl-stylegan", 16), ("sl-stylegan", 48), ("sl-stylegan", 2048), ("dcgan", 512), ("dcgan", 16), ("dcgan", True)],
)
def test_unsupported_resolution_lists_the_supported_ones(name, resolution):
    with pytest.raises(ValueError) as err:
        build_generator(name, resolution)
    message = str(err.value)
    assert name in message and "supported" in message
    assert ", ".join(str(r) for r in MODELS[name].resolutions) in message


def test_supported_resolutions_match_the_spec():
    assert MODELS["sl-stylegan"].resolutions == (32, 64, 128, 256, 512, 1024)
    assert MODELS["dcgan"].resolutions == (32, 64, 128, 256)


def test_unknown_override_key_lists_the_valid_keys():
    with pytest.raises(ValueError, match=r"unknown override\(s\) for dcgan: width; supported: ngf, ndf, fmap_max"):
        build_generator("dcgan", 32, width=8)
    with pytest.raises(ValueError, match="for sl-stylegan: ngf; supported: fmap_max$"):
        build_discriminator("sl-stylegan", 32, ngf=8)


def test_bad_override_value_is_refused():
    with pytest.raises(ValueError, match="ngf"):
        build_generator("dcgan", 32, ngf=0)


def test_config_round_trips_through_overrides():
    generator = build_generator("dcgan", 32, ngf=8, ndf=4)
    overrides = {k: v for k, v in dataclasses.asdict(generator.config).items() if k != "resolution"}
    rebuilt = build_discriminator("dcgan", generator.resolution, **overrides)
    assert rebuilt.config == generator.config
    assert rebuilt.main[0].out_channels == 4 * 2  # ndf=4: 16 px map of a 32 px net has 2 * ndf channels


def _spec(name: str, **changes) -> ModelSpec:
    base = MODELS["dcgan"]
    fields = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    fields.update(name=name, **changes)
    return ModelSpec(**fields)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (lambda: _spec("dcgan"), "already registered"),
        (lambda: _spec(" padded"), "whitespace"),
        (lambda: _spec("two words"), "whitespace"),
        (lambda: _spec("a/b"), "path separator"),
        (lambda: _spec(""), "non-empty"),
        (lambda: _spec("plain", generator=torch.nn.Linear), "subclass"),
        (lambda: _spec("plain", discriminator=Generator), "subclass"),
        (lambda: _spec("plain", config=dict), "dataclass"),
        (lambda: _spec("plain", resolutions=(48,)), "powers of two"),
    ],
)
def test_register_model_refuses_malformed_entries(spec, message):
    before = dict(MODELS)
    with pytest.raises(ValueError, match=message):
        register_model(spec())
    assert MODELS == before


def test_package_reexports_the_registry():
    assert generators.MODELS is MODELS
    assert generators.build_generator is build_generator
