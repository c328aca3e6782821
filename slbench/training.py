"""``slbench train``: the real images of one category, handed to :mod:`generators.training`.

The harness's part is the data: it loads the dataset, picks the category's images (all of
them, or the training side of the lesion-grouped split that ``slbench utility`` uses, so that
held-out images stay unseen), decodes them to a uint8 tensor at the model's resolution through
the data layer's cache, and records the dataset and split fingerprints. Everything about the
models, their losses and their checkpoints lives in :mod:`generators.training`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import torch
from rich.progress import TextColumn

from generators.checkpoint import CheckpointError, list_checkpoints
from generators.folder_lock import FolderBusyError, folder_lock
from generators.registry import MODELS
from generators.safe_io import remove_partial_writes
from generators.training import (
    NonFiniteLossError,
    RunPlan,
    TrainingData,
    TrainingResult,
    TrainingRun,
    TrainingSetupError,
    plan_run,
    train,
)
from generators.training.run import schedule_summary
from generators.training.config import DEFAULT_KIMG, DEFAULT_RESOLUTION, config_class
from reports.tracks import STATUS_OK, TRACK_CSV
from slbench.console import console, make_progress, plain
from slbench.data import RESIZE_FILTER, load_dataset, load_images, split_by_lesion
from slbench.data.categories import require_category
from slbench.errors import SlbenchError
from slbench.metrics import METRICS
from slbench.paths import CHECKPOINT_FILES, DEFAULT_CHECKPOINTS, refuse_other_commands_folder
from slbench.shared_budget import rounding_note, shared_budget_images
from slbench.tracking.folder import SHOWN_METRICS, check_every, is_tracked
from slbench.tracking.tracker import TrackOptions, Tracker, open_tracker

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
    eval_every: int | None = None,
    eval_options: Mapping[str, Any] | None = None,
    amp: str | None = None,
) -> TrainingResult:
    """Train ``model`` on the ``category`` images of the dataset at ``data``; returns where it ended.

    With ``eval_every`` K, every K-th checkpoint is evaluated as it is written and its metrics
    appended to ``track.csv`` beside the checkpoints (see :mod:`slbench.tracking`);
    ``eval_options`` are the :class:`~slbench.tracking.TrackOptions` fields other than ``data``."""
    if model not in MODELS:
        raise SlbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    category = require_category(category)
    out = Path(out) if out is not None else default_checkpoint_dir(model, category)
    overrides = parse_settings(settings)
    if amp is not None:
        if "amp" in overrides:
            raise SlbenchError("the precision is given twice (--amp and --set amp=); give it once")
        overrides["amp"] = amp
    request = TrainingRun(model=model, category=category, out_dir=out, resolution=resolution, steps=steps,
                          kimg=kimg, batch_size=batch, seed=seed, split=split,
                          overrides=overrides, resume=resume, device=device)
    refuse_other_commands_folder(out, "--out", "checkpoints", own=(CHECKPOINT_FILES,))
    try:
        check_precision(plan_run(request))  # every setting checked before the folder is created for its lock
        with _writing(out):
            plan = plan_run(request)  # again under the lock: the folder's checkpoints may have changed
            summary = schedule_summary(plan)
            if summary is not None and _is_main_process():
                console.print(plain(summary), highlight=False)
            training_data = load_training_data(data, category, plan.resolution, split=plan.split, resize=resize)
            evaluation = (TrainingEvaluation.open(plan, training_data, data, resize, eval_every, eval_options or {})
                          if eval_every is not None and _is_main_process() else None)
            started = time.perf_counter()
            with TrainingProgress(f"{model} {category}") as reporter:
                hook = evaluation.hook(reporter) if evaluation is not None else None
                result = train(plan, training_data, reporter=reporter, on_checkpoint=hook)
    except (TrainingSetupError, CheckpointError, NonFiniteLossError, FolderBusyError) as err:
        raise SlbenchError(str(err)) from None
    if _is_main_process():
        console.print(f"{plain(model)} {category}: step {result.step}, {result.images_seen / 1000:.2f} kimg; "
                      f"checkpoint {plain(result.checkpoint)}", highlight=False)
        if evaluation is not None:
            console.print(evaluation.cost_line(time.perf_counter() - started), highlight=False)
    return result


def check_precision(plan: RunPlan) -> None:
    """Refuse fp16 where it cannot run: autocast and its loss scale act on CUDA only."""
    if plan.config.amp != "fp16":
        return
    cuda = plan.device == "cuda" or (plan.device == "auto" and torch.cuda.is_available())
    if not cuda:
        raise SlbenchError("--amp fp16 needs a CUDA device (autocast and its loss scale act on CUDA only; "
                           "on the CPU training runs in float32): use --amp off, or train on a GPU")


def parse_models(models: str) -> tuple[str, ...]:
    """``"all"`` or a comma-separated list of model names, in the order given, without repeats."""
    names = tuple(dict.fromkeys(name.strip() for name in models.split(",") if name.strip()))
    if names == ("all",):
        return tuple(MODELS)
    unknown = [name for name in names if name not in MODELS]
    if unknown or not names:
        raise SlbenchError(f"unknown model(s) {', '.join(unknown) or repr(models)}; "
                           f"give all or a comma-separated list of {', '.join(MODELS)}")
    return names


def train_models(
    *,
    models: Sequence[str],
    category: str,
    data: Path,
    kimg: float | None = None,
    resolution: int | None = None,
    out: Path | None = None,
    seed: int | None = None,
    split: str = "all",
    **options,
) -> dict[str, TrainingResult | None]:
    """Train several models one after another on one class, split and budget (kimg).

    Each model's folder is ``<out>/<model>/<category>/`` (default ``checkpoints/``): a finished one
    is skipped, an unfinished one resumed, an empty one started, so the same command can be run
    again after an interruption. Every model gets the same resolution, split, seed and number of
    images, whatever its batch size: ``kimg`` rounded up to the images that every model's
    minibatches end on (:mod:`slbench.shared_budget`). Returns each model's result (``None`` when
    already done)."""
    category = require_category(category)
    root = Path(out) if out is not None else DEFAULT_CHECKPOINTS
    common = dict(category=category, data=data, kimg=DEFAULT_KIMG if kimg is None else kimg, split=split,
                  resolution=DEFAULT_RESOLUTION if resolution is None else resolution,
                  seed=0 if seed is None else seed, **options)
    per_model = settings_per_model(models, common.pop("settings", ()))
    requested = common["kimg"]
    images = shared_budget_images(
        models, requested, lambda model, kimg: planned_run(model, root / model / category,
                                                           common | {"settings": per_model[model], "kimg": kimg}))
    common["kimg"] = images / 1000
    note = rounding_note(requested, images) if len(models) > 1 else None
    if note and _is_main_process():
        console.print(note, highlight=False)
    results: dict[str, TrainingResult | None] = {}
    for index, model in enumerate(models):
        folder = root / model / category
        common["settings"] = per_model[model]
        plan = planned_run(model, folder, common)
        done = plan.start_step >= plan.total_steps
        if _is_main_process():
            state = "already trained" if done else ("resuming" if list_checkpoints(folder) else "starting")
            console.print(f"[{index + 1}/{len(models)}] {plain(model)} {category}, {common['kimg']:g} kimg: "
                          f"{state} in {plain(folder)}", highlight=False)
        if done:
            results[model] = None
            continue
        results[model] = train_model(model=model, out=folder, resume=bool(list_checkpoints(folder)), **common)
    return results


def settings_per_model(models: Sequence[str], settings: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``--set`` items for each model: ``key=value`` for every model that has such a setting (``lr=``
    for all three, ``ngf=`` for DCGAN alone), ``model:key=value`` for that model only, winning over
    a ``key=value`` for all. A key that no model has is refused."""
    general, specific = [], {model: {} for model in models}
    for item in settings:
        target, colon, rest = item.partition(":")
        if colon and "=" not in target:
            if target.strip() not in MODELS:
                raise SlbenchError(f"--set {item!r} names {target.strip()!r}; models: {', '.join(MODELS)}")
            specific.get(target.strip(), {})[_key(rest)] = rest  # a model not trained now: nothing to set
            continue
        if not any(_key(item) in setting_keys(model) for model in models):
            raise SlbenchError(f"--set {item!r}: no model trained here has a setting {_key(item)!r}")
        general.append(item)
    return {model: tuple(item for item in general if _key(item) in setting_keys(model)
                         and _key(item) not in specific[model]) + tuple(specific[model].values())
            for model in models}


