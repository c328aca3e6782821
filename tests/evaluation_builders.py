"""Builders shared by the run, check and demo tests: checkpoints, a lesion extractor, a stand-in LPIPS,
a tiny stand-in feature extractor."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import lpips
import pytest
import torch

from generators import build_generator
from generators.checkpoint import module_tensors, save_checkpoint
from slbench.features.extractor import FeatureExtractor

SMALL_ARCHITECTURE = {"dcgan": {"ngf": 8, "ndf": 8}, "sl-stylegan": {}, "stylegan": {}}


def save_generator_checkpoint(
    root: Path,
    model: str,
    category: str,
    *,
    resolution: int = 32,
    seed: int = 0,
    generator: torch.nn.Module | None = None,
    step: int = 1,
    trained: dict[str, Any] | None = None,
) -> Path:
    """A checkpoint folder ``root/<model>/<category>/`` as `slbench train` leaves it, holding
    ``generator`` (or a freshly initialised one, seeded); ``trained`` replaces the metadata saying
    what it was trained on (default: all images, ``split: all``)."""
    architecture = SMALL_ARCHITECTURE[model]
    if generator is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            generator = build_generator(model, resolution, **architecture)
    metadata: dict[str, Any] = {
        "model": model, "resolution": resolution, "category": category, "architecture": architecture,
        "step": step, "images_seen": 16 * step, "seed": seed, **(trained or {"split": "all"}),
    }
    save_checkpoint(root / model / category, step, module_tensors(generator, "G."), metadata)
    return root / model / category


def trained_on_split(data: Path, *, seed: int = 0, test_fraction: float = 0.2) -> dict[str, Any]:
    """Checkpoint metadata of a model trained with `slbench train --split train` on ``data``'s lesion split."""
    from slbench.data import load_dataset, split_by_lesion

    dataset = load_dataset(data)
    split = split_by_lesion(dataset, test_fraction=test_fraction, seed=seed)
    return {"split": "train", "data_fingerprint": dataset.fingerprint(), "split_fingerprint": split.fingerprint("train"),
            "data": {"dataset": str(data), "split_seed": seed, "split_test_fraction": test_fraction}}


def stand_in_lpips(*_args, **_kwargs) -> torch.nn.Module:
    """LPIPS with its published linear layers over a randomly initialised AlexNet (no download);
    seeded, so that every call builds the same network, as loading the real weights would."""
    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        return lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False).eval()


def train_tiny_lesion_extractor(data: Path, store: Path, *, resolution: int = 32, epochs: int = 2,
                                split: str = "train") -> Path:
    """Train the ``lesion`` extractor briefly on ``data`` and copy it to ``store`` (a --weights-dir)."""
    from slbench.features.lesion import train_lesion_extractor

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(store / "cache"))
        metadata = train_lesion_extractor(data=data, resolution=resolution, epochs=epochs, split=split)
    for path in (metadata, metadata.with_suffix(".safetensors")):
        shutil.copy2(path, store / path.name)
    return store


def dcgan_run_with_lesion_extractor(root: Path, data: Path, *, steps: int, settings: tuple[str, ...]) -> dict:
    """A short DCGAN training run on MEL in ``root/dcgan-MEL`` and a tiny lesion extractor in
    ``root/lesion``, with its cache in ``root/cache``: what the track tests and benchmark evaluate."""
    from slbench.training import train_model

    lesion = root / "lesion"
    lesion.mkdir()
    train_tiny_lesion_extractor(data, lesion)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(root / "cache"))
        train_model(model="dcgan", category="MEL", data=data, resolution=32, steps=steps,
                    out=root / "dcgan-MEL", seed=0, settings=settings, device="cpu")
    return {"root": root, "data": data, "weights_dir": lesion, "checkpoints": root / "dcgan-MEL"}


class TinyFeatures(torch.nn.Module):
    """A seeded random convolution pooled two ways: a cheap stand-in with the extractor's interface."""

    def __init__(self) -> None:
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            self.conv = torch.nn.Conv2d(3, 8, 3, stride=2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(images.float() / 255.0))
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)


def tiny_extractor(*_args, device=None, **_kwargs) -> FeatureExtractor:
    return FeatureExtractor(name="tiny", network=TinyFeatures(), dim=16, weights_sha256="b" * 64,
                            input_resolution=32, resize_filter="none", device=device)
