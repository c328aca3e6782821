"""Checkpoints: safetensors weights plus JSON metadata, written atomically, never unpickled.

A checkpoint is a pair ``step-0001000.safetensors`` (every tensor: generator, discriminator,
the generator's moving average, optimiser moments) and ``step-0001000.json`` (model, resolution,
category, config, step, images seen, data fingerprint and split, seed, package versions, RNG
states, the optimisers' non-tensor state, and the sha256 of the weights file, which binds the
pair). A folder of checkpoints holds a text file ``latest`` naming the newest; every file is
written to a temporary name and renamed into place, weights first, then metadata, then
``latest``, so a reader never sees a half-written checkpoint. Only the newest ``keep_last`` are
kept.

As in diffusers' ``save_pretrained`` and unlike StyleGAN's pickles, loading runs no code from the
file: a pickle is refused before anything in it is read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from generators.registry import MODELS, build_generator, get_model
from generators.sizing import check_fits, is_default_architecture
from generators.safe_io import (
    UnsafeWeightsError,
    atomic_write_json,
    atomic_write_text,
    load_safetensors,
    save_safetensors,
    sha256_file,
)

FORMAT = "slbench-checkpoint/1"
LATEST = "latest"
COUNTER_MAX = 2**63 - 1
"""The largest step, image count or seed a checkpoint may record: what the int64 columns of result
tables and torch's generators hold."""

_NAME = re.compile(r"^step-(\d+)$")


class CheckpointError(ValueError):
    """A checkpoint is missing, refused (a pickle), corrupt, truncated or inconsistent."""


def checkpoint_name(step: int) -> str:
    """The file stem of the checkpoint after ``step`` steps."""
    return f"step-{step:07d}"


def save_checkpoint(directory: str | Path, step: int, tensors: Mapping[str, torch.Tensor],
                    metadata: Mapping[str, Any], *, keep_last: int = 3) -> Path:
    """Write one checkpoint, point ``latest`` at it and delete all but the newest ``keep_last``."""
    directory = Path(directory)
    name = checkpoint_name(step)
    weights = _save_weights(directory / f"{name}.safetensors", tensors)
    record = {**metadata, "format": FORMAT, "weights_file": weights.name,
              "weights_sha256": sha256_file(weights)}
    atomic_write_json(directory / f"{name}.json", record)
    atomic_write_text(directory / LATEST, name + "\n")
    for _, old in list_checkpoints(directory)[:-keep_last]:
        old.with_suffix(".json").unlink(missing_ok=True)
        old.unlink(missing_ok=True)
    return weights


def list_checkpoints(directory: str | Path) -> list[tuple[int, Path]]:
    """``(step, weights path)`` of every complete checkpoint in a folder, oldest first."""
    found = []
    for meta in Path(directory).glob("step-*.json"):
        match = _NAME.match(meta.stem)
        weights = meta.with_suffix(".safetensors")
        if match and weights.is_file():
            found.append((int(match.group(1)), weights))
    return sorted(found)


def resolve_checkpoint(path: str | Path) -> Path:
    """The weights file meant by a checkpoint file, its metadata file, or a folder's ``latest``."""
    path = Path(path)
    if path.is_dir():
        pointer = path / LATEST
        if not pointer.is_file():
            raise CheckpointError(f"{path} holds no checkpoint (no '{LATEST}' file); give a checkpoint file or folder")
        path = path / f"{pointer.read_text(encoding='utf-8').strip()}.safetensors"
    elif path.suffix == ".json":
        path = path.with_suffix(".safetensors")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; give a checkpoint file or folder")
    return path


