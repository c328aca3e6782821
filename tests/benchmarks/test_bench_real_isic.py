"""The three models trained for one budget on real ISIC melanoma images, measured in `lesion` space.

Run with ``make bench`` (not part of the test suite). Each model trains on the MEL images of
the ISIC 2018 sample (``../shared/data/isic-sample``; skipped when absent) at 32 px for the
same number of images, ``slbench train --models all --kimg K`` style, and is compared with its
own untrained initialisation: FID, precision, recall and coverage in the feature space of the
``lesion`` extractor trained on the sample's seven classes. ``SLBENCH_BENCH_KIMG`` sets the
budget (default 19.2 kimg, 1,200 steps of SL-StyleGAN's batch of 16). Every model's
convolutions are capped at 32 feature maps (``--set fmap_max=32``, one rule for all three), so
the whole benchmark stays within CPU minutes per model; StyleGAN also runs with a 1k-image weight
average and the ``short`` schedule at a batch of 16 (the official 600k-image phases and
per-resolution minibatches would leave it at 8 px, 150 steps into its first phase); the others
keep their papers' batches. The figures land in pytest-benchmark's ``extra_info`` and are
printed.
"""

from __future__ import annotations

import os

import pytest
import torch

from generators import build_generator, load_checkpoint
from slbench.data import load_dataset, load_images
from slbench.evaluation.samples import generate_uint8
from slbench.features import get_extractor
from slbench.metrics import density_coverage, fid, precision_recall
from slbench.training import train_models
from evaluation_builders import train_tiny_lesion_extractor

RESOLUTION = 32
KIMG = float(os.environ.get("SLBENCH_BENCH_KIMG", "19.2"))
N_FAKE = 500
SETTINGS = ("fmap_max=32", "stylegan:ema_kimg=1", "stylegan:schedule=short", "stylegan:batch_size=16",
            "snapshot_every=100000")

pytestmark = pytest.mark.usefixtures("one_thread")  # small CPU work: one thread beats contended defaults


def _metrics(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    pr, dc = precision_recall(real, fake), density_coverage(real, fake)
    return {"fid": fid(real, fake), "precision": pr.precision, "recall": pr.recall, "coverage": dc.coverage}


def test_equal_budget_training_on_real_melanoma(benchmark, isic_sample, tmp_path):
    figures = equal_budget_figures(isic_sample, tmp_path, run=lambda train: benchmark.pedantic(train, rounds=1,
                                                                                               iterations=1))
    benchmark.extra_info.update(figures)
    for key, values in figures.items():
        print(key, ", ".join(f"{name} {value:.4g}" for name, value in values.items()))
    kimg = {key: values["kimg"] for key, values in figures.items() if "kimg" in values}
    assert len(set(kimg.values())) == 1, kimg  # train_models rounds the budget to one every model ends on


def equal_budget_figures(data, tmp_path, *, run=lambda train: train()) -> dict[str, dict[str, float]]:
    """Per ``"<model>/untrained"`` and ``"<model>/trained"``: FID, precision, recall, coverage (and kimg)."""
    store = tmp_path / "lesion"
    store.mkdir()
    train_tiny_lesion_extractor(data, store, resolution=RESOLUTION, epochs=8)
    dataset = load_dataset(data)
    extractor = get_extractor("lesion", data_fingerprint=dataset.fingerprint(), resolution=RESOLUTION,
                              weights_dir=store, device="cpu")
    real = extractor.extract(load_images(dataset.records("MEL"), RESOLUTION))
    models = ("sl-stylegan", "stylegan", "dcgan")

    def train_all() -> None:
        train_models(models=models, category="MEL", data=data, kimg=KIMG, resolution=RESOLUTION,
                     out=tmp_path / "checkpoints", seed=0, settings=SETTINGS, device="cpu")

    run(train_all)
    figures: dict[str, dict[str, float]] = {}
    for model in models:
        trained, metadata = load_checkpoint(tmp_path / "checkpoints" / model / "MEL")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            untrained = build_generator(model, RESOLUTION, **metadata["architecture"]).eval()
        for name, generator in (("untrained", untrained), ("trained", trained)):
            fake = extractor.extract(generate_uint8(generator, N_FAKE, seed=1, resolution=RESOLUTION))
            figures[f"{model}/{name}"] = _metrics(real, fake)
        figures[f"{model}/trained"]["kimg"] = metadata["images_seen"] / 1000
    return figures
