"""``slbench utility``: does adding synthetic images help a skin-lesion classifier?

The question Qin et al. (2020) answer for SL-StyleGAN: train the same classifier on real
images, on real plus synthetic images, and on synthetic images alone, and score each on held-out
real images with the ISIC 2018 Task 3 metrics. Everything that can be wrong with the request
(an unknown model or class, a missing checkpoint, a checkpoint that saw test images, a missing
weights file) is found before the first classifier trains.

The real images are split by :func:`slbench.data.split_by_lesion` (grouped by lesion, stratified
by class, seeded); ``slbench train --split train`` trains generators on the training side of
that same split. The data layer reads an ISIC 2018 folder's training, validation and test
inputs as one labelled set, so the official validation and test images take part in the
lesion-grouped split rather than forming a test set of their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

import generators
from generators.safe_io import VerifiedWeights, sha256_file
from reports.results import write_results
from slbench.console import console, labelled, plain
from slbench.data import CATEGORIES, RESIZE_FILTER, Dataset, DataSplit, load_dataset, load_images, split_by_lesion
from slbench.errors import SlbenchError
from slbench.output_lock import locked_output_folder
from slbench.evaluation.plan import PlannedPair, choose_resolution, parse_categories, parse_models
from slbench.evaluation.provenance import Timings, data_provenance, package_versions
from slbench.evaluation.sharding import Shard, close_shard, from_main, open_shard
from slbench.paths import DEFAULT_CHECKPOINTS, DEFAULT_DATA, DEFAULT_RESULTS
from slbench.training import SPLIT_SEED, SPLIT_TEST_FRACTION
from slbench.utility.arms import (
    SYNTHETIC_RESIZE_FILTER,
    Arm,
    augmentation_counts,
    plan_arms,
    synthetic_only_counts,
)
from slbench.utility.checkpoints import check_unseen_test_images, resolve_sources
from slbench.utility.classifier import ClassifierConfig, find_imagenet_weights, select_device
from slbench.utility.compare import RowContext, sensitivity_table, summary_table, utility_rows
from slbench.utility.experiment import ArmOutcome, ExperimentSettings, RealImages, run_arms
from slbench.utility.saved import SavedSeeds, check_out_folder, open_saved

RESIZE = "squash"  # real images: the whole image to R x R, as the reference code did


@dataclass(frozen=True)
class UtilitySetup:
    """The validated request: data, split, classes, generators and evaluation resolution."""

    dataset: Dataset
    split: DataSplit
    class_names: tuple[str, ...]  # every class the dataset has: the classifier's outputs
    categories: tuple[str, ...]  # the classes that get synthetic images
    models: tuple[str, ...]
    pairs: tuple[PlannedPair, ...]
    resolution: int
    resolution_source: str


def run_utility(
    *,
    data: str | Path = DEFAULT_DATA,
    models: str | Sequence[str] = "all",
    categories: str | Sequence[str] = "all",
    checkpoints: str | Path = DEFAULT_CHECKPOINTS,
    synthetic_per_class: int | None = None,
    balance: bool | None = None,
    seeds: int = 3,
    seed: int = 0,
    resolution: int | None = None,
    epochs: int = ClassifierConfig.epochs,
    batch: int = ClassifierConfig.batch_size,
    out: str | Path | None = None,
    pretrained: bool = False,
    weights_dir: str | Path | None = None,
    split_seed: int = SPLIT_SEED,
    test_fraction: float = SPLIT_TEST_FRACTION,
    device: str | None = None,
    resume: bool = False,
) -> Path:
    """Train and score every arm for ``seeds`` classifier seeds (``seed``, ``seed + 1``, ...); write
    the tidy ``utility`` rows to ``out`` (default ``results/<timestamp>-<id>/``) and return it.

    ``balance`` (the default when ``synthetic_per_class`` is not given) tops each chosen class
    up to the largest real class; ``synthetic_per_class`` adds N images per chosen class.
    ``split_seed`` and ``test_fraction`` default to the split ``slbench train --split train``
    trains on; checkpoints trained on another split are refused.

    Each finished (arm, seed) is saved in ``out`` as it ends (:mod:`slbench.utility.saved`);
    ``resume`` continues the interrupted run in ``out``, training only what is missing, and
    refuses a folder whose settings differ. Ctrl-C or SIGTERM keeps what finished.
    """
    balance = synthetic_per_class is None if balance is None else balance
    _check_whole_numbers(seeds=seeds, epochs=epochs, batch=batch, seed=seed)
    if resume and out is None:
        raise SlbenchError("--resume needs --out: the results folder of the utility run to continue")
    shard = open_shard(device)
    try:
        folder = from_main(shard, lambda: _checked_folder(out, resume))
        config = ClassifierConfig(epochs=epochs, batch_size=batch, pretrained=pretrained)
        imagenet = find_imagenet_weights(weights_dir) if pretrained else None
        setup = prepare_setup(data=data, models=models, categories=categories, checkpoints=Path(checkpoints),
                              resolution=resolution, split_seed=split_seed, test_fraction=test_fraction)
        timings = Timings()
        with timings.stage("load real images"):
            real = load_real_images(setup)
        settings = ExperimentSettings(
            config=config, seeds=tuple(range(seed, seed + seeds)), resolution=setup.resolution,
            device=shard.device if shard.context.distributed else select_device(device), imagenet=imagenet,
            augmentation_counts=augmentation_counts(real.train_counts, setup.categories,
                                                    per_class=synthetic_per_class, balance=balance),
            synthetic_only_counts=synthetic_only_counts(real.train_counts, per_class=synthetic_per_class,
                                                        balance=balance),
        )
        stored_settings = _settings(setup, settings, synthetic_per_class, balance, data, checkpoints)
        _train_and_write(shard, folder, resume, setup, real, settings, stored_settings, timings)
    finally:
        close_shard(shard)
    return folder


def _arm_budgets(arms: Sequence[Arm], setup: UtilitySetup) -> dict[str, dict[str, tuple[int | None, float | None]]]:
    """arm -> class -> (step, kimg) of the checkpoint each synthetic arm draws that class's images from."""
    return {arm.name: {pair.category: (pair.checkpoint.step, pair.checkpoint.kimg)
                       for pair in setup.pairs if pair.model == arm.model}
            for arm in arms if arm.uses_synthetic}


