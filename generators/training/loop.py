"""The training loop: setup, one step, snapshot, and the run that strings them together.

Every step is one discriminator update then one generator update on a batch chosen by
:class:`~generators.training.sampler.StepSampler` (a pure function of seed and step), with the
moving average of the generator updated after the generator step. Every ``log_every`` steps,
and before anything is saved, the losses of the steps since the last check are fetched at once
and checked: a NaN or an infinity stops the run before a checkpoint could record it. A
snapshot (every ``snapshot_every`` steps, at the end, and on Ctrl-C) writes a checkpoint with
the RNG states of every process and a grid of images from fixed latents.

On CUDA the forward passes run under bf16 or fp16 autocast (``amp``, fp16 with a dynamic loss
scale: :mod:`generators.training.precision`), the networks and images in
channels-last layout (``channels_last``) and with ``cudnn.benchmark``; on CPU everything is
float32 and bit-for-bit reproducible, so a run resumed from step N ends with exactly the weights
of an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import importlib.metadata
import platform
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol

import torch
from torch import nn

from generators.checkpoint import (
    checkpoint_name,
    load_module_state,
    module_tensors,
    non_finite_tensors,
    read_checkpoint,
    read_checkpoint_metadata,
    save_checkpoint,
)
from generators.registry import build_discriminator, build_generator
from generators.training.distributed import (
    DistContext,
    any_process,
    average_gradients,
    broadcast_state,
    gather_objects,
    init_from_env,
    shutdown,
)
from generators.training.ema import ema_beta, make_ema_copy, update_ema
from generators.training.images import image_grid, to_uint8, write_png
from generators.training.objectives import Objective, make_objective
from generators.training.precision import LossScaler, autocast_context, make_loss_scaler, precision_record
from generators.training.run import (
    NonFiniteLossError,
    RunPlan,
    TrainingData,
    TrainingInterrupted,
    TrainingResult,
    TrainingSetupError,
)
from generators.training.sampler import StepSampler, derive_seed, real_batch
from generators.training.schedule import GrowthPhase
from generators.training.state import capture_rng, load_optimizer, optimizer_tensors, restore_rng

LOSS_NAMES = ("loss_D", "loss_G")
PACKAGES = ("slbench", "torch", "safetensors", "numpy", "pillow")


class Reporter(Protocol):
    """Receives progress from the main process (a progress bar, a log, or nothing)."""

    def start(self, *, start_step: int, total_steps: int) -> None: ...

    def update(self, step: int, stats: Mapping[str, float]) -> None: ...

    def note(self, message: str) -> None: ...


class SilentReporter:
    """A :class:`Reporter` that reports nothing."""

    def start(self, *, start_step: int, total_steps: int) -> None:
        pass

    def update(self, step: int, stats: Mapping[str, float]) -> None:
        pass

    def note(self, message: str) -> None:
        pass


@dataclass
class TrainingState:
    """Everything a step changes, and what it needs to change it."""

    plan: RunPlan
    data: TrainingData
    context: DistContext
    objective: Objective
    generator: nn.Module
    discriminator: nn.Module
    generator_ema: nn.Module | None
    optimizer_g: torch.optim.Optimizer
    optimizer_d: torch.optim.Optimizer
    sampler: StepSampler
    images: torch.Tensor
    step: int
    images_seen: int  # before step ``step``
    images_before: int  # before step ``step - 1`` (equal to images_seen at step 0)
    scaler: LossScaler
    last_checkpoint: Path | None = None
    pending: list[tuple[int, torch.Tensor]] = field(default_factory=list)

    @property
    def autocast(self) -> contextlib.AbstractContextManager:
        return autocast_context(self.plan.config.amp, self.context.device)

    @property
    def memory_format(self) -> torch.memory_format:
        if self.context.device.type == "cuda" and self.plan.config.channels_last:
            return torch.channels_last
        return torch.contiguous_format

    @property
    def sampled_generator(self) -> nn.Module:
        return self.generator_ema if self.generator_ema is not None else self.generator


CheckpointHook = Callable[[int, Path], None]
"""Called as ``hook(step, weights_path)`` on the main process after each regular checkpoint."""


def train(plan: RunPlan, data: TrainingData, *, reporter: Reporter | None = None,
          on_checkpoint: CheckpointHook | None = None) -> TrainingResult:
    """Run a plan to its last step; joins a process group when launched by ``torchrun``.

    ``on_checkpoint`` hears of every checkpoint written on schedule (every ``snapshot_every``
    steps and at the end, not the one Ctrl-C writes) while that file is still on disk, before
    ``keep_last`` can delete it: an evaluation hook reads it from there. It runs on the main
    process with the RNG states forked, so whatever it does leaves training bit for bit as it
    would be without it; the other processes wait for it at their next collective."""
    context = init_from_env(plan.device)
    try:
        state = setup(plan, data, context)
        active = reporter if (reporter is not None and context.is_main) else SilentReporter()
        return run_steps(state, active, on_checkpoint if context.is_main else None)
    finally:
        shutdown(context)


def setup(plan: RunPlan, data: TrainingData, context: DistContext) -> TrainingState:
    """Networks, optimisers and sampler for a plan, restored from its checkpoint when resuming."""
    _check_data(plan, data, context)
    if context.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(derive_seed(plan.seed, "init"))
    generator = build_generator(plan.model, plan.resolution, **plan.architecture)
    discriminator = build_discriminator(plan.model, plan.resolution, **plan.architecture)
    for module in (generator, discriminator):
        module.to(context.device).train()
        if context.device.type == "cuda" and plan.config.channels_last:
            module.to(memory_format=torch.channels_last)
    generator_ema = make_ema_copy(generator) if plan.config.ema_kimg > 0 else None
    objective = make_objective(plan.model, plan.config, plan.resolution)
    state = TrainingState(
        plan=plan, data=data, context=context, objective=objective,
        generator=generator, discriminator=discriminator, generator_ema=generator_ema,
        optimizer_g=_adam(generator, plan, context), optimizer_d=_adam(discriminator, plan, context),
        sampler=StepSampler(len(data.images), max(objective.batch_sizes()), seed=plan.seed, rank=context.rank,
                            world_size=context.world_size, flip=plan.config.flip),
        images=data.images.to(context.device), step=plan.start_step,
        images_seen=objective.images_after(plan.start_step),
        images_before=objective.images_after(max(plan.start_step - 1, 0)),
        scaler=make_loss_scaler(plan.config.amp, context.device),
    )
    if plan.resume_from is not None:
        _restore(state, plan.resume_from)
    else:
        torch.manual_seed(derive_seed(plan.seed, "train", context.rank))
    broadcast_state([m for m in (generator, discriminator, generator_ema) if m is not None], context)
    return state


def run_steps(state: TrainingState, reporter: Reporter, on_checkpoint: CheckpointHook | None = None) -> TrainingResult:
    """Train until the plan's last step, checking losses, reporting and taking snapshots."""
    plan, config = state.plan, state.plan.config
    reporter.start(start_step=state.step, total_steps=plan.total_steps)
    stats: dict[str, float] = {}
    if state.step >= plan.total_steps:
        reporter.note(f"{plan.out_dir} is already at step {state.step} of {plan.total_steps}: nothing to do")
    with interrupt_requests() as interrupt:
        window_start, window_images = time.perf_counter(), state.images_seen
        while state.step < plan.total_steps:
            train_step(state)
            at_snapshot = state.step % config.snapshot_every == 0 or state.step == plan.total_steps
            stop = interrupt.requested and not state.context.distributed
            if stop or at_snapshot or state.step % config.log_every == 0:
                stats = check_losses(state)
                stop = any_process(interrupt.requested, state.context)
                elapsed = max(time.perf_counter() - window_start, 1e-9)
                stats["img/s"] = (state.images_seen - window_images) / elapsed
                stats["kimg"] = state.images_seen / 1000.0
                reporter.update(state.step, stats)
                window_start, window_images = time.perf_counter(), state.images_seen
            if at_snapshot or stop:
                snapshot(state)
            if at_snapshot and not stop and on_checkpoint is not None:
                devices = [state.context.device] if state.context.device.type == "cuda" else []
                with torch.random.fork_rng(devices=devices):
                    on_checkpoint(state.step, state.last_checkpoint)
                window_start = time.perf_counter()
            if stop:
                raise TrainingInterrupted(state.step, state.last_checkpoint, interrupt.signal_name)
    return TrainingResult(step=state.step, images_seen=state.images_seen, checkpoint=state.last_checkpoint,
                          losses={k: v for k, v in stats.items() if k in LOSS_NAMES},
                          generator=state.sampled_generator, discriminator=state.discriminator)


