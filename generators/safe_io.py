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

import collections
import hashlib
import io
import json
import os
import pickle
import re
import secrets
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

PICKLE_MAGICS = (b"\x80", b"PK\x03\x04")  # a raw pickle (protocol 2+) or torch's zip container


class UnsafeWeightsError(ValueError):
    """A weights file was refused: wrong hash, a pickle that needs code, or not the expected format."""


PARTIAL_SUFFIX = ".partial"
_PARTIAL = re.compile(r"^\..+\.(?:[0-9a-f]{16}\.partial|[a-z0-9_]{8}\.tmp)$")
"""Temporary names of :func:`atomic_write_bytes` (and the ``mkstemp`` names earlier versions used)."""


def create_new_file(path: Path) -> int:
    """A descriptor of ``path``, created for writing (never an existing file), mode 0666 less the umask."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *more: bytes) -> Path:
    """Write ``data`` (followed by the ``more`` chunks, if any) to ``path`` through a temporary
    file and an atomic rename.

    The temporary file is created with mode 0666 less the umask, as ``open`` would create the
    file itself (``tempfile.mkstemp`` makes it 0600, which a colleague sharing the folder
    could not read). A process killed mid-write leaves ``.<name>.<random>.partial`` behind;
    :func:`remove_partial_writes` clears those.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}{PARTIAL_SUFFIX}"
    try:
        descriptor = create_new_file(tmp)
        with os.fdopen(descriptor, "wb") as handle:
            for chunk in (data, *more):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def new_folder_beside(parent: str | os.PathLike, prefix: str) -> Path:
    """A new, empty folder ``<parent>/<prefix><random>`` with mode 0777 less the umask
    (``tempfile.mkdtemp`` makes it 0700), for staging what is renamed into place later."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    while True:
        folder = parent / f"{prefix}{secrets.token_hex(8)}"
        try:
            os.mkdir(folder, 0o777)
            return folder
        except FileExistsError:
            continue


def is_partial_write(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named like the temporary file of an atomic write."""
    return bool(_PARTIAL.match(Path(path).name))


