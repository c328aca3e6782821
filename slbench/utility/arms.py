"""The arms of the utility experiment and the training set of each.

Following the augmentation study of Qin et al. (2020, "A GAN-based image synthesis method for
skin lesion classification") and the train-on-synthetic, test-on-real protocol:

``real-only``
    The baseline: the real training images.
``real+<model>``
    The real training images plus synthetic images of the chosen classes from ``<model>``:
    either N per class (``per_class``), or, with ``balance``, as many as bring each chosen class
    up to the size of the largest real class (that class itself gets none).
``synthetic-only:<model>``
    Synthetic images alone, for every class the classifier knows: N per class, or, with
    ``balance``, as many per class as the real training set has, so that it differs from the
    baseline in the source of its images only. It exists only when every class has a generator.

Every arm is scored on the same real test images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F

from slbench.errors import SlbenchError

# How generated images are brought to the evaluation resolution when the generator's differs.
SYNTHETIC_RESIZE_FILTER = "torch bilinear, antialiased"


@dataclass(frozen=True)
class Arm:
    """One training condition; ``model`` is the generator it draws synthetic images from, if any."""

    name: str
    model: str | None
    uses_real: bool

    @property
    def uses_synthetic(self) -> bool:
        return self.model is not None


REAL_ONLY = Arm("real-only", None, uses_real=True)


def augmented_arm(model: str) -> Arm:
    return Arm(f"real+{model}", model, uses_real=True)


def synthetic_only_arm(model: str) -> Arm:
    return Arm(f"synthetic-only:{model}", model, uses_real=False)


def plan_arms(models: Sequence[str], *, with_synthetic_only: bool) -> tuple[Arm, ...]:
    """The baseline first, then each model's real+synthetic arm, then its synthetic-only arm."""
    arms = [REAL_ONLY]
    for model in models:
        arms.append(augmented_arm(model))
        if with_synthetic_only:
            arms.append(synthetic_only_arm(model))
    return tuple(arms)


def augmentation_counts(
    real_counts: Mapping[str, int], categories: Sequence[str], *, per_class: int | None, balance: bool
) -> dict[str, int]:
    """Synthetic images added to the real ones, per chosen class (see the module docstring)."""
    _check_amount(per_class, balance)
    if per_class is not None:
        return {category: per_class for category in categories}
    majority = max(real_counts.values())
    counts = {category: majority - real_counts[category] for category in categories}
    if not any(counts.values()):
        shown = ", ".join(f"{category} {real_counts[category]}" for category in categories)
        raise SlbenchError(f"--balance adds no synthetic image: every chosen class already has as many training "
                           f"images as the largest class ({majority}; {shown}), so each real+model arm would be "
                           "the real-only arm again; give --synthetic-per-class N instead")
    return counts


def synthetic_only_counts(
    real_counts: Mapping[str, int], *, per_class: int | None, balance: bool
) -> dict[str, int]:
    """Synthetic images per class for the synthetic-only arm (see the module docstring)."""
    _check_amount(per_class, balance)
    if per_class is not None:
        return {category: per_class for category in real_counts}
    return dict(real_counts)


@dataclass(frozen=True)
class TrainingSet:
    """The images (uint8, N x 3 x R x R) and labels of one arm, with its per-class composition."""

    images: torch.Tensor
    labels: torch.Tensor
    real_counts: dict[str, int]
    synthetic_counts: dict[str, int]


def assemble_training_set(
    class_names: Sequence[str],
    real: Mapping[str, torch.Tensor],
    synthetic: Mapping[str, torch.Tensor],
    synthetic_counts: Mapping[str, int],
    *,
    use_real: bool,
) -> TrainingSet:
    """Concatenate, class by class, the real images (when ``use_real``) and the first
    ``synthetic_counts[class]`` synthetic images; labels are indices into ``class_names``."""
    images, labels = [], []
    real_used, synthetic_used = {}, {}
    for index, category in enumerate(class_names):
        parts = []
        if use_real:
            parts.append(real[category])
        wanted = synthetic_counts.get(category, 0)
        if wanted:
            available = synthetic.get(category)
            if available is None or available.shape[0] < wanted:
                have = 0 if available is None else available.shape[0]
                raise SlbenchError(f"{wanted} synthetic images of {category} are needed but only {have} exist")
            parts.append(available[:wanted])
        real_used[category] = real[category].shape[0] if use_real else 0
        synthetic_used[category] = wanted
        count = sum(part.shape[0] for part in parts)
        images.extend(parts)
        labels.append(torch.full((count,), index, dtype=torch.int64))
    if not images:
        raise SlbenchError("an arm has no training images; check --category and the synthetic image counts")
    return TrainingSet(torch.cat(images), torch.cat(labels), real_used, synthetic_used)


def synthetic_seed(seed: int, model: str, category: str) -> int:
    """Seed of the synthetic images of one model and class for one classifier seed.

    Derived by hashing, so that each (seed, model, class) draws its own images and adding a
    model or class to a run leaves the others' images unchanged.
    """
    digest = hashlib.sha256(f"slbench-utility/{seed}/{model}/{category}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def sample_synthetic(
    generator: torch.nn.Module, n: int, *, seed: int, resolution: int, device: torch.device, batch_size: int = 64
) -> torch.Tensor:
    """``n`` generated images as uint8 N x 3 x R x R on CPU, resized to ``resolution`` if needed."""
    if n == 0:
        return torch.zeros((0, 3, resolution, resolution), dtype=torch.uint8)
    with torch.no_grad():
        images = generator.sample(n, seed=seed, device=device, batch_size=batch_size).float()
        if images.shape[-1] != resolution or images.shape[-2] != resolution:
            images = F.interpolate(images, size=(resolution, resolution), mode="bilinear",
                                   align_corners=False, antialias=True)
        return (images.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).cpu()


def _check_amount(per_class: int | None, balance: bool) -> None:
    if per_class is not None and balance:
        raise SlbenchError("give either --synthetic-per-class N or --balance, not both")
    if per_class is None and not balance:
        raise SlbenchError("say how many synthetic images to add: --synthetic-per-class N or --balance")
    if per_class is not None and per_class < 1:
        raise SlbenchError(f"--synthetic-per-class must be at least 1, got {per_class}")