def train_step(state: TrainingState) -> None:
    """One discriminator update, one generator update, one moving-average update."""
    step, objective, sampler = state.step, state.objective, state.sampler
    phase = objective.phase(state.images_seen)
    size = objective.batch_size(phase)
    real = real_batch(state.images, sampler.batch(step, start=state.images_seen, size=size),
                      state.discriminator.image_range)
    real = objective.prepare_reals(real, phase).contiguous(memory_format=state.memory_format)
    z_dim, device = state.generator.z_dim, state.context.device
    z_d = sampler.latents(step, z_dim, stream="D", size=size).to(device, non_blocking=True)
    z_g = sampler.latents(step, z_dim, stream="G", size=size).to(device, non_blocking=True)
    lr = objective.learning_rate(step, phase)
    reset = objective.resets_optimizers(objective.phase(state.images_before), phase)
    for optimizer in (state.optimizer_d, state.optimizer_g):
        if reset:
            optimizer.state.clear()
        for group in optimizer.param_groups:
            group["lr"] = lr
    loss_d = discriminator_step(state, real, z_d, phase)
    loss_g = generator_step(state, z_g, phase)
    if state.generator_ema is not None:
        update_ema(state.generator_ema, state.generator, ema_beta(size, state.plan.config.ema_kimg))
    state.pending.append((step + 1, torch.stack([loss_d, loss_g])))
    state.step += 1
    state.images_before, state.images_seen = state.images_seen, state.images_seen + size


