"""Two processes on CPU (gloo) train one model together and end with identical networks."""

from __future__ import annotations

import os
import socket

import torch
import torch._dynamo  # noqa: F401  (optimisers import it; once here, the forked children share it)
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file
from training_support import checkpoint_tensors, random_images, run_tiny

WORLD_SIZE = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, port: int, out: str, results: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD_SIZE))
    from pathlib import Path

    result = run_tiny("dcgan", Path(out), random_images(12), steps=3)
    state = {f"G.{k}": v for k, v in result.generator.state_dict().items()}
    state.update({f"D.{k}": v for k, v in result.discriminator.state_dict().items()})
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(results, f"rank{rank}.safetensors"))


def test_two_gloo_processes_end_with_the_same_weights_and_one_checkpoint(tmp_path):
    out, results = tmp_path / "checkpoints", tmp_path / "results"
    results.mkdir()
    # fork: the children inherit the imported modules instead of importing torch again
    mp.start_processes(_worker, args=(_free_port(), str(out), str(results)), nprocs=WORLD_SIZE, join=True,
                       start_method="fork")
    rank0 = load_file(str(results / "rank0.safetensors"))
    rank1 = load_file(str(results / "rank1.safetensors"))
    assert rank0.keys() == rank1.keys()
    assert [key for key in rank0 if not torch.equal(rank0[key], rank1[key])] == []
    saved = checkpoint_tensors(out)
    assert all(torch.equal(saved[key], rank0[key]) for key in rank0)
    metadata = (out / "step-0000003.json").read_text()
    assert '"world_size": 2' in metadata
    assert sorted(p.name for p in out.iterdir()) == [
        "latest", "step-0000003.json", "step-0000003.png", "step-0000003.safetensors"]
