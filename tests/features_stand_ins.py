"""Small stand-ins for the published weights files, built by the tests themselves (offline).

* a pickle that creates a marker file when unpickled (what a malicious weights file does);
* random-initialised networks (or tiny ones in the same format) to save as plain state dicts;
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


def tiny_clip_state() -> dict[str, torch.Tensor]:
    """A CLIP-format state dict (ViT, 32 px, width 64, one layer, 16-d) plus text-side keys CLIP files carry."""
    from torch_fidelity.feature_extractor_clip import CLIPVisual

    visual = CLIPVisual(embed_dim=16, image_resolution=32, vision_layers=1, vision_width=64, vision_patch_size=16)
    state = dict(visual.state_dict())
    state.update({
        "text_projection": torch.randn(24, 16), "logit_scale": torch.tensor(4.6),
        "transformer.resblocks.0.ln_1.weight": torch.ones(24), "input_resolution": torch.tensor(32),
    })
    return state