def read_checkpoint_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of a checkpoint alone (its weights are neither read nor checked)."""
    return _read_metadata(resolve_checkpoint(path).with_suffix(".json"))


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """All tensors and the metadata of a checkpoint, checked against each other.

    The metadata is read and validated before a tensor is; the tensors then cannot take more
    memory than the weights file's own size.
    """
    weights = resolve_checkpoint(path)
    metadata = _read_metadata(weights.with_suffix(".json"))
    try:
        tensors = load_safetensors(weights)
    except UnsafeWeightsError as err:
        raise CheckpointError(f"checkpoint refused: {err}") from err
    if metadata.get("weights_sha256") != sha256_file(weights):
        raise CheckpointError(f"{weights} does not match the sha256 in its metadata: the pair is corrupt or mixed up")
    return tensors, metadata


def load_checkpoint(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """A ready generator (eval mode; the moving average where the model keeps one) and its metadata.

    A network saved before it finished growing samples at its recorded stage and fade-in by
    default (:func:`growth_sampling_options`).

    ``path`` is a checkpoint's ``.safetensors`` or ``.json`` file, or a folder (its ``latest``).
    """
    tensors, metadata = read_checkpoint(path)
    try:
        generator = build_generator(metadata["model"], metadata["resolution"], **metadata.get("architecture", {}))
    except (KeyError, ValueError, TypeError) as err:
        raise CheckpointError(f"cannot rebuild the generator of {path}: {err}") from err
    prefix = "G_ema." if any(key.startswith("G_ema.") for key in tensors) else "G."
    load_module_state(generator, tensors, prefix, source=path)
    generator.set_default_sampling(**growth_sampling_options(metadata))
    return generator.eval(), metadata


def growth_sampling_options(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``stage``/``alpha`` sampling options of a checkpoint saved before its network finished growing.

    A progressive StyleGAN saved mid-growth has trained only the blocks up to its recorded stage
    (the newest fading in with weight ``alpha``); the layers above are still at their
    initialisation, so it is sampled as it was training: at its stage, then upscaled to the
    full resolution by pixel repetition, as the official code shows lower levels of detail.
    A fully grown network (or a model that never grows) gets no options."""
    growth = metadata.get("growth") or {}
    resolution, stage, alpha = metadata.get("resolution"), growth.get("stage"), growth.get("alpha", 1.0)
    if not isinstance(stage, int) or not isinstance(resolution, int) or (stage >= resolution and alpha >= 1.0):
        return {}
    return {"stage": stage, "alpha": float(alpha)}


def growth_stage_text(metadata: Mapping[str, Any]) -> str:
    """``"16 px, fade-in 0.50"`` (or ``"16 px"``) for a checkpoint saved mid-growth; ``""`` otherwise."""
    options = growth_sampling_options(metadata)
    if not options:
        return ""
    fade = f", fade-in {options['alpha']:.2f}" if options["alpha"] < 1.0 else ""
    return f"{options['stage']} px{fade}"


def non_finite_tensors(tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """The names of the floating-point tensors holding a NaN or an infinity, in order."""
    return [name for name, tensor in tensors.items()
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]


def module_tensors(module: nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    """A module's parameters and persistent buffers under ``prefix``, detached."""
    return {prefix + key: value.detach() for key, value in module.state_dict().items()}


def load_module_state(module: nn.Module, tensors: Mapping[str, torch.Tensor], prefix: str, *,
                      source: str | Path) -> None:
    """Load the tensors under ``prefix`` into ``module``, all of them and nothing else."""
    state = {key[len(prefix):]: value for key, value in tensors.items() if key.startswith(prefix)}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        lines = [line.strip() for line in str(err).strip().splitlines()]
        detail = lines[1] if len(lines) > 1 else lines[0]
        raise CheckpointError(f"{source} does not fit the model it names ({detail})") from err


def _save_weights(path: Path, tensors: Mapping[str, torch.Tensor]) -> Path:
    return save_safetensors(path, tensors, metadata={"format": FORMAT})


def _read_metadata(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"checkpoint metadata {path} is missing; a checkpoint needs its .json beside it")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"checkpoint metadata {path} is not valid JSON ({err}): it is corrupt or truncated") from err
    except RecursionError:
        raise CheckpointError(f"checkpoint metadata {path} is nested too deeply to be slbench's") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not slbench checkpoint metadata (format {FORMAT!r} expected)")
    check_metadata(metadata, path)
    return metadata


def check_metadata(metadata: Mapping[str, Any], path: str | Path) -> None:
    """Refuse metadata whose model, resolution, architecture or counters are of the wrong type or range,
    or whose architecture would not fit in memory, before any tensor is allocated for it."""
    def refuse(what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint metadata {path}: {what}; the file is damaged or was edited")

    model, resolution = metadata.get("model"), metadata.get("resolution")
    if not isinstance(model, str) or model not in MODELS:
        raise refuse(f"model {model!r} is not one of {', '.join(MODELS)}")
    if type(resolution) is not int or resolution not in get_model(model).resolutions:
        raise refuse(f"resolution {resolution!r} is not one {model} supports")
    architecture = metadata.get("architecture", {})
    if not isinstance(architecture, dict):
        raise refuse(f"architecture {architecture!r} is not a mapping of settings")
    for key in ("step", "images_seen", "seed"):
        value = metadata.get(key, 0)
        if type(value) is not int or not 0 <= value <= COUNTER_MAX:
            raise refuse(f"{key} {value!r} is not an integer from 0 to {COUNTER_MAX}")
    category = metadata.get("category")
    if category is not None and not isinstance(category, str):
        raise refuse(f"category {category!r} is not a class name")
    try:
        get_model(model).make_config(resolution, **architecture)
        if not is_default_architecture(model, resolution, architecture):
            check_fits(model, resolution, architecture, training=False)
    except (TypeError, ValueError) as err:
        raise refuse(str(err)) from None
