"""The training and scoring of every arm for every classifier seed.

For one seed, every arm starts from the same initial weights and shuffles with the same seeded
generator, so that arms differ only in their training images and their scores are paired by
seed. Synthetic images are drawn afresh for each seed (see :func:`arms.synthetic_seed`), so the
spread over seeds includes the draw of the synthetic set, not only the classifier's training.
Each model's generators are loaded once and freed before the next model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch
from rich.progress import Progress, TextColumn

from generators.safe_io import VerifiedWeights
from slbench.console import make_progress
from slbench.evaluation.checkpoints import load_generator
from slbench.evaluation.plan import PlannedPair
from slbench.utility.arms import (
    REAL_ONLY,
    Arm,
    TrainingSet,
    assemble_training_set,
    sample_synthetic,
    synthetic_seed,
)
from slbench.utility.classifier import ClassifierConfig, predict_probabilities, steps_per_epoch, train_classifier
from slbench.utility.scores import ClassificationScores, score_predictions


@dataclass(frozen=True)
class RealImages:
    """The real images of the split at the evaluation resolution (uint8, N x 3 x R x R)."""

    class_names: tuple[str, ...]
    train: dict[str, torch.Tensor]  # per class
    test_images: torch.Tensor
    test_labels: np.ndarray  # indices into class_names

    @property
    def train_counts(self) -> dict[str, int]:
        return {category: int(images.shape[0]) for category, images in self.train.items()}


@dataclass(frozen=True)
class ExperimentSettings:
    """What stays fixed across arms: the classifier, the seeds and the synthetic image counts."""

    config: ClassifierConfig
    seeds: tuple[int, ...]
    resolution: int
    device: torch.device
    augmentation_counts: dict[str, int]  # synthetic images added per class in real+<model> arms
    synthetic_only_counts: dict[str, int]  # synthetic images per class in synthetic-only arms
    imagenet: VerifiedWeights | None = None  # start from these ImageNet weights instead of random ones

    def synthetic_counts(self, arm: Arm) -> dict[str, int]:
        """Synthetic images per class in ``arm``'s training set."""
        return self.augmentation_counts if arm.uses_real else self.synthetic_only_counts


@dataclass
class ArmOutcome:
    """The scores of one arm, one per seed in seed order, and the make-up of its training set."""

    scores: list[ClassificationScores] = field(default_factory=list)
    real_counts: dict[str, int] = field(default_factory=dict)
    synthetic_counts: dict[str, int] = field(default_factory=dict)


def run_arms(
    arms: Sequence[Arm], real: RealImages, pairs: Sequence[PlannedPair], settings: ExperimentSettings
) -> dict[str, ArmOutcome]:
    """Train and score every arm for every seed; outcomes keyed by arm name, in the order of ``arms``."""
    outcomes = {arm.name: ArmOutcome() for arm in arms}
    with make_progress(TextColumn("{task.fields[loss]}")) as progress:
        overall = progress.add_task("Utility arms", total=len(arms) * len(settings.seeds), loss="")
        real_only = assemble_training_set(real.class_names, real.train, {}, {}, use_real=True)
        for seed in settings.seeds:
            _train_and_score(REAL_ONLY, real_only, seed, real, settings, outcomes[REAL_ONLY.name], progress)
            progress.advance(overall)
        for model in dict.fromkeys(arm.model for arm in arms if arm.model is not None):
            model_arms = [arm for arm in arms if arm.model == model]
            generators = {pair.category: load_generator(pair.checkpoint, settings.device)
                          for pair in pairs if pair.model == model}
            for seed in settings.seeds:
                synthetic = _draw_synthetic(model, generators, seed, model_arms, settings)
                for arm in model_arms:
                    training_set = assemble_training_set(real.class_names, real.train, synthetic,
                                                         settings.synthetic_counts(arm), use_real=arm.uses_real)
                    _train_and_score(arm, training_set, seed, real, settings, outcomes[arm.name], progress)
                    progress.advance(overall)
            del generators
    return outcomes


def _draw_synthetic(
    model: str, generators: Mapping[str, torch.nn.Module], seed: int, arms: Sequence[Arm], settings: ExperimentSettings
) -> dict[str, torch.Tensor]:
    """Enough synthetic images of each class for every arm of this model (arms take the first ones)."""
    wanted: dict[str, int] = {}
    for arm in arms:
        for category, count in settings.synthetic_counts(arm).items():
            wanted[category] = max(wanted.get(category, 0), count)
    return {
        category: sample_synthetic(generators[category], count, seed=synthetic_seed(seed, model, category),
                                   resolution=settings.resolution, device=settings.device)
        for category, count in wanted.items()
    }


def _train_and_score(
    arm: Arm, training_set: TrainingSet, seed: int, real: RealImages, settings: ExperimentSettings,
    outcome: ArmOutcome, progress: Progress,
) -> None:
    config = settings.config
    steps = config.epochs * steps_per_epoch(training_set.images.shape[0], config.batch_size)
    task = progress.add_task(f"{arm.name} (seed {seed})", total=steps, loss="")

    def on_step(loss: float) -> None:
        progress.update(task, advance=1, loss=f"loss {loss:.3f}")

    classifier = train_classifier(
        training_set.images, training_set.labels, num_classes=len(real.class_names), config=config, seed=seed,
        device=settings.device, imagenet=settings.imagenet, on_step=on_step,
    )
    probabilities = predict_probabilities(classifier, real.test_images, device=settings.device)
    progress.remove_task(task)
    outcome.scores.append(score_predictions(real.test_labels, probabilities, real.class_names))
    outcome.real_counts = training_set.real_counts
    outcome.synthetic_counts = training_set.synthetic_counts
