"""Training works, measured: a short CPU budget on the built-in data lowers FID in the `lesion`
feature space well below the untrained initialisation's (a wrong loss sign or a broken update
would leave it as high or raise it)."""

from __future__ import annotations

import pytest
import torch

from generators import build_generator, load_checkpoint
from slbench.data import load_dataset, load_images
from slbench.evaluation.samples import generate_uint8
from slbench.features import get_extractor
from slbench.metrics import fid
from slbench.training import train_model
from evaluation_builders import train_tiny_lesion_extractor

RESOLUTION = 32
N_FAKE = 100
BUDGETS = {  # steps and `slbench train --set` settings: a few seconds of CPU each
    "dcgan": (30, ("ngf=16", "ndf=16", "batch_size=32", "snapshot_every=1000")),
    "sl-stylegan": (15, ("snapshot_every=1000",)),
    # narrow StyleGAN on the short preset at a batch of 16, growing 8 -> 32 px over the first half
    # (phases of 80 images) with a 100-image weight average: the official 10k-image half-life
    # would sample the initialisation, the official phases would never leave 8 px
    "stylegan": (40, ("fmap_base=256", "fmap_max=32", "w_dim=64", "z_dim=64", "mapping_layers=2",
                      "ema_kimg=0.1", "schedule=short", "batch_size=16", "snapshot_every=1000")),
}


@pytest.fixture(scope="module")
def lesion_space(synthetic_dataset, tmp_path_factory):
    """The `lesion` extractor trained on every image of the data (the space these thresholds were set
    in; no ceiling is measured here), and the features of the real MEL images."""
    store = tmp_path_factory.mktemp("lesion")
    train_tiny_lesion_extractor(synthetic_dataset, store, resolution=RESOLUTION, epochs=4, split="all")
    dataset = load_dataset(synthetic_dataset)
    extractor = get_extractor("lesion", data_fingerprint=dataset.fingerprint(), resolution=RESOLUTION,
                              weights_dir=store, device="cpu")
    real = extractor.extract(load_images(dataset.records("MEL"), RESOLUTION))
    return extractor, real


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(BUDGETS))
def test_short_training_lowers_fid_clearly(model, lesion_space, synthetic_dataset, tmp_path):
    extractor, real = lesion_space
    steps, settings = BUDGETS[model]
    train_model(model=model, category="MEL", data=synthetic_dataset, resolution=RESOLUTION, steps=steps,
                out=tmp_path / model, seed=0, settings=settings, device="cpu")
    trained, metadata = load_checkpoint(tmp_path / model)
    assert metadata["step"] == steps
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        untrained = build_generator(model, RESOLUTION, **metadata["architecture"]).eval()

    def fid_of(generator):
        return fid(real, extractor.extract(generate_uint8(generator, N_FAKE, seed=1, resolution=RESOLUTION)))

    before, after = fid_of(untrained), fid_of(trained)
    assert after < 0.5 * before, f"{model}: FID {before:.3f} untrained, {after:.3f} after {steps} steps"
