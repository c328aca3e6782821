"""Small stand-ins for the published weights files, built by the tests themselves (offline).

* a pickle that creates a marker file when unpickled (what a malicious weights file does);
* random-initialised networks (or tiny ones in the same format) to save as plain state dicts;
* a DINOv2 hub repository whose ``dinov2_vitl14`` is a tiny position-sensitive network;
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


def tiny_clip_visual(resolution: int = 32, patch_size: int = 16):
    """torch-fidelity's CLIP image tower, random, tiny (width 64, one layer, 16-d) at ``resolution``."""
    from torch_fidelity.feature_extractor_clip import CLIPVisual

    return CLIPVisual(embed_dim=16, image_resolution=resolution, vision_layers=1, vision_width=64,
                      vision_patch_size=patch_size)


def tiny_clip_state(resolution: int = 32, patch_size: int = 16) -> dict[str, torch.Tensor]:
    """A CLIP-format state dict (see :func:`tiny_clip_visual`) plus text-side keys CLIP files carry."""
    visual = tiny_clip_visual(resolution, patch_size)
    state = dict(visual.state_dict())
    state.update({
        "text_projection": torch.randn(24, 16), "logit_scale": torch.tensor(4.6),
        "transformer.resblocks.0.ln_1.weight": torch.ones(24), "input_resolution": torch.tensor(resolution),
    })
    return state


DINOV2_HUBCONF = '''
import torch


class TinyViT(torch.nn.Module):
    """Patch embedding and a head over the first patches: the output depends on where pixels are."""

    def __init__(self):
        super().__init__()
        self.embed_dim = 6
        self.patch = torch.nn.Conv2d(3, 6, 14, stride=14)
        self.head = torch.nn.Linear(6, 6)

    def forward(self, x):
        return self.head(self.patch(x).flatten(2)[:, :, :5].sum(-1))


def dinov2_vitl14(pretrained=True):
    assert not pretrained, "slbench must not let the hub code fetch weights itself"
    return TinyViT()
'''


def write_dinov2_hub_repo(repo_dir: Path) -> Path:
    """A DINOv2 hub repository (``hubconf.py``) whose network is :data:`DINOV2_HUBCONF`'s ``TinyViT``."""
    repo_dir.mkdir(parents=True, exist_ok=True)
    (repo_dir / "hubconf.py").write_text(DINOV2_HUBCONF)
    return repo_dir


def tiny_dinov2_state(seed: int = 4) -> dict[str, torch.Tensor]:
    """Random tensors for :data:`DINOV2_HUBCONF`'s ``TinyViT``."""
    generator = torch.Generator().manual_seed(seed)
    shapes = {"patch.weight": (6, 3, 14, 14), "patch.bias": (6,), "head.weight": (6, 6), "head.bias": (6,)}
    return {name: torch.randn(shape, generator=generator) * 0.05 for name, shape in shapes.items()}
