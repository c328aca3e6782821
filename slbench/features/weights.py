"""Finding an external network's weights file and admitting it through the one safety gate.

Files are looked for the standard way: a folder given with ``--weights-dir`` first, then the
torch hub cache (``$TORCH_HOME/hub/checkpoints/``, where torch-fidelity and torchvision put
their downloads), under the publisher's file name. The file found is then checked and parsed by
:func:`generators.safe_io.load_external_weights`: its sha256 against
:mod:`slbench.features.known_weights`, its content without running any code. A file the user
names with ``--trust-weights`` skips the search and the hash table, never the weights-only
parsing; it is trusted for the network it belongs to, the one whose tensors it holds
(:func:`load_weights_for` offers every trusted file to the network that is loading and keeps
the first it can build from), so trusting an Inception file leaves LPIPS's AlexNet to its own
published file. slbench never downloads: a missing file is an error that says where to get it and
where to put it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, TypeVar

import torch

from generators.safe_io import UnsafeWeightsError, VerifiedWeights, load_external_weights
from slbench.errors import SlbenchError
from slbench.features.known_weights import KnownWeights


Built = TypeVar("Built")
TrustedFiles = str | Path | Iterable[str | Path] | None


def trusted_paths(trust_weights: TrustedFiles) -> list[Path]:
    """The ``--trust-weights`` files as a list (one path, several, or none)."""
    if trust_weights is None:
        return []
    if isinstance(trust_weights, (str, Path)):
        return [Path(trust_weights)]
    return [Path(path) for path in trust_weights]


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
    trusted_files = trusted_paths(trust_weights)
    if len(trusted_files) == 1:
        path = trusted_files[0]
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


def load_weights_for(
    entry: KnownWeights,
    build: Callable[[dict[str, torch.Tensor]], Built],
    *,
    weights_dir: str | Path | None = None,
    trust_weights: TrustedFiles = None,
    default_dirs: tuple[Path, ...] | None = None,
) -> tuple[VerifiedWeights, Built]:
    """The network ``build`` makes from ``entry``'s weights, and those weights.

    Each trusted file is offered first; the first one ``build`` accepts (no ``RuntimeError``,
    ``KeyError``, ``ValueError`` or :class:`SlbenchError`) is used and recorded as trusted. Files
    for other networks are left to them, and without a fitting one ``entry``'s own file is
    found and checked against its published hash as usual.
    """
    for path in trusted_paths(trust_weights):
        verified = load_known_weights(entry, trust_weights=path)
        try:
            return verified, build(verified.state_dict)
        except (RuntimeError, KeyError, ValueError, SlbenchError):
            continue
    verified = load_known_weights(entry, weights_dir=weights_dir, default_dirs=default_dirs)
    return verified, build(verified.state_dict)