def _checked_folder(out: str | Path | None, resume: bool) -> Path:
    folder = Path(out) if out is not None else default_results_folder()
    check_out_folder(folder, resume=resume)
    return folder


def _train_and_write(shard: Shard, folder: Path, resume: bool, setup: UtilitySetup, real: RealImages,
                     settings: ExperimentSettings, stored_settings: dict, timings: Timings) -> None:
    """Train what the folder lacks (shared over the ranks), then, on rank 0, write and show the results."""
    every_class = set(setup.categories) == set(setup.class_names)
    arms = plan_arms(setup.models, with_synthetic_only=every_class)
    if not every_class:
        console.print(labelled("note:", "yellow", "no synthetic-only arm: it needs a generator for every class "
                      f"({', '.join(setup.class_names)}); pass --category all for it"))
    lock, opened = contextlib.ExitStack(), {}

    def open_folder() -> list[tuple[str, int]]:
        lock.enter_context(locked_output_folder(folder, "slbench utility"))
        opened["saved"] = open_saved(folder, {**stored_settings, **_fingerprints(setup, settings)}, resume=resume)
        return sorted(opened["saved"].results)

    with lock:
        done = from_main(shard, open_folder)
        saved = opened.get("saved")  # rank 0's alone
        outcomes = _train_arms(arms, real, setup, settings, saved, done, shard, timings)
        if saved is None:
            return
        rows = utility_rows({name: o.scores for name, o in outcomes.items()},
                            {name: o.synthetic_counts for name, o in outcomes.items()},
                            RowContext(settings.config.name, setup.resolution, settings.seeds[0], settings.seeds,
                                       budgets=_arm_budgets(arms, setup)))
        write_results(folder, rows, artifacts={}, settings=stored_settings,
                      provenance=_provenance(setup, settings, outcomes, timings))
    console.print(summary_table(rows))
    console.print(sensitivity_table(rows, setup.class_names))
    console.print(f"results written to {plain(folder)}", highlight=False)


def prepare_setup(
    *, data: str | Path, models: str | Sequence[str], categories: str | Sequence[str], checkpoints: Path,
    resolution: int | None, split_seed: int, test_fraction: float,
) -> UtilitySetup:
    """Validate the request in full (see the module docstring) and resolve it."""
    dataset = load_dataset(data).require_usable()
    class_names = tuple(dataset.categories())
    if len(class_names) < 2:
        raise SlbenchError(f"{dataset.root} has images of {len(class_names)} class only; a classifier needs two or more")
    model_names = parse_models(_as_spec(models), tuple(generators.MODELS))
    category_names = parse_categories(_as_spec(categories), CATEGORIES, list(class_names))
    absent = [category for category in category_names if category not in class_names]
    if absent:
        raise SlbenchError(f"the dataset has no images of {', '.join(absent)}, so no synthetic images of it can "
                           f"be judged; choose from {', '.join(class_names)}")
    split = split_by_lesion(dataset, test_fraction=test_fraction, seed=split_seed)
    if not any(split.test[category] for category in class_names):
        raise SlbenchError("the split left no test images; raise --test-fraction or use a larger dataset")
    pairs = resolve_sources(checkpoints, model_names, category_names)
    check_unseen_test_images(pairs, data_fingerprint=dataset.fingerprint(), train_fingerprint=split.fingerprint("train"),
                             split_description=f"split seed {split_seed}, test fraction {test_fraction}")
    chosen, source, problems = choose_resolution(pairs, resolution)
    if problems:
        raise SlbenchError("; ".join(problems) + "; choose another --resolution")
    if not chosen:
        raise SlbenchError("no evaluation resolution: pass --resolution R")
    return UtilitySetup(dataset, split, class_names, category_names, model_names, tuple(pairs), chosen, source)


