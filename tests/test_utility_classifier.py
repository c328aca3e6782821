"""The ResNet-18 classifier: it learns, it is reproducible for a seed, and its augmentation is a true dihedral one."""

from __future__ import annotations

import pytest
import torch

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
    images, labels = _two_colour_images(6, seed=0)  # 12 images, batch 8: steps of 8 and 4
    losses: list[float] = []
    before = torch.are_deterministic_algorithms_enabled()
    first = train_classifier(images, labels, num_classes=2, config=SHORT, seed=3, device=CPU, on_step=losses.append)
    assert len(losses) == 2 and all(loss > 0 for loss in losses)
    assert torch.are_deterministic_algorithms_enabled() == before
    second = train_classifier(images, labels, num_classes=2, config=SHORT, seed=3, device=CPU)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name
    other = train_classifier(images, labels, num_classes=2, config=SHORT, seed=4, device=CPU)
    assert not torch.equal(first.fc.weight, other.fc.weight)


def test_a_trailing_batch_of_one_is_skipped_rather_than_breaking_batch_norm():
    images, labels = _two_colour_images(5, seed=0)
    images, labels = images[:9], labels[:9]
    assert steps_per_epoch(9, 8) == 1
    steps: list[float] = []
    model = train_classifier(images, labels, num_classes=2, config=SHORT, seed=0, device=CPU, on_step=steps.append)
    assert len(steps) == 1 and not model.training


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
