"""Speed of `slbench utility` on CPU: classifier training throughput, and the tiny configuration end to end.

Run with `make bench`. Throughput is images through one optimiser step (forward, backward,
AdamW) of the ResNet-18 per second, with augmentation, at 32 and 64 px, batch 32. The tiny
configuration is the built-in synthetic data (7 classes x 12 images) at 32 px with DCGAN
checkpoints for every class, 6 synthetic images added per class (the built-in classes are equal in
size, so --balance would add none), 3 seeds and 2 epochs: all three arms.
"""

from __future__ import annotations

import time

import pytest
import torch

from slbench.training import train_model
from slbench.utility import run_utility
from slbench.utility.classifier import ClassifierConfig, train_classifier

N_IMAGES = 128


@pytest.mark.parametrize("resolution", [32, 64])
def test_classifier_training_images_per_second(benchmark, resolution):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (N_IMAGES, 3, resolution, resolution), generator=generator, dtype=torch.uint8)
    labels = torch.arange(N_IMAGES) % 7
    config = ClassifierConfig(epochs=1, batch_size=32)
    seconds: list[float] = []

    def train_one_epoch():
        start = time.perf_counter()
        train_classifier(images, labels, num_classes=7, config=config, seed=0, device=torch.device("cpu"))
        seconds.append(time.perf_counter() - start)

    benchmark.pedantic(train_one_epoch, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info["images_per_second"] = round(N_IMAGES / min(seconds), 1)
    benchmark.extra_info["threads"] = torch.get_num_threads()


def test_tiny_configuration_end_to_end(benchmark, synthetic_dataset, tmp_path):
    checkpoints = tmp_path / "checkpoints"
    for category in ("AKIEC", "BCC", "BKL", "DF", "NV", "MEL", "VASC"):
        train_model(model="dcgan", category=category, data=synthetic_dataset, resolution=32, steps=1, batch=4,
                    out=checkpoints / "dcgan" / category, split="train", settings=["ngf=8", "ndf=8"])
    seconds: list[float] = []

    def run_tiny():
        start = time.perf_counter()
        run_utility(data=synthetic_dataset, models="dcgan", categories="all", checkpoints=checkpoints, seeds=3,
                    epochs=2, synthetic_per_class=6, out=tmp_path / f"run-{len(seconds)}")
        seconds.append(time.perf_counter() - start)

    benchmark.pedantic(run_tiny, rounds=1, iterations=1)
    benchmark.extra_info["seconds"] = round(seconds[0], 1)
