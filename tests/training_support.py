"""Helpers shared by the training, checkpoint and generate tests: tiny models, quick runs."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from generators.training import TrainingData, TrainingResult, TrainingRun, plan_run, train

RESOLUTION = 32
BATCH = 4

# The smallest settings each model allows, so a step takes milliseconds on one CPU core.
TINY = {
    "sl-stylegan": {},  # the reference fixes every width
    "stylegan": {"fmap_base": "64", "fmap_max": "16", "mapping_layers": "2", "z_dim": "16", "w_dim": "16",
                 "phase_kimg": "0.006"},  # steps 0-1 at 8 px, step 2 fades 16 px in, step 3 at 16 px
    "dcgan": {"ngf": "4", "ndf": "4"},
}
MODELS = tuple(TINY)


def random_images(count: int = 10, resolution: int = RESOLUTION, seed: int = 0) -> torch.Tensor:
    """Seeded uint8 N x 3 x R x R stand-ins for real images."""
    return torch.randint(0, 256, (count, 3, resolution, resolution), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(seed))


def training_data(images: torch.Tensor, category: str = "MEL") -> TrainingData:
    return TrainingData(images=images, category=category, fingerprint="f" * 64)


def run_tiny(model: str, out: Path, images: torch.Tensor, *, steps: int, resume: bool = False,
             **settings: str) -> TrainingResult:
    """Train ``model`` with its tiny settings at 32 px, batch 4, for ``steps`` steps in total."""
    overrides = {**TINY[model], "snapshot_every": "1000", "log_every": "1", **settings}
    request = TrainingRun(model=model, category="MEL", out_dir=out, resolution=RESOLUTION, steps=steps,
                          batch_size=BATCH, seed=7, overrides=overrides, resume=resume, device="cpu")
    return train(plan_run(request), training_data(images))


def checkpoint_tensors(folder: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a folder's latest checkpoint, read directly with safetensors."""
    name = (folder / "latest").read_text().strip()
    return load_file(str(folder / f"{name}.safetensors"))
