"""The training and scoring of every arm for every classifier seed.

For one seed, every arm starts from the same initial weights and shuffles with the same seeded
generator, so that arms differ only in their training images and their scores are paired by
seed. Synthetic images are drawn afresh for each seed (see :func:`arms.synthetic_seed`), so the
spread over seeds includes the draw of the synthetic set, not only the classifier's training.
Each model's generators are loaded once and freed before the next model's. Because every
(arm, seed) depends on nothing but its seed and inputs, one that is already saved
(:mod:`slbench.utility.saved`) is skipped without changing the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np
import torch
from rich.progress import Progress, TextColumn

from generators.safe_io import VerifiedWeights
from generators.training.loop import interrupt_requests
from slbench.console import make_progress
from slbench.evaluation.checkpoints import load_generator
from slbench.evaluation.plan import PlannedPair
from slbench.evaluation.sharding import SINGLE, Shard, map_chunks
from slbench.utility.arms import (
    Arm,
    TrainingSet,
    assemble_training_set,
    sample_synthetic,
    synthetic_seed,
)
from slbench.utility.classifier import ClassifierConfig, predict_probabilities, steps_per_epoch, train_classifier
from slbench.utility.saved import SavedSeeds, SeedResult
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


class UtilityInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the classifier in training was dropped; every finished one is saved."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(f"interrupted by {signal_name}")
        self.signal_name = signal_name


def run_arms(
    arms: Sequence[Arm], real: RealImages, pairs: Sequence[PlannedPair], settings: ExperimentSettings,
    saved: SavedSeeds | None, done: Iterable[tuple[str, int]], shard: Shard = SINGLE,
) -> dict[str, ArmOutcome] | None:
    """Train and score every arm for every seed not ``done``, adding each to ``saved`` as it ends;
    outcomes (of every seed, saved or new) keyed by arm name, in the order of ``arms``.

    Under ``torchrun`` the (arm, seed) classifiers are shared out over the ranks
    (:func:`~slbench.evaluation.sharding.map_chunks`); rank 0 (the one given ``saved``) saves
    each as it arrives and gets the outcomes, the others None. Since a classifier depends on
    nothing but its arm, seed and inputs, the outcomes are those of one process.
    Ctrl-C or SIGTERM stops the classifier in training at its next step and raises
    :class:`UtilityInterrupted`; what finished before is in ``saved``.
    """
    done = set(done)
    todo = [(arm, seed) for arm, seed in work_order(arms, settings.seeds) if (arm.name, seed) not in done]
    with interrupt_requests() as stop, make_progress(TextColumn("{task.fields[loss]}")) as progress:
        overall = progress.add_task("Utility arms", total=len(arms) * len(settings.seeds),
                                    completed=len(arms) * len(settings.seeds) - len(todo), loss="")
        trainer = _Trainer(arms, real, pairs, settings, progress, stop)

        def collect(index: int, result: SeedResult) -> None:
            arm, seed = todo[index]
            saved.add(arm.name, seed, result)
            progress.advance(overall)

        map_chunks(shard, list(range(len(todo))), lambda index: trainer.train_and_score(*todo[index]), collect)
    if saved is None:
        return None
    return {arm.name: _outcome(arm, settings.seeds, saved) for arm in arms}


def work_order(arms: Sequence[Arm], seeds: Sequence[int]) -> list[tuple[Arm, int]]:
    """The arms without synthetic images for every seed, then per model, per seed, that model's arms:
    the arms of one model and seed follow each other, so they share one draw of its images."""
    order = [(arm, seed) for arm in arms if arm.model is None for seed in seeds]
    for model in dict.fromkeys(arm.model for arm in arms if arm.model is not None):
        order += [(arm, seed) for seed in seeds for arm in arms if arm.model == model]
    return order


def _outcome(arm: Arm, seeds: Sequence[int], saved: SavedSeeds) -> ArmOutcome:
    results = [saved.results[(arm.name, seed)] for seed in seeds]
    return ArmOutcome([r.scores for r in results], results[-1].real_counts, results[-1].synthetic_counts)


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


class _Trainer:
    """Trains one arm's classifier for one seed and scores it.

    It keeps the last model's generators and the last (model, seed)'s synthetic images, so the
    arms of one model and seed, taken in turn, load and draw them once."""

    def __init__(self, arms: Sequence[Arm], real: RealImages, pairs: Sequence[PlannedPair],
                 settings: ExperimentSettings, progress: Progress, stop) -> None:
        self.arms, self.real, self.pairs, self.settings = arms, real, pairs, settings
        self.progress, self.stop = progress, stop
        self._generators: tuple[str | None, dict[str, torch.nn.Module]] = (None, {})
        self._synthetic: tuple[tuple[str, int] | None, dict[str, torch.Tensor]] = (None, {})

    def check_stop(self) -> None:
        if self.stop.requested:
            raise UtilityInterrupted(self.stop.signal_name)

    def training_set(self, arm: Arm, seed: int) -> TrainingSet:
        real = self.real
        if arm.model is None:
            return assemble_training_set(real.class_names, real.train, {}, {}, use_real=True)
        if self._synthetic[0] != (arm.model, seed):
            if self._generators[0] != arm.model:
                self._generators = (None, {})  # free the previous model's before loading the next
                self._generators = (arm.model, {pair.category: load_generator(pair.checkpoint, self.settings.device)
                                                for pair in self.pairs if pair.model == arm.model})
            model_arms = [a for a in self.arms if a.model == arm.model]
            self._synthetic = (None, {})
            self._synthetic = ((arm.model, seed),
                               _draw_synthetic(arm.model, self._generators[1], seed, model_arms, self.settings))
        return assemble_training_set(real.class_names, real.train, self._synthetic[1],
                                     self.settings.synthetic_counts(arm), use_real=arm.uses_real)

    def train_and_score(self, arm: Arm, seed: int) -> SeedResult:
        self.check_stop()
        training_set = self.training_set(arm, seed)
        config, real, progress = self.settings.config, self.real, self.progress
        steps = config.epochs * steps_per_epoch(training_set.images.shape[0], config.batch_size)
        task = progress.add_task(f"{arm.name} (seed {seed})", total=steps, loss="")

        def on_step(loss: float) -> None:
            progress.update(task, advance=1, loss=f"loss {loss:.3f}")
            self.check_stop()

        classifier = train_classifier(
            training_set.images, training_set.labels, num_classes=len(real.class_names), config=config, seed=seed,
            device=self.settings.device, imagenet=self.settings.imagenet, on_step=on_step,
        )
        probabilities = predict_probabilities(classifier, real.test_images, device=self.settings.device)
        progress.remove_task(task)
        scores = score_predictions(real.test_labels, probabilities, real.class_names)
        return SeedResult(scores, training_set.real_counts, training_set.synthetic_counts)