def _key(item: str) -> str:
    return item.partition("=")[0].strip()


def setting_keys(model: str) -> set[str]:
    """Every ``--set`` key of ``model``: its training settings and its architecture's."""
    return {f.name for f in dataclasses.fields(config_class(model))} | set(MODELS[model].override_keys)


def planned_run(model: str, folder: Path, common: Mapping) -> RunPlan:
    """The plan of ``model`` in ``folder`` for the shared options: resumed where it holds checkpoints."""
    request = TrainingRun(model=model, category=common["category"], out_dir=folder, kimg=common["kimg"],
                          resolution=common["resolution"], seed=common["seed"], split=common["split"],
                          batch_size=common.get("batch"), overrides=parse_settings(common.get("settings", ())),
                          resume=bool(list_checkpoints(folder)))
    try:
        return plan_run(request)
    except (TrainingSetupError, CheckpointError) as err:
        raise SlbenchError(str(err)) from None


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


@dataclass
class TrainingEvaluation:
    """``--eval-every``: a track of the run's checkpoints, filled in as training writes them."""

    tracker: Tracker
    every: int
    snapshot_every: int
    last_step: int

    @classmethod
    def open(cls, plan: RunPlan, training: TrainingData, data: Path, resize: str, every: int,
             options: Mapping[str, Any]) -> "TrainingEvaluation":
        check_every(every)
        trained = {"split": training.split, "data_fingerprint": training.fingerprint,
                   "split_fingerprint": training.split_fingerprint, "data": dict(training.info)}
        tracker = open_tracker(model=plan.model, category=plan.category, resolution=plan.resolution, resize=resize,
                               checkpoints=plan.out_dir, out=plan.out_dir,
                               options=TrackOptions(data=Path(data), **options), trained=trained)
        return cls(tracker, every, plan.config.snapshot_every, plan.total_steps)

    def hook(self, reporter: "TrainingProgress"):
        """The training loop's checkpoint hook: evaluate the checkpoint when it is one of the tracked."""

        def evaluate(step: int, path: Path) -> None:
            tracked = is_tracked(step, every=self.every, snapshot_every=self.snapshot_every, last=self.last_step)
            if tracked and step not in self.tracker.done_steps:
                rows = self.tracker.evaluate(path, step)
                reporter.note(plain(f"step {step}: " + step_summary(rows)))

        return evaluate

    def cost_line(self, total_seconds: float) -> str:
        """How much of the training time went to evaluation, and where the track is."""
        share = self.tracker.seconds / total_seconds if total_seconds > 0 else 0.0
        return (f"evaluation: {self.tracker.seconds:.1f} s of {total_seconds:.1f} s ({share:.0%} of the training time); "
                f"track {plain(self.tracker.out / TRACK_CSV)}")


def step_summary(rows: list[dict[str, Any]]) -> str:
    """``FID 123.4, KID 0.05, Precision 0.41`` of one step's rows, or its status and reason."""
    values = {row["metric"]: row for row in rows if row["status"] == STATUS_OK}
    if not values:
        return "; ".join(f"{row['status']}: {row['reason']}" for row in rows[:1])
    shown = [name for name in SHOWN_METRICS if name in values][:3]
    return ", ".join(f"{METRICS[name].label} {values[name]['value']:.4g}" for name in shown)


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


@contextlib.contextmanager
def _writing(out: Path) -> Iterator[None]:
    """The main process holds the checkpoint folder's lock for the whole training, so a second
    ``train`` into it is refused instead of overwriting its checkpoints, and it clears what a
    write interrupted by a kill left there. (The other ``torchrun`` processes write nothing.)"""
    if not _is_main_process():
        yield
        return
    with folder_lock(out, "slbench train"):
        remove_partial_writes(out)
        yield


def _is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"
