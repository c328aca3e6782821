"""Registry of generator families: name -> :class:`ModelSpec`.

Each family has one frozen config dataclass (its ``resolution`` plus the keys a caller may
override), one generator class and one discriminator class. ``register_model`` refuses a
malformed entry the way torch-fidelity's registry does (a duplicate name, a name with
whitespace or a path separator, classes that do not derive from the slbench bases);
``build_generator``/``build_discriminator`` refuse an unknown name, an unsupported resolution
or an unknown override key with a ``ValueError`` that lists what is supported.

The config a model was built from is ``model.config``; ``dataclasses.asdict(model.config)``
minus ``resolution`` is a valid ``**overrides`` for rebuilding it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from generators import dcgan, sl_stylegan, stylegan
from generators.base import Discriminator, Generator


@dataclass(frozen=True)
class ModelSpec:
    """One generator family."""

    name: str  # registry key, e.g. "sl-stylegan"
    reference: str  # the paper the family ports
    config: type  # frozen dataclass with a `resolution` field; its other fields are the overrides
    generator: type[Generator]
    discriminator: type[Discriminator]
    resolutions: tuple[int, ...]  # supported output resolutions, ascending

    @property
    def override_keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self.config) if f.name != "resolution")

    def make_config(self, resolution: int, **overrides: Any) -> Any:
        """The validated config for ``resolution`` and ``overrides``."""
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution not in self.resolutions:
            supported = ", ".join(str(r) for r in self.resolutions)
            raise ValueError(f"{self.name} does not support resolution {resolution!r}; supported: {supported}")
        unknown = sorted(set(overrides) - set(self.override_keys))
        if unknown:
            supported = ", ".join(self.override_keys) or "none"
            raise ValueError(f"unknown override(s) for {self.name}: {', '.join(unknown)}; supported: {supported}")
        return self.config(resolution=resolution, **overrides)


MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> None:
    """Add ``spec`` to :data:`MODELS` after checking it is well formed."""
    name = spec.name
    if not isinstance(name, str) or not name:
        raise ValueError("a model must be registered under a non-empty string name")
    if name.strip() != name or any(ch.isspace() for ch in name):
        raise ValueError(f"model name {name!r} must not contain whitespace")
    if os.sep in name or "/" in name or "\\" in name:
        raise ValueError(f"model name {name!r} must not contain a path separator")
    if name in MODELS:
        raise ValueError(f"model {name!r} is already registered")
    if not (isinstance(spec.generator, type) and issubclass(spec.generator, Generator)):
        raise ValueError(f"{name}: generator must be a subclass of generators.base.Generator")
    if not (isinstance(spec.discriminator, type) and issubclass(spec.discriminator, Discriminator)):
        raise ValueError(f"{name}: discriminator must be a subclass of generators.base.Discriminator")
    if not dataclasses.is_dataclass(spec.config) or "resolution" not in {f.name for f in dataclasses.fields(spec.config)}:
        raise ValueError(f"{name}: config must be a dataclass with a `resolution` field")
    if not spec.resolutions or any(r < 4 or r & (r - 1) for r in spec.resolutions):
        raise ValueError(f"{name}: resolutions must be a non-empty tuple of powers of two >= 4")
    MODELS[name] = spec


def get_model(name: str) -> ModelSpec:
    """The spec registered as ``name``; ``ValueError`` listing the registered names otherwise."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; supported: {', '.join(MODELS)}")
    return MODELS[name]


def build_generator(name: str, resolution: int, **overrides: Any) -> Generator:
    """A freshly initialised generator of family ``name`` at ``resolution``."""
    spec = get_model(name)
    return spec.generator(spec.make_config(resolution, **overrides))


def build_discriminator(name: str, resolution: int, **overrides: Any) -> Discriminator:
    """A freshly initialised discriminator of family ``name`` at ``resolution``."""
    spec = get_model(name)
    return spec.discriminator(spec.make_config(resolution, **overrides))


def _powers_of_two(low: int, high: int) -> tuple[int, ...]:
    return tuple(2**k for k in range(low.bit_length() - 1, high.bit_length()))


register_model(
    ModelSpec(
        name="sl-stylegan",
        reference="Qin et al. 2020, A GAN-based image synthesis method for skin lesion classification",
        config=sl_stylegan.SLStyleGANConfig,
        generator=sl_stylegan.SLStyleGANGenerator,
        discriminator=sl_stylegan.SLStyleGANDiscriminator,
        resolutions=_powers_of_two(32, 1024),
    )
)
register_model(
    ModelSpec(
        name="stylegan",
        reference="Karras, Laine and Aila 2019, A Style-Based Generator Architecture for GANs",
        config=stylegan.StyleGANConfig,
        generator=stylegan.StyleGANGenerator,
        discriminator=stylegan.StyleGANDiscriminator,
        resolutions=_powers_of_two(32, 1024),
    )
)
register_model(
    ModelSpec(
        name="dcgan",
        reference="Radford, Metz and Chintala 2016, Unsupervised Representation Learning with DCGANs",
        config=dcgan.DCGANConfig,
        generator=dcgan.DCGANGenerator,
        discriminator=dcgan.DCGANDiscriminator,
        resolutions=_powers_of_two(32, 256),
    )
)