def load_real_images(setup: UtilitySetup) -> RealImages:
    """The split's images at the evaluation resolution: training images per class, test images with labels."""
    train = {c: load_images(setup.split.train[c], setup.resolution, resize=RESIZE) for c in setup.class_names}
    test_records = [record for c in setup.class_names for record in setup.split.test[c]]
    labels = np.array([setup.class_names.index(record.category) for record in test_records], dtype=np.int64)
    test_images = load_images(test_records, setup.resolution, resize=RESIZE)
    return RealImages(setup.class_names, train, test_images, labels)


def _train_arms(arms: Sequence[Arm], real: RealImages, setup: UtilitySetup, settings: ExperimentSettings,
                saved: SavedSeeds | None, done: list[tuple[str, int]], shard: Shard,
                timings: Timings) -> dict[str, ArmOutcome] | None:
    """Every arm's outcome (on rank 0), training what is not ``done``; an interruption says how to continue."""
    total = len(arms) * len(settings.seeds)
    if done and saved is not None:
        console.print(f"resuming {plain(saved.folder)}: {len(done)} of {total} classifier(s) already trained",
                      highlight=False)
    try:
        with timings.stage("train and score"):
            return run_arms(arms, real, setup.pairs, settings, saved, done, shard)
    except KeyboardInterrupt:
        if saved is not None:
            console.print(f"{len(saved.results)} of {total} classifier(s) are saved in {plain(saved.folder)}; "
                          f"continue with the same command plus --resume --out {plain(saved.folder)}", highlight=False)
        raise


def default_results_folder() -> Path:
    """``results/<timestamp>-<short random id>/``."""
    return DEFAULT_RESULTS / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def _as_spec(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else ",".join(value)


def _check_whole_numbers(**values: int) -> None:
    minimum = {"seed": 0}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum.get(name, 1):
            option = "--" + name.replace("_", "-")
            raise SlbenchError(f"{option} must be a whole number of at least {minimum.get(name, 1)}, not {value!r}")


def _settings(setup: UtilitySetup, settings: ExperimentSettings, synthetic_per_class: int | None, balance: bool,
              data: str | Path, checkpoints: str | Path) -> dict:
    return {
        "command": "utility",
        "data": str(data),
        "checkpoints": str(checkpoints),
        "models": list(setup.models),
        "categories": list(setup.categories),
        "classes": list(setup.class_names),
        "synthetic_per_class": synthetic_per_class,
        "balance": balance,
        "seeds": list(settings.seeds),
        "resolution": setup.resolution,
        "resolution_source": setup.resolution_source,
        "split_seed": setup.split.seed,
        "test_fraction": setup.split.test_fraction,
        "classifier": {"name": settings.config.name, **dataclasses.asdict(settings.config)},
    }


def _fingerprints(setup: UtilitySetup, settings: ExperimentSettings) -> dict:
    """What identifies the inputs of a run beyond its options (see :data:`saved.RESUME_KEYS`)."""
    return {
        "data_fingerprint": setup.dataset.fingerprint(),
        "checkpoint_sha256": {pair.key: sha256_file(pair.checkpoint.path) for pair in setup.pairs},
        "classifier_weights_sha256": settings.imagenet.sha256 if settings.imagenet is not None else None,
        "device": str(settings.device),
    }


def _provenance(setup: UtilitySetup, settings: ExperimentSettings, outcomes: dict[str, ArmOutcome],
                timings: Timings) -> dict:
    return {
        "packages": package_versions(),
        "device": str(settings.device),
        "data": data_provenance(setup.dataset, resize=RESIZE, resize_filter=RESIZE_FILTER),
        "split": {**setup.split.to_json(), "method": "slbench.data.split_by_lesion (grouped by lesion, stratified)"},
        "checkpoints": {pair.key: {"path": str(pair.checkpoint.path), "sha256": sha256_file(pair.checkpoint.path),
                                   "metadata": pair.checkpoint.metadata} for pair in setup.pairs},
        "synthetic": {"resize_filter": SYNTHETIC_RESIZE_FILTER,
                      "seeds": "sha256 of 'slbench-utility/<seed>/<model>/<category>', first 31 bits"},
        "arms": {name: _arm_provenance(o, settings.seeds) for name, o in outcomes.items()},
        "classifier_weights": _weights_provenance(settings.imagenet),
        "timings_s": dict(timings.seconds),
    }


def _arm_provenance(outcome: ArmOutcome, seeds: Sequence[int]) -> dict:
    """The arm's training set and its scores for each seed (the rows hold their mean and std)."""
    per_seed = {
        str(seed): {"balanced_accuracy": s.balanced_accuracy, "auc_macro": s.auc_macro, "sensitivity": s.sensitivity,
                    "specificity": s.specificity, "auc": s.auc}
        for seed, s in zip(seeds, outcome.scores)
    }
    return {"real_train": outcome.real_counts, "synthetic_train": outcome.synthetic_counts, "per_seed": per_seed}


def _weights_provenance(imagenet: VerifiedWeights | None) -> dict:
    if imagenet is None:
        return {"initialisation": "random (torch.manual_seed(seed))"}
    return {"initialisation": "ImageNet", "path": str(imagenet.path), "sha256": imagenet.sha256}
