"""The ResNet-18 classifier: it learns, it is reproducible for a seed, and its augmentation is a true dihedral one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from torchvision.models import resnet18

from generators.safe_io import sha256_file
from slbench.errors import SlbenchError
from slbench.utility import classifier
from slbench.utility.classifier import (
    ClassifierConfig,
    dihedral_augment,
    predict_probabilities,
    steps_per_epoch,
    train_classifier,
)
from slbench.utility.scores import balanced_accuracy

CPU = torch.device("cpu")
SHORT = ClassifierConfig(epochs=1, batch_size=8)


pytestmark = pytest.mark.usefixtures("one_thread")


def _two_colour_images(n_per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Class 0: noisy red-dominant squares; class 1: noisy blue-dominant ones (16 px)."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randint(0, 120, (2 * n_per_class, 3, 16, 16), generator=generator)
    labels = torch.arange(2).repeat_interleave(n_per_class)
    noise[:n_per_class, 0] += 130
    noise[n_per_class:, 2] += 130
    return noise.to(torch.uint8), labels


def test_classifier_learns_a_separable_task():
    images, labels = _two_colour_images(16, seed=0)
    model = train_classifier(images, labels, num_classes=2, config=ClassifierConfig(epochs=3, batch_size=16),
                             seed=0, device=CPU)
    test_images, test_labels = _two_colour_images(20, seed=1)
    probabilities = predict_probabilities(model, test_images, device=CPU)
    assert probabilities.shape == (40, 2)
    assert probabilities.sum(axis=1) == pytest.approx(1.0)
    assert balanced_accuracy(test_labels.numpy(), probabilities.argmax(axis=1), 2) >= 0.9


def test_same_seed_same_weights_other_seed_other_weights():
    images, labels = _two_colour_images(4, seed=0)  # one step of 8 images: init, shuffle and flips all seeded
    first, second, other = (
        train_classifier(images, labels, num_classes=2, config=SHORT, seed=seed, device=CPU) for seed in (3, 3, 4)
    )
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name
    assert not torch.equal(first.fc.weight, other.fc.weight)


def test_every_step_is_reported_and_a_trailing_batch_of_one_is_skipped():
    images, labels = _two_colour_images(9, seed=0)
    images, labels = images[:17], labels[:17]  # batches of 8, 8 and 1: BatchNorm cannot train on the 1
    assert steps_per_epoch(17, 8) == 2
    losses: list[float] = []
    before = torch.are_deterministic_algorithms_enabled()
    model = train_classifier(images, labels, num_classes=2, config=SHORT, seed=0, device=CPU, on_step=losses.append)
    assert len(losses) == 2 and all(loss > 0 for loss in losses)
    assert not model.training
    assert torch.are_deterministic_algorithms_enabled() == before


def test_dihedral_augment_yields_the_eight_symmetries_of_the_square():
    base = torch.arange(16, dtype=torch.uint8).view(1, 1, 4, 4)
    symmetries = set()
    for k in range(4):
        turned = torch.rot90(base, k, dims=(-2, -1))
        symmetries |= {tuple(turned.flatten().tolist()), tuple(turned.flip(-1).flatten().tolist())}
    assert len(symmetries) == 8
    out = dihedral_augment(base.expand(200, 1, 4, 4), torch.Generator().manual_seed(0))
    seen = {tuple(image.flatten().tolist()) for image in out}
    assert seen == symmetries


class _PlantsMarker:
    """A pickle payload that would create a file if it were ever unpickled with code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _registered(monkeypatch, path: Path) -> None:
    """Register ``path``'s sha256 as the published one, as if it were torchvision's file."""
    entry = dataclasses.replace(classifier.RESNET18_IMAGENET, sha256=sha256_file(path))
    monkeypatch.setattr(classifier, "RESNET18_IMAGENET", entry)


def test_imagenet_weights_are_found_checked_and_loaded_under_a_new_head(tmp_path, monkeypatch):
    state = resnet18(weights=None).state_dict()
    path = tmp_path / classifier.RESNET18_IMAGENET.file_name
    torch.save(state, path)
    _registered(monkeypatch, path)
    weights = classifier.find_imagenet_weights(tmp_path)
    assert weights.path == path and not weights.trusted_by_user
    model = classifier.build_classifier(3, imagenet=weights)
    assert torch.equal(model.conv1.weight, state["conv1.weight"])
    assert torch.equal(model.layer4[1].bn2.running_var, state["layer4.1.bn2.running_var"])
    assert model.fc.out_features == 3


def test_imagenet_weights_missing_or_with_the_wrong_hash_are_refused(tmp_path):
    with pytest.raises(SlbenchError, match=r"resnet18-f37072fd\.pth.*--weights-dir"):
        classifier.find_imagenet_weights(tmp_path)
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / classifier.RESNET18_IMAGENET.file_name)
    with pytest.raises(SlbenchError, match="sha256"):
        classifier.find_imagenet_weights(tmp_path)


def test_imagenet_weights_that_need_code_to_load_are_refused_without_running_it(tmp_path, monkeypatch):
    marker = tmp_path / "code-ran"
    path = tmp_path / classifier.RESNET18_IMAGENET.file_name
    torch.save({"conv1.weight": _PlantsMarker(marker)}, path)
    _registered(monkeypatch, path)
    with pytest.raises(SlbenchError, match="refused"):
        classifier.find_imagenet_weights(tmp_path)
    assert not marker.exists()
