"""How much memory a network would take, known before any of its tensors is allocated.

An architecture setting such as ``ngf=1000000`` (typed by hand, or written into a checkpoint's
metadata) would otherwise ask the allocator for tens of gigabytes, or hours of initialisation,
before anything can complain. The network is therefore first built on torch's ``meta`` device,
which records shapes and allocates nothing, and its size is compared with the machine's memory.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import torch
from torch import nn

from generators.registry import build_discriminator, build_generator, get_model

TRAINING_COPIES = 4  # weights, gradients and Adam's two moments of every trained tensor
MAX_SIZE_SETTING = 2**16  # no width, depth or latent size of these models comes near it


class ArchitectureTooLargeError(ValueError):
    """An architecture needs more memory than this machine has."""


def module_bytes(build: Callable[[], nn.Module]) -> int:
    """Bytes of the parameters and buffers of the module ``build()`` returns, built on ``meta``."""
    with torch.device("meta"):
        module = build()
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def memory_bytes() -> int | None:
    """This machine's physical memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def is_default_architecture(model: str, resolution: int, architecture: dict[str, Any]) -> bool:
    """Whether ``architecture`` leaves every size of ``model`` at its default for ``resolution``."""
    defaults = get_model(model).make_config(resolution)
    return all(getattr(defaults, key, object()) == value for key, value in architecture.items())


def check_fits(model: str, resolution: int, architecture: dict[str, Any], *, training: bool) -> int:
    """The estimated bytes of ``model`` built with ``architecture``; refused when memory cannot hold it.

    Evaluation holds the generator's weights; training also the discriminator, and gradients and
    Adam moments of both. Activations come on top, so the estimate is a lower bound.
    """
    too_big = sorted(key for key, value in architecture.items()
                     if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SIZE_SETTING)
    if too_big:
        values = ", ".join(f"{key}={architecture[key]}" for key in too_big)
        raise ArchitectureTooLargeError(f"{model} size setting(s) {values} exceed {MAX_SIZE_SETTING:,}; "
                                        "choose smaller sizes")
    needed = module_bytes(lambda: build_generator(model, resolution, **architecture))
    if training:
        needed += module_bytes(lambda: build_discriminator(model, resolution, **architecture))
        needed *= TRAINING_COPIES
    available = memory_bytes()
    if available is not None and needed > available:
        sizes = ", ".join(f"{key}={value}" for key, value in sorted(architecture.items())) or "default sizes"
        raise ArchitectureTooLargeError(
            f"{model} at {resolution} px with {sizes} needs at least {needed / 2**30:,.1f} GiB "
            f"{'to train' if training else 'for its weights'}, more than this machine's {available / 2**30:,.1f} GiB; "
            "choose smaller sizes"
        )
    return needed