def discriminator_step(state: TrainingState, real: torch.Tensor, z: torch.Tensor, phase: GrowthPhase) -> torch.Tensor:
    """Minimise the discriminator's loss (plus R1 on the reals) for one batch."""
    objective, generator, discriminator = state.objective, state.generator, state.discriminator
    g_options, d_options = objective.generator_options(phase), objective.discriminator_options(phase)
    with torch.no_grad(), state.autocast:
        fake = generator(z, **g_options)
    real = real.detach().requires_grad_(objective.r1_gamma > 0)
    with state.autocast:
        real_scores = discriminator(real, **d_options)
        fake_scores = discriminator(fake.contiguous(memory_format=state.memory_format), **d_options)
    loss = reported = objective.discriminator_loss(real_scores.float(), fake_scores.float())
    if objective.r1_gamma > 0:
        penalty = state.scaler.r1_penalty(real_scores, real, gamma=objective.r1_gamma)
        loss, reported = loss + penalty, state.scaler.reported(loss.detach(), penalty)
    state.optimizer_d.zero_grad(set_to_none=True)
    state.scaler.backward(loss)
    average_gradients(discriminator.parameters(), state.context)
    state.scaler.step(state.optimizer_d)
    return reported.detach()


def generator_step(state: TrainingState, z: torch.Tensor, phase: GrowthPhase) -> torch.Tensor:
    """Minimise the generator's loss for one batch, the discriminator held fixed."""
    objective, generator, discriminator = state.objective, state.generator, state.discriminator
    discriminator.requires_grad_(False)
    try:
        with state.autocast:
            fake = generator(z, **objective.generator_options(phase))
            scores = discriminator(fake.contiguous(memory_format=state.memory_format),
                                   **objective.discriminator_options(phase))
        loss = objective.generator_loss(scores.float())
        state.optimizer_g.zero_grad(set_to_none=True)
        state.scaler.backward(loss)
    finally:
        discriminator.requires_grad_(True)
    average_gradients(generator.parameters(), state.context)
    state.scaler.step(state.optimizer_g)
    return loss.detach()


