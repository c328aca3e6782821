"""Launching `slbench run` (or `slbench track`) on several gloo processes the way torchrun does (environment variables),
by forking, so the children inherit the parent's imports and the test's patches."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import torch
import torch._dynamo  # noqa: F401  (imported once here, so the forked children share it)
import torch.multiprocessing as mp

from slbench.errors import SlbenchError
from slbench.evaluation import runner


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, options: dict, reports: str, target) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size))
    from slbench.console import console

    try:
        (target or runner.run_evaluation)(**options)
        outcome = "finished"
    except SlbenchError as err:
        outcome = f"error: {err}"
    Path(reports, f"rank{rank}.json").write_text(json.dumps({"outcome": outcome, "quiet": console.quiet}))


def run_ranks(options: dict, reports: Path, world_size: int = 2, target=None) -> tuple[list[dict], float]:
    """Every rank's outcome (finished or the error) and whether its console was quiet, and the wall seconds;
    each rank calls ``target(**options)`` (default: :func:`slbench.evaluation.runner.run_evaluation`)."""
    reports.mkdir()
    start = time.perf_counter()
    mp.start_processes(_worker, args=(world_size, _free_port(), options, str(reports), target), nprocs=world_size,
                       join=True, start_method="fork")
    seconds = time.perf_counter() - start
    return [json.loads((reports / f"rank{rank}.json").read_text()) for rank in range(world_size)], seconds