def remove_partial_writes(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that interrupted atomic writes left in ``folder`` and its
    direct subfolders; returns them. Call it only while holding the folder's lock
    (:func:`generators.folder_lock.folder_lock`), when no write of ours can be in flight there."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    places = [folder] + [child for child in folder.iterdir() if child.is_dir() and not child.is_symlink()]
    removed = []
    for place in places:
        for entry in place.iterdir():
            if is_partial_write(entry) and entry.is_file() and not entry.is_symlink():
                entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed


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
    return load_safetensors_with_metadata(path)[0]


def load_safetensors_with_metadata(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read a safetensors file's tensors and its string metadata from one read of the file.

    Reading the bytes once means the tensors and the metadata always come from the same
    version of the file, even while another process atomically replaces it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    data = path.read_bytes()
    if not _has_safetensors_header(data) and data.startswith(PICKLE_MAGICS):
        raise UnsafeWeightsError(
            f"{path} is a pickle, not safetensors: refused, since loading it could run code"
        )
    try:
        tensors = load(data)
        (header_size,) = struct.unpack("<Q", data[:8])
        metadata = json.loads(data[8 : 8 + header_size]).get("__metadata__") or {}
    except (SafetensorError, OSError, ValueError, struct.error) as err:
        raise UnsafeWeightsError(
            f"{path} is not a readable safetensors file ({err}): it is corrupt or truncated"
        ) from err
    return tensors, dict(metadata)


def _has_safetensors_header(data: bytes) -> bool:
    """True when ``data`` opens with a safetensors header: a little-endian length, then JSON.

    The length's first byte can be 0x80, a pickle's opening byte, so the pickle guard asks this
    first rather than judging a file by its first byte alone.
    """
    if len(data) < 9:
        return False
    (header_size,) = struct.unpack("<Q", data[:8])
    return 8 + header_size <= len(data) and data[8:9] == b"{"


def verify_sha256(path: str | os.PathLike, expected_sha256: str) -> str:
    """Check a file against a full sha256 or a leading hex prefix (as torch hub names carry)."""
    actual = sha256_file(path)
    _check_digest(Path(path), actual, expected_sha256)
    return actual


def _check_digest(path: Path, actual: str, expected_sha256: str) -> None:
    expected = expected_sha256.lower()
    if not actual.startswith(expected):
        raise UnsafeWeightsError(
            f"{path} has sha256 {actual[:16]}..., expected {expected}: refused; "
            "replace it with the published file"
        )


def torch_load_weights_only(
    source: str | os.PathLike | bytes, map_location: str | torch.device = "cpu"
) -> Any:
    """``torch.load`` restricted to tensors and plain containers: a pickle that needs code is refused.

    ``source`` is a path or the file's bytes (so a file hashed from memory is loaded from the
    very same bytes).
    """
    name = "the weights" if isinstance(source, bytes) else str(source)
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        return torch.load(handle, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError or others for unsafe content
        raise UnsafeWeightsError(
            f"{name} cannot be loaded as plain weights ({type(err).__name__}): refused, since it needs code to load"
        ) from err


@dataclass(frozen=True)
class VerifiedWeights:
    """An external network's weights after the check: where they came from and what they are."""

    path: Path
    sha256: str
    state_dict: dict[str, torch.Tensor]
    trusted_by_user: bool


def load_external_weights(
    path: str | os.PathLike, *, expected_sha256: str | None, trusted: bool = False
) -> VerifiedWeights:
    """The one gate for a weights file slbench did not write.

    The file is read once; its sha256 must start with ``expected_sha256`` (a full hash or the
    hex prefix a torch hub file name carries) unless the user trusted this file explicitly
    (``trusted``). The same bytes are then parsed without running code: a torch file with
    ``torch.load(weights_only=True)``, a TorchScript archive (CLIP's format) with a restricted
    reader that keeps its tensors and ignores its code. The result must be a flat mapping of
    names to tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if not trusted:
        if not expected_sha256:
            raise UnsafeWeightsError(
                f"{path} has sha256 {actual} and no published hash is known for it: refused; "
                f"check the file and pass --trust-weights {path} to use it"
            )
        _check_digest(path, actual, expected_sha256)
    if _is_torchscript_archive(data):
        state = load_torchscript_tensors(data, name=str(path))
    else:
        state = torch_load_weights_only(data)
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise UnsafeWeightsError(f"{path} is not a plain state dict (names to tensors): refused")
    return VerifiedWeights(path=path, sha256=actual, state_dict=dict(state), trusted_by_user=trusted)


def _is_torchscript_archive(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False
    return any(name.count("/") == 1 and name.endswith("/constants.pkl") for name in names)


class _ScriptObjectRecord:
    """Inert stand-in for a TorchScript class instance: keeps its attributes, runs nothing."""

    __slots__ = ("attributes",)

    def __setstate__(self, state: Any) -> None:
        self.attributes = state if isinstance(state, dict) else {}


def _rebuild_tensor(storage: torch.Tensor, offset: int, size: tuple, stride: tuple, *_: Any) -> torch.Tensor:
    return torch.as_strided(storage, size, stride, offset)


def _identity_list(values: Any) -> list:
    return list(values)


def _drop_type_tag(value: Any, _tag: Any) -> Any:
    return value


_TORCHSCRIPT_FUNCTIONS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch.jit._pickle", "build_intlist"): _identity_list,
    ("torch.jit._pickle", "build_doublelist"): _identity_list,
    ("torch.jit._pickle", "build_boollist"): _identity_list,
    ("torch.jit._pickle", "build_tensorlist"): _identity_list,
    ("torch.jit._pickle", "restore_type_tag"): _drop_type_tag,
}
_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class _TorchScriptUnpickler(pickle.Unpickler):
    """Reads a TorchScript ``data.pkl`` admitting only tensors, plain containers and inert records.

    Every global the stream names is looked up in a fixed table of harmless functions; a
    TorchScript class (``__torch__.*``) becomes a :class:`_ScriptObjectRecord`. Anything else
    (``os.system``, ``builtins.open``, ...) is refused before it could be called.
    """

    def __init__(self, stream: io.BytesIO, archive: zipfile.ZipFile, prefix: str, name: str) -> None:
        super().__init__(stream)
        self._archive, self._prefix, self._name = archive, prefix, name
        self._storages: dict[str, torch.Tensor] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "__torch__" or module.startswith("__torch__."):
            return _ScriptObjectRecord
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if (module, name) in _TORCHSCRIPT_FUNCTIONS:
            return _TORCHSCRIPT_FUNCTIONS[(module, name)]
        raise UnsafeWeightsError(f"{self._name} names {module}.{name}: refused, since loading it could run code")

    def persistent_load(self, pid: Any) -> torch.Tensor:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], torch.dtype)):
            raise UnsafeWeightsError(f"{self._name} has an unexpected storage record: refused")
        _, dtype, key, _location, numel = pid
        if key not in self._storages:
            raw = bytearray(self._archive.read(f"{self._prefix}/data/{key}"))
            storage = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
            if storage.numel() != numel:
                raise UnsafeWeightsError(f"{self._name} storage {key} has the wrong size: refused")
            self._storages[key] = storage
        return self._storages[key]


def load_torchscript_tensors(data: bytes, *, name: str = "the archive") -> dict[str, torch.Tensor]:
    """The tensors of a TorchScript archive, named as its ``state_dict()`` would name them.

    Nothing in the archive runs: its code files are never read, and its pickled module tree is
    parsed by :class:`_TorchScriptUnpickler`.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        (entry,) = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        prefix = entry.split("/")[0]
        root = _TorchScriptUnpickler(io.BytesIO(archive.read(entry)), archive, prefix, name).load()
    except UnsafeWeightsError:
        raise
    except Exception as err:
        raise UnsafeWeightsError(
            f"{name} is not a readable TorchScript archive ({type(err).__name__}): refused"
        ) from err
    tensors: dict[str, torch.Tensor] = {}
    _collect_tensors(root, "", tensors)
    return tensors


def _collect_tensors(record: Any, prefix: str, out: dict[str, torch.Tensor]) -> None:
    if not isinstance(record, _ScriptObjectRecord):
        return
    for key, value in getattr(record, "attributes", {}).items():
        if isinstance(value, torch.Tensor):
            out[prefix + key] = value
        elif isinstance(value, _ScriptObjectRecord):
            _collect_tensors(value, f"{prefix}{key}.", out)
