"""Checkpoint files: round trip, ``latest``, pruning, and refusal of pickles and damaged files."""

from __future__ import annotations

import json

import pytest
import torch

from generators import build_generator, load_checkpoint
from generators.checkpoint import (
    CheckpointError,
    list_checkpoints,
    module_tensors,
    read_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
)

ARCHITECTURE = {"ngf": 4, "ndf": 4}


def _metadata(step: int) -> dict:
    return {"model": "dcgan", "resolution": 32, "category": "MEL", "architecture": ARCHITECTURE, "step": step}


def _save(folder, step: int, generator=None, keep_last: int = 3):
    generator = generator or build_generator("dcgan", 32, **ARCHITECTURE)
    return save_checkpoint(folder, step, module_tensors(generator, "G."), _metadata(step), keep_last=keep_last)


class _WritesMarker:
    """Unpickling this object would create a file: the proof that a loader ran code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_saved_generator_loads_ready_with_the_same_samples(tmp_path):
    generator = build_generator("dcgan", 32, **ARCHITECTURE)
    with torch.no_grad():
        generator.main[1].running_mean.add_(0.5)  # buffers travel with the weights
    path = _save(tmp_path, 5, generator)
    loaded, metadata = load_checkpoint(path)
    assert not loaded.training
    assert metadata["step"] == 5 and metadata["weights_sha256"]
    assert torch.equal(loaded.main[1].running_mean, generator.main[1].running_mean)
    assert torch.equal(loaded.sample(3, seed=4), generator.sample(3, seed=4))


def test_a_folder_resolves_to_its_latest_and_only_the_last_k_are_kept(tmp_path):
    for step in (1, 2, 3, 4):
        _save(tmp_path, step, keep_last=2)
    assert [step for step, _ in list_checkpoints(tmp_path)] == [3, 4]
    assert not (tmp_path / "step-0000001.json").exists()
    assert (tmp_path / "latest").read_text().strip() == "step-0000004"
    assert resolve_checkpoint(tmp_path) == tmp_path / "step-0000004.safetensors"
    assert resolve_checkpoint(tmp_path / "step-0000003.json") == tmp_path / "step-0000003.safetensors"
    assert load_checkpoint(tmp_path)[1]["step"] == 4
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize("name", ["step-0000001.safetensors", "model.pt"])
def test_a_pickle_is_refused_without_running_it(tmp_path, name):
    _save(tmp_path, 1)
    marker = tmp_path / "marker"
    target = tmp_path / name
    torch.save({"G.main.0.weight": _WritesMarker(str(marker))}, target)
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(target)
    assert not marker.exists()


def test_a_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = _save(tmp_path, 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(tmp_path)


def test_changed_weights_no_longer_match_their_metadata(tmp_path):
    path = _save(tmp_path, 1)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # a flipped bit in the last tensor: still a readable file
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path)


@pytest.mark.parametrize("damage", ["missing", "garbled"])
def test_missing_or_garbled_metadata_is_a_clear_error(tmp_path, damage):
    path = _save(tmp_path, 1)
    meta = path.with_suffix(".json")
    if damage == "missing":
        meta.unlink()
    else:
        meta.write_text(meta.read_text()[:40])
    with pytest.raises(CheckpointError, match="missing" if damage == "missing" else "not valid JSON"):
        read_checkpoint(path)


def test_paths_without_a_checkpoint_are_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere.safetensors")
    with pytest.raises(CheckpointError, match="no 'latest'"):
        load_checkpoint(tmp_path)


def test_weights_of_another_architecture_are_refused(tmp_path):
    path = _save(tmp_path, 1)
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["architecture"] = {"ngf": 8, "ndf": 4}
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(path)


def test_a_header_length_that_starts_with_a_pickle_byte_still_loads(tmp_path):
    """A safetensors header length of 128 mod 256 starts the file with 0x80, a pickle's first
    byte; among these tensor names some hit that case, and each still saves and loads."""
    hits = 0
    for length in range(1, 40):
        tensors = {"t" * length: torch.zeros(2)}
        folder = tmp_path / str(length)
        path = save_checkpoint(folder, 1, tensors, _metadata(1))
        hits += path.read_bytes()[0] == 0x80
        assert torch.equal(read_checkpoint(path)[0]["t" * length], torch.zeros(2))
    assert hits > 0