def check_losses(state: TrainingState) -> dict[str, float]:
    """Fetch the losses since the last check; stop the run if any is not finite.

    Returns the mean of each loss over those steps.
    """
    if not state.pending:
        return {}
    steps = [step for step, _ in state.pending]
    values = torch.stack([value for _, value in state.pending]).float().cpu()
    state.pending.clear()
    finite = torch.isfinite(values)
    if any_process(not bool(finite.all()), state.context):
        kept = f"the last good checkpoint {state.last_checkpoint} is kept" if state.last_checkpoint \
            else "no checkpoint had been written yet"
        if finite.all():
            where = f"on another process by step {steps[-1]}"
        else:
            row, column = (~finite).nonzero()[0].tolist()
            where = f"({LOSS_NAMES[column]} = {values[row, column].item()}) at step {steps[row]}"
        raise NonFiniteLossError(
            f"training stopped: a loss became non-finite {where}; {kept}; "
            "lower the learning rate (--set lr=...) or resume from the checkpoint with another seed"
        )
    problem = state.scaler.check()
    if problem is not None:
        raise NonFiniteLossError(f"training stopped at step {steps[-1]}: {problem}; train with --amp bf16 or off")
    return {name: values[:, index].mean().item() for index, name in enumerate(LOSS_NAMES)}


def snapshot(state: TrainingState) -> Path:
    """Write a checkpoint and a sample grid of the current step (rank 0); every rank takes part."""
    modules = [m for m in (state.generator, state.discriminator, state.generator_ema) if m is not None]
    broadcast_state(modules, state.context, buffers_only=True)
    rng_states = gather_objects(capture_rng(state.context.device), state.context)
    plan = state.plan
    path = plan.out_dir / f"{checkpoint_name(state.step)}.safetensors"
    if state.context.is_main:
        path = save_checkpoint(plan.out_dir, state.step, _checkpoint_tensors(state),
                               checkpoint_metadata(state, rng_states), keep_last=plan.config.keep_last)
        write_png(path.with_suffix(".png"), image_grid(to_uint8(sample_grid(state))))
    state.last_checkpoint = path
    return path


def sample_grid(state: TrainingState) -> torch.Tensor:
    """The snapshot images: fixed latents (the run's seed) through the sampled generator."""
    devices = [state.context.device] if state.context.device.type == "cuda" else []
    options = state.objective.sampling_options(state.objective.phase(state.images_seen))
    with torch.random.fork_rng(devices=devices):
        return state.sampled_generator.sample(state.plan.config.grid_size, seed=state.plan.seed,
                                              batch_size=state.plan.config.grid_size, **options)


