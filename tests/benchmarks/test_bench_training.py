"""Training speed: one full step (D update, G update, EMA) of each model, in images per second.

CPU: each model at 64 px with its published architecture and batch 4 (a full StyleGAN step at
64 px is tens of seconds of CPU time per 4 images). CUDA (skipped without it): each model at
256 px, batch 16, float32 against bf16 autocast, with peak memory. Run with ``make bench``; the
figures land in pytest-benchmark's ``extra_info``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from generators.training import TrainingData, TrainingRun, plan_run
from generators.training.distributed import DistContext
from generators.training.loop import setup, train_step

CPU_BATCH = 4
CUDA_BATCH = 16
MODELS = ("sl-stylegan", "stylegan", "dcgan")


def _state(model: str, resolution: int, batch: int, device: torch.device, tmp_path: Path, *, amp: bool = True):
    overrides = {"amp": str(amp).lower(), "progressive": "false"} if model == "stylegan" else {"amp": str(amp).lower()}
    plan = plan_run(TrainingRun(model=model, category="MEL", out_dir=tmp_path, resolution=resolution, steps=10**6,
                                batch_size=batch, overrides=overrides, device=device.type))
    images = torch.randint(0, 256, (64, 3, resolution, resolution), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    data = TrainingData(images=images, category="MEL", fingerprint="0" * 64)
    return setup(plan, data, DistContext(device=device))


def _step(state) -> None:
    train_step(state)
    state.pending.clear()
    if state.context.device.type == "cuda":
        torch.cuda.synchronize(state.context.device)


@pytest.mark.parametrize("model", MODELS)
def test_cpu_training_step_at_64_px(benchmark, model, tmp_path):
    state = _state(model, 64, CPU_BATCH, torch.device("cpu"), tmp_path)
    _step(state)  # first call pays for kernel selection and allocation
    benchmark.pedantic(_step, args=(state,), rounds=2, iterations=1)
    benchmark.extra_info["images_per_second"] = CPU_BATCH / benchmark.stats.stats.mean
    benchmark.extra_info["threads"] = torch.get_num_threads()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["fp32", "bf16-amp"])
@pytest.mark.parametrize("model", MODELS)
def test_cuda_training_step_at_256_px(benchmark, model, precision, tmp_path):
    device = torch.device("cuda")
    state = _state(model, 256, CUDA_BATCH, device, tmp_path, amp=precision != "fp32")
    for _ in range(3):
        _step(state)
    torch.cuda.reset_peak_memory_stats(device)
    benchmark.pedantic(_step, args=(state,), rounds=20, iterations=1)
    benchmark.extra_info["images_per_second"] = CUDA_BATCH / benchmark.stats.stats.mean
    benchmark.extra_info["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    benchmark.extra_info["gpu"] = torch.cuda.get_device_name(device)
