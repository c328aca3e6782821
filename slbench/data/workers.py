"""A thread pool for per-file work (hashing, header checks, decoding).

Pillow's decoders, hashlib and torch's resize kernels release the GIL, so threads scale on
these jobs without the start-up cost or result copying of worker processes.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from slbench.console import make_progress

Item = TypeVar("Item")
Result = TypeVar("Result")

PROGRESS_MIN_ITEMS = 500  # below this the work takes about a second: no bar
MAX_WORKERS = 16


def worker_count() -> int:
    """The CPU cores this process may use (its affinity mask), at most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has affinity masks
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def thread_map(fn: Callable[[Item], Result], items: Sequence[Item], *, description: str = "") -> list[Result]:
    """``[fn(item) for item in items]`` on a thread pool, in order, with a progress bar for long lists."""
    workers = worker_count()
    if workers == 1 or len(items) < 2:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(fn, items, chunksize=1)
        if not description or len(items) < PROGRESS_MIN_ITEMS:
            return list(results)
        collected: list[Result] = []
        with make_progress(transient=True) as progress:
            task = progress.add_task(description, total=len(items))
            for result in results:
                collected.append(result)
                progress.advance(task)
        return collected
