"""Torch's CPU thread count for small work.

Multi-threaded CPU kernels split their sums by thread count, so one thread makes small CPU
training bit-identical on any machine; networks this small gain little from more threads and
lose much when the cores are shared (two threads in one process on a busy two-core machine
were 25 times slower per step).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def single_cpu_thread() -> Iterator[None]:
    """Run torch on one CPU thread, then restore the previous thread count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
