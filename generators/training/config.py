"""Training hyperparameters: one frozen dataclass per model, overridable by ``key=value``.

The defaults are the published settings (``sl-stylegan``: Qin et al. 2020 and its Keras code;
``stylegan``: Karras et al. 2019 and its official release; ``dcgan``: Radford et al. 2016).
The resolved config is written into every checkpoint, so a checkpoint says how it was made.

StyleGAN trains on the official schedule (the StyleGAN configuration of the release's
``train.py`` with its ``-1gpu`` line): the minibatch per resolution being trained
(:data:`~generators.training.schedule.OFFICIAL_1GPU_MINIBATCH`, ``--batch`` or ``batch_size=N``
fixes one instead), the learning rate per resolution (``G_lrate_dict = D_lrate_dict = {128:
0.0015, 256: 0.002, 512: 0.003, 1024: 0.003}`` over the base 1e-3 below), Adam moments reset
whenever a new block starts or finishes fading in (``reset_opt_for_new_lod``), and 600k images
per fade and per stabilisation phase (``lod_training_kimg = lod_transition_kimg = 600``).
``schedule=short`` is the preset for runs far shorter than the official 25M images: the phases
shrink to a quarter of the run per doubling (see
:func:`generators.training.schedule.resolve_phase_kimg`). The checkpoint's config
records the preset, the phase length used and the batch setting.

Deliberate differences from the references, for one harness across three models:

* ``amp`` (``off``, ``bf16`` autocast, or ``fp16`` autocast with a dynamic loss scale) and
  ``channels_last`` only take effect on CUDA.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Mapping

from generators.training.schedule import SCHEDULES

DEFAULT_KIMG = 320.0
"""Training length when none is given: the paper's 20,000 steps of 16 images (320k images)."""

DEFAULT_RESOLUTION = 256
"""Output resolution when none is given: the paper's."""

