"""Data parallelism across processes started by ``torchrun`` (or any launcher setting the env).

Each process holds a full copy of both networks and trains on its share of the global batch;
after every backward pass the gradients are averaged across processes with one flat
all-reduce, so every process applies the same update and the copies stay identical. This is
what ``DistributedDataParallel`` does, done by hand as in stylegan2-ada-pytorch
(``training/training_loop.py``), because the R1 penalty needs a double backward through the
discriminator, which DDP's reducer does not support. Buffers (BatchNorm statistics, StyleGAN's
average ``w``) are taken from rank 0 before anything is saved, as DDP's ``broadcast_buffers``.
The backend is NCCL on CUDA and gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank, how many there are, and its device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    owns_group: bool = False  # this run created the process group and so destroys it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else CPU; ``cpu`` and ``cuda`` are taken as given."""
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was asked for but is not available; use device 'cpu' or 'auto'")
    return device


def init_from_env(preference: str = "auto") -> DistContext:
    """Join the process group the launcher describes (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``).

    Without ``WORLD_SIZE`` > 1 this is a single process on the preferred device.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    device = select_device(preference)
    if world_size <= 1:
        return DistContext(device=device)
    rank = int(os.environ["RANK"])
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo",
                                rank=rank, world_size=world_size)
    return DistContext(rank=rank, world_size=world_size, device=device, owns_group=owns_group)


def shutdown(context: DistContext) -> None:
    """Destroy the process group if this run created it."""
    if context.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def average_gradients(parameters: Iterable[nn.Parameter], context: DistContext) -> None:
    """Average the gradients of ``parameters`` over all processes (one flat all-reduce)."""
    if not context.distributed:
        return
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return
    flat = torch.cat([p.grad.flatten() for p in params])
    dist.all_reduce(flat)
    flat /= context.world_size
    for param, chunk in zip(params, flat.split([p.numel() for p in params])):
        param.grad.copy_(chunk.view_as(param.grad))


def broadcast_state(modules: Sequence[nn.Module], context: DistContext, *, buffers_only: bool = False) -> None:
    """Copy rank 0's parameters (unless ``buffers_only``) and buffers to every process."""
    if not context.distributed:
        return
    with torch.no_grad():
        for module in modules:
            tensors = list(module.buffers()) if buffers_only else [*module.parameters(), *module.buffers()]
            for tensor in tensors:
                dist.broadcast(tensor, src=0)


def any_process(flag: bool, context: DistContext) -> bool:
    """True on every process when ``flag`` is true on at least one."""
    if not context.distributed:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=context.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def gather_objects(obj: object, context: DistContext) -> list[object]:
    """``obj`` from every process, in rank order (a one-element list without a process group)."""
    if not context.distributed:
        return [obj]
    gathered: list[object] = [None] * context.world_size
    dist.all_gather_object(gathered, obj)
    return gathered
