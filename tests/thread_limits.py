"""One CPU thread for torch and BLAS: the tests' networks and matrices are tiny, so extra
threads only add overhead, and on a shared machine they contend with other work."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(threads)
