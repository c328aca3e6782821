"""LPIPS (AlexNet) built from verified weights equals the lpips package's own construction."""

from __future__ import annotations

import lpips
import pytest
import torch
import torchvision

from features_stand_ins import random_alexnet_state, register_known
from generators.safe_io import sha256_file
from slbench.errors import SlbenchError
from slbench.features import load_lpips
from slbench.features import lpips_net
from slbench.features.known_weights import KNOWN_WEIGHTS

ALEXNET_FILE = KNOWN_WEIGHTS["alexnet"].file_name


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def alexnet_state():
    return random_alexnet_state()


@pytest.fixture
def alexnet_file(tmp_path, monkeypatch, alexnet_state):
    path = tmp_path / ALEXNET_FILE
    torch.save(alexnet_state, path)
    register_known(monkeypatch, "alexnet", path)
    return path


def lpips_the_package_way(alexnet_state, monkeypatch) -> lpips.LPIPS:
    """lpips' own constructor, its torchvision AlexNet swapped for one holding ``alexnet_state``."""
    backbone = torchvision.models.alexnet()
    backbone.load_state_dict(alexnet_state, strict=False)
    monkeypatch.setattr(lpips.pretrained_networks.tv, "alexnet", lambda *args, **kwargs: backbone)
    return lpips.LPIPS(net="alex", verbose=False).eval()


def test_matches_the_lpips_package_on_the_same_weights(alexnet_file, alexnet_state, monkeypatch):
    ours = load_lpips(weights_dir=alexnet_file.parent)
    reference = lpips_the_package_way(alexnet_state, monkeypatch)
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(4, 3, 32, 32, generator=generator) * 2 - 1
    b = torch.rand(4, 3, 32, 32, generator=generator) * 2 - 1
    with torch.inference_mode():
        distance, expected = ours(a, b).flatten(), reference(a, b).flatten()
        same = ours(a, a).flatten()
    torch.testing.assert_close(distance, expected)
    assert (distance > 0).all() and torch.allclose(same, torch.zeros(4), atol=1e-7)
    assert ours.weights_sha256 == {
        "alexnet": sha256_file(alexnet_file),
        "lpips-linear": KNOWN_WEIGHTS["lpips-alex-lin"].sha256,
    }
    assert ours.trusted_by_user is False and not ours.training
    assert not any(p.requires_grad for p in ours.parameters())


def test_missing_alexnet_names_file_and_folder():
    with pytest.raises(SlbenchError, match=f"weights file {ALEXNET_FILE} not found: download it from "
                                           "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth into "):
        load_lpips()


def test_tampered_linear_layers_are_refused(alexnet_file, tmp_path, monkeypatch):
    fake = tmp_path / "lpips-weights"
    fake.mkdir()
    torch.save({"lin0.model.1.weight": torch.zeros(1, 64, 1, 1)}, fake / "alex.pth")
    monkeypatch.setattr(lpips_net, "lpips_weights_dir", lambda: fake)
    expected = KNOWN_WEIGHTS["lpips-alex-lin"].sha256
    with pytest.raises(SlbenchError, match=f"expected {expected}: refused"):
        load_lpips(weights_dir=alexnet_file.parent)


def test_backbone_without_convolutions_is_refused(tmp_path, monkeypatch):
    path = tmp_path / ALEXNET_FILE
    torch.save({"classifier.1.weight": torch.zeros(2, 2)}, path)
    register_known(monkeypatch, "alexnet", path)
    with pytest.raises(SlbenchError, match="lack features.0.weight"):
        load_lpips(weights_dir=tmp_path)
