"""``slbench train``: the real images of one category, handed to :mod:`generators.training`.

The harness's part is the data: it loads the dataset, picks the category's images (all of
them, or the training side of the lesion-grouped split that ``slbench utility`` uses, so that
held-out images stay unseen), decodes them to a uint8 tensor at the model's resolution through
the data layer's cache, and records the dataset and split fingerprints. Everything about the
models, their losses and their checkpoints lives in :mod:`generators.training`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

from rich.progress import TextColumn

from generators.checkpoint import CheckpointError
from generators.registry import MODELS
from generators.training import (
    NonFiniteLossError,
    TrainingData,
    TrainingResult,
    TrainingRun,
    TrainingSetupError,
    plan_run,
    train,
)
from slbench.console import console, make_progress
from slbench.data import RESIZE_FILTER, load_dataset, load_images, split_by_lesion
from slbench.data.categories import require_category
from slbench.errors import SlbenchError
from slbench.paths import DEFAULT_CHECKPOINTS

SPLIT_SEED = 0  # the lesion-grouped split of `slbench utility` (data layer defaults)
SPLIT_TEST_FRACTION = 0.2


def parse_settings(settings: Sequence[str]) -> dict[str, str]:
    """``["lr=1e-3", "ngf=32"]`` as ``{"lr": "1e-3", "ngf": "32"}``; malformed or repeated keys refused."""
    parsed: dict[str, str] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise SlbenchError(f"--set {item!r} is not key=value; write it like --set lr=0.0002")
        if key in parsed:
            raise SlbenchError(f"--set {key} is given twice; give each setting once")
        parsed[key] = value.strip()
    return parsed


def default_checkpoint_dir(model: str, category: str) -> Path:
    """``checkpoints/<model>/<category>/``."""
    return DEFAULT_CHECKPOINTS / model / category


def train_model(
    *,
    model: str,
    category: str,
    data: Path,
    resolution: int | None = None,
    steps: int | None = None,
    kimg: float | None = None,
    batch: int | None = None,
    out: Path | None = None,
    seed: int | None = None,
    resume: bool = False,
    split: str = "all",
    settings: Sequence[str] = (),
    device: str = "auto",
    resize: str = "squash",
) -> TrainingResult:
    """Train ``model`` on the ``category`` images of the dataset at ``data``; returns where it ended."""
    if model not in MODELS:
        raise SlbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    category = require_category(category)
    out = Path(out) if out is not None else default_checkpoint_dir(model, category)
    request = TrainingRun(model=model, category=category, out_dir=out, resolution=resolution, steps=steps,
                          kimg=kimg, batch_size=batch, seed=seed, split=split,
                          overrides=parse_settings(settings), resume=resume, device=device)
    try:
        plan = plan_run(request)
        training_data = load_training_data(data, category, plan.resolution, split=plan.split, resize=resize)
        with TrainingProgress(f"{model} {category}") as reporter:
            result = train(plan, training_data, reporter=reporter)
    except (TrainingSetupError, CheckpointError, NonFiniteLossError) as err:
        raise SlbenchError(str(err)) from None
    if _is_main_process():
        console.print(f"{model} {category}: step {result.step}, {result.images_seen / 1000:.2f} kimg; "
                      f"checkpoint {result.checkpoint}")
    return result


def load_training_data(data: Path, category: str, resolution: int, *, split: str, resize: str) -> TrainingData:
    """The category's images (all, or the training side of the lesion split) as training input."""
    dataset = load_dataset(data).require_usable()
    info: dict[str, object] = {"dataset": str(dataset.root), "layout": dataset.layout, "resize": resize,
                               "resize_filter": RESIZE_FILTER}
    split_fingerprint = None
    if split == "train":
        halves = split_by_lesion(dataset, test_fraction=SPLIT_TEST_FRACTION, seed=SPLIT_SEED)
        records = halves.train.get(category, [])
        split_fingerprint = halves.fingerprint("train")
        info.update(split_seed=halves.seed, split_test_fraction=halves.test_fraction)
    else:
        records = dataset.records(category)
    if not records:
        raise SlbenchError(f"{dataset.root} has no usable {category} image on the {split!r} side; "
                           f"run `slbench data info {dataset.root}` for details")
    images = load_images(records, resolution, resize=resize)
    return TrainingData(images=images, category=category, fingerprint=dataset.fingerprint(), split=split,
                        split_fingerprint=split_fingerprint, info=info)


class TrainingProgress:
    """A rich progress bar for :func:`generators.training.train`: step, kimg, losses, images/s."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.progress = make_progress(TextColumn("{task.fields[status]}"))
        self.task = None

    def __enter__(self) -> "TrainingProgress":
        if _is_main_process():
            self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.progress.stop()

    def start(self, *, start_step: int, total_steps: int) -> None:
        self.task = self.progress.add_task(self.description, total=total_steps, completed=start_step, status="")

    def update(self, step: int, stats: Mapping[str, float]) -> None:
        status = f"{stats.get('kimg', 0.0):.2f} kimg"
        if "loss_D" in stats:
            status += f"  D {stats['loss_D']:.3f}  G {stats['loss_G']:.3f}"
        status += f"  {stats.get('img/s', 0.0):.1f} img/s"
        self.progress.update(self.task, completed=step, status=status)

    def note(self, message: str) -> None:
        self.progress.console.print(message)


def _is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"
