"""Finding an external network's weights file and admitting it through the one safety gate.

Files are looked for the standard way: a folder given with ``--weights-dir`` first, then the
torch hub cache (``$TORCH_HOME/hub/checkpoints/``, where torch-fidelity and torchvision put
their downloads), under the publisher's file name. The file found is then checked and parsed by
:func:`generators.safe_io.load_external_weights`: its sha256 against
:mod:`slbench.features.known_weights`, its content without running any code. A file the user
names with ``--trust-weights`` skips the search and the hash table, never the weights-only
parsing. slbench never downloads: a missing file is an error that says where to get it and
where to put it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from generators.safe_io import UnsafeWeightsError, VerifiedWeights, load_external_weights
from slbench.errors import SlbenchError
from slbench.features.known_weights import KnownWeights


def hub_checkpoints_dir() -> Path:
    """Where torch hub keeps downloaded weights: ``$TORCH_HOME/hub/checkpoints``."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def search_dirs(weights_dir: str | Path | None = None, default_dirs: tuple[Path, ...] | None = None) -> list[Path]:
    """The folders looked in, in order: ``weights_dir`` (when given), then the defaults."""
    dirs = [Path(weights_dir)] if weights_dir else []
    return dirs + list(default_dirs if default_dirs is not None else (hub_checkpoints_dir(),))


def find_weights_file(
    entry: KnownWeights, weights_dir: str | Path | None = None, default_dirs: tuple[Path, ...] | None = None
) -> Path | None:
    """The first file under one of ``entry``'s names in the search folders, or None."""
    for folder in search_dirs(weights_dir, default_dirs):
        for name in entry.file_names:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def missing_weights_message(entry: KnownWeights, weights_dir: str | Path | None = None) -> str:
    target = Path(weights_dir) if weights_dir else hub_checkpoints_dir()
    return (
        f"weights file {entry.file_name} not found: download it from {entry.url} into {target} "
        "(or a folder passed with --weights-dir); --features lesion works offline"
    )


def load_known_weights(
    entry: KnownWeights,
    *,
    weights_dir: str | Path | None = None,
    trust_weights: str | Path | None = None,
    default_dirs: tuple[Path, ...] | None = None,
) -> VerifiedWeights:
    """Find ``entry``'s file (or take ``trust_weights``), check it and load it as plain tensors.

    Raises :class:`SlbenchError` with a one-line reason when the file is missing, its hash is
    wrong or unknown, or its content would need code to load.
    """
    if trust_weights is not None:
        path = Path(trust_weights)
        if not path.is_file():
            raise SlbenchError(f"--trust-weights file {path} does not exist; pass the path of a weights file")
        trusted = True
    else:
        found = find_weights_file(entry, weights_dir, default_dirs)
        if found is None:
            raise SlbenchError(missing_weights_message(entry, weights_dir))
        path, trusted = found, False
    try:
        return load_external_weights(path, expected_sha256=entry.sha256, trusted=trusted)
    except UnsafeWeightsError as err:
        raise SlbenchError(str(err)) from err