AMP_MODES = ("off", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    """Settings every model shares. Subclasses set the published values as their defaults."""

    batch_size: int = 16  # global batch: images per step summed over all processes
    lr: float = 1e-4  # Adam learning rate, both networks
    betas: tuple[float, float] = (0.0, 0.99)  # Adam (beta1, beta2)
    adam_eps: float = 1e-8  # Adam epsilon
    flip: bool = True  # random horizontal flips of the real images
    ema_kimg: float = 0.0  # half-life of the generator's weight average in k images; 0: no average
    snapshot_every: int = 1000  # steps between checkpoints and sample grids
    keep_last: int = 3  # checkpoints kept in the output folder (older ones are deleted)
    grid_size: int = 16  # images in each sample grid (fixed latents)
    log_every: int = 10  # steps between progress updates and the finite-loss check
    amp: str = "bf16"  # mixed precision on CUDA: off, bf16 (autocast) or fp16 (autocast and a loss scale)
    channels_last: bool = True  # channels-last memory format on CUDA

    def __post_init__(self) -> None:
        checks = {
            "batch_size": self.batch_size is None or self.batch_size >= 1,
            "lr": self.lr > 0,
            "betas": len(self.betas) == 2 and all(0.0 <= b < 1.0 for b in self.betas),
            "adam_eps": self.adam_eps > 0,
            "ema_kimg": self.ema_kimg >= 0,
            "snapshot_every": self.snapshot_every >= 1,
            "keep_last": self.keep_last >= 1,
            "grid_size": self.grid_size >= 1,
            "log_every": self.log_every >= 1,
            "amp": self.amp in AMP_MODES,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"invalid training setting: {values}")


@dataclass(frozen=True)
class SLStyleGANConfig(TrainConfig):
    """Qin et al. (2020): LSGAN (a=-1, b=1, c=0) plus R1 on reals, Adam with Keras decay."""

    batch_size: int = 16
    lr: float = 1e-4
    betas: tuple[float, float] = (0.0, 0.99)
    adam_eps: float = 1e-7  # the Keras default the reference trained with
    lr_decay: float = 1e-5  # Keras ``decay``: lr / (1 + lr_decay * step)
    fake_target: float = -1.0  # a: discriminator target for generated images
    real_target: float = 1.0  # b: discriminator target for real images
    generator_target: float = 0.0  # c: the score the generator aims for
    r1_weight: float = 5.0  # times the batch mean of the summed squared input gradients


@dataclass(frozen=True)
class StyleGANConfig(TrainConfig):
    """Karras et al. (2019): non-saturating logistic loss, R1, style mixing, EMA, growing."""

    batch_size: int | None = None  # None: the official 1-GPU minibatch per resolution trained
    lr: float = 1e-3
    betas: tuple[float, float] = (0.0, 0.99)
    adam_eps: float = 1e-8
    ema_kimg: float = 10.0  # the official G_smoothing_kimg
    r1_gamma: float = 10.0  # penalty gamma / 2 * squared input gradient norm
    mixing_prob: float = 0.9  # style mixing regularisation
    progressive: bool = True  # grow from start_resolution with fade-in; False trains at full size
    start_resolution: int = 8  # the official lod_initial_resolution
    schedule: str = "official"  # phase preset: official (600 kimg phases) or short (phases fit to the run)
    phase_kimg: float | None = None  # k images per fade and per stabilisation phase; None: the preset's
    official_lr: bool = True  # the official learning rate per resolution (lr is the base)
    reset_adam_on_growth: bool = True  # the official reset_opt_for_new_lod

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.mixing_prob <= 1.0:
            raise ValueError(f"invalid training setting: mixing_prob={self.mixing_prob!r}")
        if self.start_resolution < 4 or self.start_resolution & (self.start_resolution - 1):
            raise ValueError(f"invalid training setting: start_resolution={self.start_resolution!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"invalid training setting: schedule={self.schedule!r}; use one of {', '.join(SCHEDULES)}")
        if self.phase_kimg is not None and self.phase_kimg <= 0:
            raise ValueError(f"invalid training setting: phase_kimg={self.phase_kimg!r}")


@dataclass(frozen=True)
class DCGANConfig(TrainConfig):
    """Radford et al. (2016): binary cross-entropy on logits, Adam 2e-4 (0.5, 0.999), batch 128."""

    batch_size: int = 128
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    adam_eps: float = 1e-8


CONFIGS: dict[str, type[TrainConfig]] = {
    "sl-stylegan": SLStyleGANConfig,
    "stylegan": StyleGANConfig,
    "dcgan": DCGANConfig,
}


def config_class(model: str) -> type[TrainConfig]:
    """The config class of a model; ``ValueError`` listing the known models otherwise."""
    try:
        return CONFIGS[model]
    except KeyError:
        raise ValueError(f"unknown model {model!r}; supported: {', '.join(CONFIGS)}") from None


def config_from_dict(model: str, values: Mapping[str, Any]) -> TrainConfig:
    """Rebuild a config from its ``dataclasses.asdict`` form (as stored in a checkpoint)."""
    cls = config_class(model)
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(values) - {field.name for field in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"unknown {model} training settings: {', '.join(unknown)}")
    converted = {
        name: tuple(value) if typing.get_origin(hints[name]) is tuple else value
        for name, value in values.items()
    }
    if isinstance(converted.get("amp"), bool):  # checkpoints written when amp was on (bf16) or off
        converted["amp"] = "bf16" if converted["amp"] else "off"
    return cls(**converted)


def with_overrides(config: TrainConfig, overrides: Mapping[str, str]) -> TrainConfig:
    """A copy of ``config`` with ``key -> text`` overrides parsed to each field's type."""
    return dataclasses.replace(config, **parse_fields(type(config), overrides))


def parse_fields(cls: type, overrides: Mapping[str, str]) -> dict[str, Any]:
    """Parse ``key -> text`` pairs into the declared types of the dataclass ``cls``'s fields.

    An unknown key or an unreadable value raises ``ValueError`` naming the valid keys or the type.
    """
    hints = typing.get_type_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    parsed = {}
    for key, text in overrides.items():
        if key not in names:
            raise ValueError(f"unknown setting {key!r} for {cls.__name__}; valid: {', '.join(names)}")
        try:
            parsed[key] = parse_setting(hints[key], text.strip())
        except (ValueError, SyntaxError) as err:
            raise ValueError(f"cannot read {key}={text!r} as {_type_name(hints[key])}: {err}") from err
    return parsed


def parse_setting(hint: Any, text: str) -> Any:
    """Parse command-line text into a value of the type ``hint`` (bool, int, float, str, tuples, optionals)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if type(None) in options and text.lower() in ("none", "null", ""):
            return None
        (inner,) = [option for option in options if option is not type(None)]
        return parse_setting(inner, text)
    if origin is tuple:
        parts = [part for part in text.strip("()[] ").split(",") if part.strip()]
        args = typing.get_args(hint)
        if len(parts) != len(args):
            raise ValueError(f"expected {len(args)} comma-separated values")
        return tuple(parse_setting(arg, part.strip()) for arg, part in zip(args, parts))
    if hint is bool:
        lowered = text.lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise ValueError("expected true or false")
        return lowered in ("true", "1", "yes", "on")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            value = float(text)  # accepts 1e3; refuses 2.5 below
        if not value.is_integer():
            raise ValueError("expected an integer")
        return int(value)
    if hint is float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return value
    if hint is str:
        return text
    raise ValueError(f"unsupported setting type {hint!r}")


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
