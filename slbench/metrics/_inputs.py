"""Checks and conversion shared by every metric: 2-D finite float features, enough samples.

Every metric takes feature arrays (numpy or torch, rows = samples) and turns them into float64
torch tensors on one device. A mistake the user can fix (wrong shape, NaN/Inf, too few samples)
raises :class:`~slbench.errors.SlbenchError` naming the set it concerns.
"""

from __future__ import annotations

from typing import Union

import numpy as np
import torch

from slbench.errors import SlbenchError

ArrayLike = Union[np.ndarray, torch.Tensor]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as given, else the first CUDA device when present, else the CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def as_features(x: ArrayLike, which: str, device: torch.device) -> torch.Tensor:
    """``x`` as an N x D float64 tensor on ``device``; ``which`` names the set in error messages."""
    if isinstance(x, torch.Tensor):
        tensor = x.detach()
    else:
        array = np.asarray(x)
        if array.dtype.kind not in "biuf":
            raise SlbenchError(f"{which} features must be numbers; got an array of dtype {array.dtype}")
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.is_complex() or tensor.dtype == torch.bool:
        raise SlbenchError(f"{which} features must be real numbers; got dtype {tensor.dtype}")
    if tensor.ndim != 2:
        raise SlbenchError(
            f"{which} features must be a 2-D array (samples x dimensions); got shape {tuple(tensor.shape)}"
        )
    if tensor.shape[0] == 0 or tensor.shape[1] == 0:
        raise SlbenchError(f"{which} features are empty (shape {tuple(tensor.shape)}); provide at least one sample")
    tensor = tensor.to(device=device, dtype=torch.float64)
    bad_rows = (~torch.isfinite(tensor)).any(dim=1).nonzero().flatten()
    if bad_rows.numel():
        shown = ", ".join(str(int(i)) for i in bad_rows[:5])
        more = " ..." if bad_rows.numel() > 5 else ""
        raise SlbenchError(
            f"{which} features contain NaN or Inf in {bad_rows.numel()} of {tensor.shape[0]} rows "
            f"(rows {shown}{more}); check the images and the feature extraction for those samples"
        )
    return tensor


def check_same_dim(a: torch.Tensor, a_name: str, b: torch.Tensor, b_name: str) -> None:
    """Both sets live in one feature space."""
    if a.shape[1] != b.shape[1]:
        raise SlbenchError(
            f"{a_name} features have {a.shape[1]} dimensions but {b_name} features have {b.shape[1]}; "
            "extract both sets with the same extractor"
        )


def feature_pair(
    reference: ArrayLike, fake: ArrayLike, device: str | torch.device | None, *, reference_name: str = "real"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sets checked (:func:`as_features`) and in one feature space, on the resolved device."""
    dev = resolve_device(device)
    reference_t, fake_t = as_features(reference, reference_name, dev), as_features(fake, "fake", dev)
    check_same_dim(reference_t, reference_name, fake_t, "fake")
    return reference_t, fake_t


def require_samples(n: int, needed: int, which: str, purpose: str) -> None:
    """At least ``needed`` samples in a set, or a message that says how many ``purpose`` needs."""
    if n < needed:
        raise SlbenchError(f"{purpose} needs at least {needed} {which} samples; got {n}")


def check_positive_int(value: int, name: str, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise SlbenchError(f"{name} must be an integer of at least {minimum}; got {value!r}")
    return int(value)
