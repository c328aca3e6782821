"""Small stand-ins for the published weights files, built by the tests themselves (offline).

* a pickle that creates a marker file when unpickled (what a malicious weights file does);
* random-initialised networks saved as plain state dicts under the published file names;
* registering such a file's sha256 in slbench's known-weights table for one test.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import torch
import torchvision

from generators.safe_io import sha256_file
from slbench.features.known_weights import KNOWN_WEIGHTS


class MarkerPayload:
    """Unpickling this calls ``open(marker, "w")``: the marker file appears iff code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write_marker_pickle(path: Path, marker: Path, *, container: str = "torch") -> Path:
    """A weights-looking file whose loading would create ``marker``: torch's zip format or a raw pickle."""
    payload = {"weight": torch.zeros(2), "bias": MarkerPayload(marker)}
    path.parent.mkdir(parents=True, exist_ok=True)
    if container == "torch":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    return path


def register_known(monkeypatch, key: str, path: Path) -> str:
    """Make ``path``'s sha256 the published hash of ``KNOWN_WEIGHTS[key]`` for this test."""
    digest = sha256_file(path)
    monkeypatch.setitem(KNOWN_WEIGHTS, key, dataclasses.replace(KNOWN_WEIGHTS[key], sha256=digest))
    return digest


def random_inception_state() -> dict[str, torch.Tensor]:
    """The state dict of a random-initialised torch-fidelity Inception (built without any weights file)."""
    import torch_fidelity.feature_extractor_inceptionv3 as inception_module
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class Untrained(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            return None

    original = inception_module.load_state_dict_from_url
    inception_module.load_state_dict_from_url = lambda *args, **kwargs: {}
    try:
        net = Untrained("inception-v3-compat", ["2048"])
    finally:
        inception_module.load_state_dict_from_url = original
    return {name: tensor.clone() for name, tensor in net.state_dict().items()}


def random_alexnet_state() -> dict[str, torch.Tensor]:
    """torchvision AlexNet's convolution weights, random (the part LPIPS uses)."""
    torch.manual_seed(1)
    features = torchvision.models.alexnet().features
    return {f"features.{name}": tensor for name, tensor in features.state_dict().items()}
