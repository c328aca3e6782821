"""Sharded work across the processes ``torchrun`` starts: each rank does a disjoint share of the
chunks of a job, rank 0 gathers the results in chunk order and does everything else.

Work is cut into numbered chunks whose content depends only on their number (generation seeds
every chunk of 256 images from the run seed and the chunk's index; see
:mod:`slbench.evaluation.samples`). Chunk ``i`` of a round goes to rank ``i mod world size``,
each rank computes its chunk, and ``torch.distributed.gather_object`` brings the results to
rank 0, which stores them by chunk number. The pooled result is therefore the same, bit for
bit on CPU, as one process computing every chunk in turn, whatever the number of ranks.

Only rank 0 prints, writes files and computes metrics; the others are silent (their console
is quiet) and wait in the next collective. Decisions that could fail on bad input (the results
folder, a resumed run's record) are taken on rank 0 and sent to every rank, so a refused run
stops every process with the same one-line error instead of leaving the others waiting.

The process group comes from :mod:`generators.training.distributed` (gloo on CPU, NCCL on
CUDA), the same code ``torchrun -m slbench train`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

import torch
import torch.distributed as dist

from generators.training.distributed import DistContext, init_from_env, shutdown
from slbench.console import console
from slbench.errors import SlbenchError

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """This process's place among the ranks of one run (one rank without a process group)."""

    context: DistContext = DistContext()

    @property
    def rank(self) -> int:
        return self.context.rank

    @property
    def world_size(self) -> int:
        return self.context.world_size

    @property
    def is_main(self) -> bool:
        return self.context.is_main

    @property
    def device(self) -> torch.device:
        return self.context.device


SINGLE = Shard()


def open_shard(device: str | torch.device | None) -> Shard:
    """Join the launcher's process group (if any) and silence the console on ranks other than 0.

    Under torchrun each rank uses its own GPU (``LOCAL_RANK``) unless ``device`` says otherwise.
    """
    try:
        context = init_from_env("auto" if device is None else str(torch.device(device)))
    except ValueError as err:
        raise SlbenchError(str(err)) from None
    if not context.is_main:
        console.quiet = True
    return Shard(context)


def close_shard(shard: Shard) -> None:
    """Leave the process group if this run created it."""
    shutdown(shard.context)


def map_chunks(shard: Shard, chunks: Sequence[int], work: Callable[[int], T],
               collect: Callable[[int, T], None]) -> None:
    """``collect(i, work(i))`` on rank 0 for every chunk ``i`` of ``chunks``, in order.

    Every rank must call this with the same ``chunks``. ``work`` returns CPU tensors or arrays
    (they travel pickled to rank 0); ``collect`` is only called on rank 0, once per round, so a
    caller can save finished chunks as they arrive.
    """
    if not shard.context.distributed:
        for index in chunks:
            collect(index, work(index))
        return
    size, rank = shard.world_size, shard.rank
    for start in range(0, len(chunks), size):
        mine = chunks[start + rank] if start + rank < len(chunks) else None
        result = (mine, work(mine) if mine is not None else None)
        gathered: list[Any] | None = [None] * size if shard.is_main else None
        dist.gather_object(result, gathered, dst=0)
        if gathered is not None:
            for index, value in gathered:
                if index is not None:
                    collect(index, value)


def from_main(shard: Shard, decide: Callable[[], T]) -> T:
    """``decide()`` run on rank 0 and its result (or its SlbenchError) handed to every rank."""
    if not shard.context.distributed:
        return decide()
    message: list[Any] = [None]
    if shard.is_main:
        try:
            message = [("ok", decide())]
        except SlbenchError as err:
            message = [("error", str(err))]
    dist.broadcast_object_list(message, src=0)
    status, payload = message[0]
    if status == "error":
        raise SlbenchError(payload)
    return payload