def checkpoint_metadata(state: TrainingState, rng_states: list) -> dict[str, Any]:
    """What the checkpoint's JSON says about the run, the data and the software."""
    plan, data = state.plan, state.data
    _, opt_g = optimizer_tensors(state.optimizer_g, "G")
    _, opt_d = optimizer_tensors(state.optimizer_d, "D")
    phase = state.objective.phase(state.images_seen)
    return {
        "model": plan.model, "resolution": plan.resolution, "category": plan.category,
        "config": dataclasses.asdict(plan.config), "architecture": dict(plan.architecture),
        "step": state.step, "images_seen": state.images_seen, "seed": plan.seed,
        "data_fingerprint": data.fingerprint, "split": data.split, "split_fingerprint": data.split_fingerprint,
        "num_images": int(len(data.images)), "data": dict(data.info),
        "sampled_weights": "G_ema" if state.generator_ema is not None else "G",
        "growth": {"stage": phase.stage, "alpha": phase.alpha},
        "precision": precision_record(plan.config.amp, state.context.device, state.scaler),
        "rng": {"world_size": state.context.world_size, "states": rng_states},
        "optimizers": {"G": opt_g, "D": opt_d},
        "device": state.context.device.type, "world_size": state.context.world_size,
        "packages": package_versions(),
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape a checkpoint."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


class _InterruptFlag:
    requested = False
    signal_name = "SIGINT"


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and what `timeout` and batch schedulers send


@contextlib.contextmanager
def interrupt_requests() -> Iterator[_InterruptFlag]:
    """Turn the first Ctrl-C or SIGTERM into a request to stop after the current step; a second one aborts."""
    flag = _InterruptFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def handle(signum, frame):
        if flag.requested:
            for number, handler in previous.items():
                signal.signal(number, handler)
            raise KeyboardInterrupt
        flag.requested = True
        flag.signal_name = signal.Signals(signum).name

    for signum in STOP_SIGNALS:
        signal.signal(signum, handle)
    try:
        yield flag
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _checkpoint_tensors(state: TrainingState) -> dict[str, torch.Tensor]:
    tensors = {**module_tensors(state.generator, "G."), **module_tensors(state.discriminator, "D.")}
    if state.generator_ema is not None:
        tensors.update(module_tensors(state.generator_ema, "G_ema."))
    tensors.update(optimizer_tensors(state.optimizer_g, "G")[0])
    tensors.update(optimizer_tensors(state.optimizer_d, "D")[0])
    return tensors


def _restore(state: TrainingState, path: Path) -> None:
    tensors, meta = read_checkpoint(path)
    broken = non_finite_tensors(tensors)
    if broken:
        raise TrainingSetupError(f"{path} holds non-finite values ({broken[0]}), so training cannot continue from it; "
                                 "move it and its .json aside to resume from the checkpoint before it, or train "
                                 "into a new folder")
    load_module_state(state.generator, tensors, "G.", source=path)
    load_module_state(state.discriminator, tensors, "D.", source=path)
    if state.generator_ema is not None:
        has_ema = any(key.startswith("G_ema.") for key in tensors)
        load_module_state(state.generator_ema, tensors, "G_ema." if has_ema else "G.", source=path)
    scale = (meta.get("precision") or {}).get("loss_scale")
    if state.scaler.enabled and isinstance(scale, (int, float)):
        state.scaler = make_loss_scaler(state.plan.config.amp, state.context.device, init_scale=float(scale))
    load_optimizer(state.optimizer_g, "G", tensors, meta["optimizers"]["G"])
    load_optimizer(state.optimizer_d, "D", tensors, meta["optimizers"]["D"])
    states = meta["rng"]["states"]
    if meta["rng"]["world_size"] == state.context.world_size:
        restore_rng(states[state.context.rank], state.context.device)
    else:
        torch.manual_seed(derive_seed(state.plan.seed, "train", state.context.rank, state.step))
    state.last_checkpoint = path


def _check_data(plan: RunPlan, data: TrainingData, context: DistContext) -> None:
    images = data.images
    expected = ("N", 3, plan.resolution, plan.resolution)
    if images.dtype != torch.uint8 or images.dim() != 4 or tuple(images.shape[1:]) != expected[1:]:
        raise TrainingSetupError(f"training images must be uint8 {' x '.join(map(str, expected))}, "
                                 f"got {images.dtype} {tuple(images.shape)}")
    if len(images) == 0:
        raise TrainingSetupError(f"no training images for category {plan.category}")
    if data.split != plan.split:
        raise TrainingSetupError(f"the data are the {data.split!r} split but the run trains on {plan.split!r}")
    sizes = make_objective(plan.model, plan.config, plan.resolution).batch_sizes()
    odd = sorted(size for size in sizes if size % context.world_size)
    if odd:
        raise TrainingSetupError(f"batch size {odd[0]} does not divide among "
                                 f"{context.world_size} processes; choose a multiple of {context.world_size}")
    if plan.resume_from is not None:
        meta = read_checkpoint_metadata(plan.resume_from)
        for key, value in (("data_fingerprint", data.fingerprint), ("split_fingerprint", data.split_fingerprint)):
            if meta.get(key) != value:
                raise TrainingSetupError(f"cannot resume {plan.resume_from.name}: its {key.replace('_', ' ')} "
                                         "differs from the data given; resume on the same data or start a new run")


def _adam(module: nn.Module, plan: RunPlan, context: DistContext) -> torch.optim.Adam:
    config = plan.config
    fused = True if context.device.type == "cuda" else None
    return torch.optim.Adam(module.parameters(), lr=config.lr, betas=tuple(config.betas), eps=config.adam_eps,
                            fused=fused)
