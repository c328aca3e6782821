"""What a training run is: the request, its resolved plan, its data, its outcome and its errors.

:func:`plan_run` turns a request (model, folder, length, ``key=value`` overrides, resume or
not) into a :class:`RunPlan` with every setting resolved: the training config of the model
(defaults, or the checkpoint's when resuming, then the overrides), the architecture the
networks are built with, the seed and the total number of steps. A fresh run refuses a folder
that already holds checkpoints, and a resumed run refuses to change what cannot change midway
(model, resolution, category, split, seed, architecture), so nothing is silently overwritten.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from generators.checkpoint import list_checkpoints, read_checkpoint_metadata
from generators.registry import get_model
from generators.training.config import (
    DEFAULT_KIMG,
    DEFAULT_RESOLUTION,
    StyleGANConfig,
    TrainConfig,
    config_class,
    config_from_dict,
    parse_fields,
    with_overrides,
)
from generators.sizing import check_fits, is_default_architecture
from generators.training.objectives import LogisticObjective, make_objective
from generators.training.schedule import GrowthPhase, resolve_phase_kimg

SPLITS = ("all", "train")
MAX_STEPS = 10**9  # far beyond any real run; the checkpoint names and counters stay exact integers


class TrainingSetupError(ValueError):
    """A run cannot start as asked: a bad setting, or a folder that does not fit the request."""


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or infinite; the run stopped and kept its last good checkpoint."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the run finished its step, wrote a checkpoint and stopped."""

    def __init__(self, step: int, checkpoint: Path | None, signal_name: str = "SIGINT") -> None:
        super().__init__(f"interrupted by {signal_name} at step {step}; checkpoint {checkpoint}")
        self.step = step
        self.checkpoint = checkpoint
        self.signal_name = signal_name


@dataclass(frozen=True)
class TrainingData:
    """The real images of one category, as uint8 N x 3 x R x R, and where they came from."""

    images: torch.Tensor
    category: str
    fingerprint: str  # of the whole dataset
    split: str = "all"  # "all", or "train": only the training side of the lesion-grouped split
    split_fingerprint: str | None = None  # of the training side, when split is "train"
    info: Mapping[str, Any] = field(default_factory=dict)  # provenance written into checkpoints


@dataclass(frozen=True)
class TrainingRun:
    """A request to train: everything left ``None`` takes its default or the checkpoint's value."""

    model: str
    category: str
    out_dir: Path
    resolution: int | None = None
    steps: int | None = None  # total steps counted from step 0
    kimg: float | None = None  # or total thousands of images
    batch_size: int | None = None
    seed: int | None = None
    split: str = "all"
    overrides: Mapping[str, str] = field(default_factory=dict)  # training or architecture settings
    resume: bool = False
    device: str = "auto"


@dataclass(frozen=True)
class RunPlan:
    """A run with every setting resolved."""

    model: str
    category: str
    out_dir: Path
    resolution: int
    total_steps: int
    seed: int
    split: str
    config: TrainConfig
    architecture: dict[str, Any]  # build_generator/build_discriminator overrides
    resume_from: Path | None
    start_step: int
    device: str


@dataclass(frozen=True)
class TrainingResult:
    """Where a run ended: its step, last checkpoint and last losses, and the trained networks."""

    step: int
    images_seen: int
    checkpoint: Path | None
    losses: Mapping[str, float]
    generator: torch.nn.Module  # the moving average where the model keeps one
    discriminator: torch.nn.Module


