"""Files that are never half-written and weights that never run code.

Every weights file slbench reads goes through this module: its own checkpoints, its
``lesion`` extractors, its feature caches, and the external networks (Inception, AlexNet,
VGG16, CLIP, DINOv2) before they reach torch-fidelity, lpips or torchvision. The rule:

* slbench's own artefacts are safetensors plus JSON; nothing is ever unpickled from them;
* an external ``.pth`` is admitted only when its sha256 matches a published hash (or the
  user trusted it explicitly), and even then it is read with ``torch.load(weights_only=True)``,
  which refuses any pickle that would need to import or call code;
* every write goes to a temporary file in the same folder and is renamed into place, so a
  reader sees the old file or the new one, never a torn one.

This module lives in :mod:`generators` because it is the lowest layer: the harness uses it
too, and nothing here knows about metrics or models.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

PICKLE_MAGICS = (b"\x80", b"PK\x03\x04")  # a raw pickle (protocol 2+) or torch's zip container


class UnsafeWeightsError(ValueError):
    """A weights file was refused: wrong hash, a pickle that needs code, or not the expected format."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_safetensors(
    path: str | os.PathLike, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> Path:
    """Atomically write tensors (made contiguous, on CPU) as a safetensors file."""
    plain = {name: t.detach().to("cpu").contiguous() for name, t in tensors.items()}
    return atomic_write_bytes(path, save(plain, metadata=dict(metadata) if metadata else None))


def load_safetensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a safetensors file; a pickle or a corrupt file is refused with a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith(PICKLE_MAGICS):
        raise UnsafeWeightsError(
            f"{path} is a pickle, not safetensors: refused, since loading it could run code"
        )
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise UnsafeWeightsError(f"{path} is not a readable safetensors file ({err}): it is corrupt or truncated") from err


def verify_sha256(path: str | os.PathLike, expected_sha256: str) -> str:
    """Check a file against a full sha256 or a leading hex prefix (as torch hub names carry)."""
    actual = sha256_file(path)
    expected = expected_sha256.lower()
    if not actual.startswith(expected):
        raise UnsafeWeightsError(
            f"{path} has sha256 {actual[:16]}..., expected {expected[:16]}...: refused; "
            "replace it with the published file"
        )
    return actual


def torch_load_weights_only(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load`` restricted to tensors and plain containers: a pickle that needs code is refused."""
    try:
        return torch.load(str(path), map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError or others for unsafe content
        raise UnsafeWeightsError(
            f"{path} cannot be loaded as plain weights ({type(err).__name__}): refused, since it needs code to load"
        ) from err
