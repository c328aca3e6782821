"""``fmap_max`` for the models whose published widths have no cap of their own (SL-StyleGAN and
DCGAN): an optional most feature maps per layer, so that all three models can be narrowed by one
rule (StyleGAN's ``fmap_max`` is part of its published width formula)."""

from __future__ import annotations


def check_width_cap(model: str, fmap_max: object) -> None:
    """Refuse an ``fmap_max`` that is neither None nor a positive integer."""
    if fmap_max is not None and (isinstance(fmap_max, bool) or not isinstance(fmap_max, int) or fmap_max < 1):
        raise ValueError(f"{model} fmap_max must be a positive integer or None, got {fmap_max!r}")


def capped(channels: list[int], fmap_max: int | None) -> list[int]:
    """``channels`` with each entry at most ``fmap_max`` (unchanged for None)."""
    return channels if fmap_max is None else [min(c, fmap_max) for c in channels]