def plan_run(run: TrainingRun) -> RunPlan:
    """Resolve a request into a plan, reading the folder's latest checkpoint when resuming."""
    if run.split not in SPLITS:
        raise TrainingSetupError(f"unknown split {run.split!r}; use one of {', '.join(SPLITS)}")
    try:
        config_class(run.model)
    except ValueError as err:
        raise TrainingSetupError(str(err)) from None
    existing = list_checkpoints(run.out_dir)
    if run.resume and not existing:
        raise TrainingSetupError(f"{run.out_dir} holds no checkpoint to resume; run without --resume to start")
    if not run.resume and existing:
        raise TrainingSetupError(
            f"{run.out_dir} already holds checkpoints (up to step {existing[-1][0]}); "
            "pass --resume to continue them or choose another --out folder"
        )
    training, architecture = split_overrides(run.model, run.overrides)
    if run.batch_size is not None:
        if "batch_size" in training:
            raise TrainingSetupError("the batch size is given twice (--batch and batch_size=); give it once")
        training["batch_size"] = str(run.batch_size)
    if run.resume:
        return _plan_resume(run, training, architecture)
    return _plan_fresh(run, training, architecture)


def split_overrides(model: str, overrides: Mapping[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """Sort ``key=value`` overrides into training settings (text) and architecture (parsed)."""
    training_keys = {f.name for f in dataclasses.fields(config_class(model))}
    spec = get_model(model)
    training, architecture_text = {}, {}
    for key, text in overrides.items():
        if key in training_keys:
            training[key] = text
        elif key in spec.override_keys:
            architecture_text[key] = text
        else:
            raise TrainingSetupError(
                f"unknown setting {key!r} for {model}; training settings: {', '.join(sorted(training_keys))}; "
                f"architecture: {', '.join(spec.override_keys) or 'none'}"
            )
    try:
        return training, parse_fields(spec.config, architecture_text)
    except ValueError as err:
        raise TrainingSetupError(str(err)) from None


def total_steps(run: TrainingRun, config: TrainConfig, resolution: int) -> int:
    """``steps``, or ``kimg`` (default :data:`DEFAULT_KIMG`) in whole steps of the run's minibatches."""
    if run.steps is not None and run.kimg is not None:
        raise TrainingSetupError("give the training length as steps or as kimg, not both")
    if run.steps is not None:
        if not 1 <= run.steps <= MAX_STEPS:
            raise TrainingSetupError(f"steps must be from 1 to {MAX_STEPS:,}, got {run.steps}")
        return run.steps
    kimg = requested_kimg(run)
    if kimg > MAX_STEPS:  # a step sees at least one image
        raise TrainingSetupError(f"kimg {kimg:g} is more than {MAX_STEPS:,} steps; give a shorter run")
    steps = make_objective(run.model, config, resolution).steps_to_reach(kimg * 1000)
    if steps > MAX_STEPS:
        raise TrainingSetupError(f"kimg {kimg:g} is {steps:,} steps, more than {MAX_STEPS:,}; give a shorter run")
    return steps


def requested_kimg(run: TrainingRun) -> float:
    """The run's length in k images (default :data:`DEFAULT_KIMG`); refuses a non-positive one."""
    kimg = DEFAULT_KIMG if run.kimg is None else run.kimg
    if not math.isfinite(kimg) or kimg <= 0:
        raise TrainingSetupError(f"kimg must be a positive number, got {kimg}")
    return kimg


def _plan_fresh(run: TrainingRun, training: dict[str, str], architecture: dict[str, Any]) -> RunPlan:
    resolution = DEFAULT_RESOLUTION if run.resolution is None else run.resolution
    config = _configure(config_class(run.model)(), training)
    arch = _architecture(run.model, resolution, architecture)
    if isinstance(config, StyleGANConfig) and config.progressive:
        config = dataclasses.replace(config, phase_kimg=_phase_kimg(run, config, resolution))
    steps = total_steps(run, config, resolution)
    return RunPlan(model=run.model, category=run.category, out_dir=Path(run.out_dir), resolution=resolution,
                   total_steps=steps, seed=0 if run.seed is None else run.seed, split=run.split, config=config,
                   architecture=arch, resume_from=None, start_step=0, device=run.device)


def _phase_kimg(run: TrainingRun, config: StyleGANConfig, resolution: int) -> float:
    """The phase length of a fresh progressive run: set, or its preset's for the run's length."""
    if run.steps is not None and run.kimg is None:
        constant = config.batch_size is not None
        total = run.steps * config.batch_size / 1000.0 if constant else None
    else:
        total = requested_kimg(run)
    try:
        return resolve_phase_kimg(config.phase_kimg, schedule=config.schedule, resolution=resolution,
                                  start_resolution=config.start_resolution, total_kimg=total)
    except ValueError as err:
        raise TrainingSetupError(f"{err} (or a constant --batch with --steps)") from None


def _plan_resume(run: TrainingRun, training: dict[str, str], architecture: dict[str, Any]) -> RunPlan:
    path = list_checkpoints(run.out_dir)[-1][1]
    meta = read_checkpoint_metadata(path)
    asked = {"model": run.model, "category": run.category, "split": run.split,
             "resolution": run.resolution, "seed": run.seed}
    for key, value in asked.items():
        if value is not None and meta.get(key) != value:
            raise TrainingSetupError(
                f"cannot resume {path.name} with {key} {value!r}: it was trained with {meta.get(key)!r}; "
                f"drop the option or choose another --out folder"
            )
    stored = dict(meta["architecture"])
    changed = sorted(key for key, value in architecture.items() if stored.get(key) != value)
    if changed:
        raise TrainingSetupError(f"cannot change the architecture ({', '.join(changed)}) of a run being resumed")
    try:
        base = config_from_dict(run.model, meta["config"])
    except (TypeError, ValueError) as err:
        raise TrainingSetupError(f"{path} has a config this version cannot read ({err})") from None
    config = _configure(base, training)
    return RunPlan(model=run.model, category=run.category, out_dir=Path(run.out_dir),
                   resolution=int(meta["resolution"]),
                   total_steps=total_steps(run, config, int(meta["resolution"])),
                   seed=int(meta["seed"]), split=meta["split"], config=config, architecture=stored,
                   resume_from=path, start_step=int(meta["step"]), device=run.device)


def _configure(config: TrainConfig, training: Mapping[str, str]) -> TrainConfig:
    try:
        return with_overrides(config, training)
    except ValueError as err:
        raise TrainingSetupError(str(err)) from None


def _architecture(model: str, resolution: int, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Every architecture setting (defaults filled in), validated by the registry."""
    try:
        config = get_model(model).make_config(resolution, **overrides)
    except (TypeError, ValueError) as err:
        raise TrainingSetupError(str(err)) from None
    values = dataclasses.asdict(config)
    values.pop("resolution")
    if not is_default_architecture(model, resolution, values):
        try:
            check_fits(model, resolution, values, training=True)
        except ValueError as err:
            raise TrainingSetupError(str(err)) from None
    return values


def schedule_summary(plan: RunPlan) -> str | None:
    """One line on a StyleGAN run's growing schedule and minibatches (None for the other models)."""
    config = plan.config
    if not isinstance(config, StyleGANConfig):
        return None
    objective = make_objective(plan.model, config, plan.resolution)
    batch = (f"minibatch {config.batch_size}" if config.batch_size is not None else
             "minibatch per resolution " + ", ".join(_stage_batches(objective)))
    if len(objective.stages()) == 1:
        return f"{plan.model} at {plan.resolution} px throughout (no growing), {batch}"
    images = objective.images_after(plan.total_steps)
    last = objective.phase(max(images - 1, 0))
    line = (f"{plan.model} schedule {config.schedule}: {config.phase_kimg:g} kimg per fade and per stabilisation "
            f"from {config.start_resolution} px, {batch}; the run ends at {last.stage} px")
    if last.stage < plan.resolution or last.alpha < 1.0:
        line += (f" before growing to {plan.resolution} px; --set schedule=short fits the phases to the run"
                 if config.schedule == "official" else f" before growing to {plan.resolution} px")
    return line


def _stage_batches(objective: LogisticObjective) -> list[str]:
    return [f"{stage} px: {objective.batch_size(GrowthPhase(stage, 1.0))}" for stage in objective.stages()]
