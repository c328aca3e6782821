"""The ``lesion`` extractor: it learns the classes of the built-in data, is stored without pickle,
is found by the dataset's fingerprint, and says how to train it when it is missing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from generators.safe_io import sha256_file
from slbench.cli import app
from slbench.data import CATEGORIES, load_dataset, load_images, split_by_lesion
from slbench.errors import SlbenchError
from slbench.features import get_extractor
from slbench.features.lesion import LesionTrainConfig, balanced_accuracy, fit_lesion_net, lesion_dir, model_stem


def _images_and_labels(side: dict) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = [], []
    for category, records in side.items():
        images.append(load_images(records, 32))
        labels.append(torch.full((len(records),), CATEGORIES.index(category), dtype=torch.long))
    return torch.cat(images), torch.cat(labels)


def test_lesion_net_separates_held_out_synthetic_classes(synthetic_dataset):
    split = split_by_lesion(load_dataset(synthetic_dataset), test_fraction=0.25, seed=0)
    train_x, train_y = _images_and_labels(split.train)
    test_x, test_y = _images_and_labels(split.test)
    assert set(test_y.tolist()) == set(range(len(CATEGORIES)))
    net = fit_lesion_net(train_x, train_y, LesionTrainConfig(resolution=32, epochs=10, batch_size=16, seed=0))
    chance = 1 / len(CATEGORIES)
    assert balanced_accuracy(net, test_x, test_y) >= 0.6 > 3 * chance
    with torch.inference_mode():
        train_f, test_f = net.features(train_x).numpy(), net.features(test_x).numpy()
    centroids = np.stack([train_f[train_y.numpy() == c].mean(0) for c in range(len(CATEGORIES))])
    nearest = np.linalg.norm(test_f[:, None, :] - centroids[None], axis=2).argmin(1)
    assert (nearest == test_y.numpy()).mean() >= 0.6


def test_balanced_accuracy_gives_a_majority_class_guesser_chance_not_its_share():
    class AlwaysFirstClass(torch.nn.Module):
        def logits(self, images: torch.Tensor) -> torch.Tensor:
            return torch.tensor([1.0, 0.0, 0.0]).repeat(len(images), 1)

    labels = torch.tensor([0] * 8 + [1, 2])
    images = torch.zeros(len(labels), 3, 16, 16, dtype=torch.uint8)
    assert balanced_accuracy(AlwaysFirstClass(), images, labels) == pytest.approx(1 / 3)  # plain accuracy: 0.8


def test_training_is_deterministic_for_a_seed():
    images = torch.randint(0, 256, (14, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(3))
    labels = torch.arange(14) % len(CATEGORIES)
    config = LesionTrainConfig(resolution=16, epochs=2, batch_size=8, seed=5)
    first, second = fit_lesion_net(images, labels, config), fit_lesion_net(images, labels, config)
    other = fit_lesion_net(images, labels, LesionTrainConfig(resolution=16, epochs=2, batch_size=8, seed=6))
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert not torch.equal(first.embed.weight, other.embed.weight)


@pytest.fixture(scope="module")
def trained(synthetic_dataset, tmp_path_factory):
    """`slbench features train` run once at 16 px, one epoch, in a cache of its own."""
    cache = tmp_path_factory.mktemp("lesion-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLBENCH_CACHE", str(cache))
        result = CliRunner().invoke(app, ["features", "train", "--data", str(synthetic_dataset),
                                          "--resolution", "16", "--epochs", "1", "--seed", "2"])
    assert result.exit_code == 0, result.output
    return cache, load_dataset(synthetic_dataset).fingerprint()


def test_trained_extractor_is_found_by_fingerprint(trained, monkeypatch, synthetic_dataset):
    cache, fingerprint = trained
    monkeypatch.setenv("SLBENCH_CACHE", str(cache))
    metadata_path = lesion_dir() / f"{model_stem(fingerprint, 16)}.json"
    metadata = json.loads(metadata_path.read_text())
    assert metadata["config"] == {**metadata["config"], "resolution": 16, "epochs": 1, "seed": 2}
    assert metadata["data_fingerprint"] == fingerprint
    extractor = get_extractor("lesion", data_fingerprint=fingerprint, resolution=16, device="cpu")
    assert (extractor.name, extractor.dim, extractor.input_resolution) == ("lesion", 128, 16)
    assert extractor.weights_sha256 == sha256_file(metadata_path.with_suffix(".safetensors"))
    images = load_images(load_dataset(synthetic_dataset).records("MEL")[:3], 16)
    with torch.inference_mode():
        expected = extractor.network.features(images).double().numpy()
    np.testing.assert_allclose(extractor.extract(images, batch_size=2), expected, rtol=1e-6, atol=1e-6)


def test_missing_extractor_names_the_train_command(trained, monkeypatch):
    cache, fingerprint = trained
    monkeypatch.setenv("SLBENCH_CACHE", str(cache))
    with pytest.raises(SlbenchError, match=r"slbench features train --data PATH") as raised:
        get_extractor("lesion", data_fingerprint="0" * 64)
    assert "no lesion extractor trained for this dataset" in str(raised.value)
    with pytest.raises(SlbenchError, match=r"at 64px \(trained for this data at: 16px\)") as raised:
        get_extractor("lesion", data_fingerprint=fingerprint)
    assert "slbench features train --data PATH --resolution 64" in str(raised.value)
    with pytest.raises(SlbenchError, match=r"slbench features train --data PATH --resolution 32"):
        get_extractor("lesion", data_fingerprint=fingerprint, resolution=32)
    with pytest.raises(SlbenchError, match="needs the dataset it was trained on"):
        get_extractor("lesion")


def test_tampered_weights_are_refused(trained, monkeypatch, tmp_path):
    cache, fingerprint = trained
    copy = tmp_path / "lesion"
    copy.mkdir()
    stem = model_stem(fingerprint, 16)
    for suffix in (".json", ".safetensors"):
        (copy / f"{stem}{suffix}").write_bytes((cache / "lesion" / f"{stem}{suffix}").read_bytes())
    data = bytearray((copy / f"{stem}.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (copy / f"{stem}.safetensors").write_bytes(bytes(data))
    with pytest.raises(SlbenchError, match="does not match its metadata"):
        get_extractor("lesion", data_fingerprint=fingerprint, resolution=16, weights_dir=copy)


def test_train_command_rejects_bad_input(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(app, ["features", "train", "--data", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "error:" in missing.output
    for resolution in ("48", "8", "2048"):
        bad = runner.invoke(app, ["features", "train", "--data", str(tmp_path), "--resolution", resolution])
        assert bad.exit_code == 2 and "power of two from 16 to 1024" in " ".join(bad.output.split())


def test_an_extractor_of_another_split_is_not_replaced(trained, synthetic_dataset, monkeypatch, tmp_path):
    cache, fingerprint = trained
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    monkeypatch.setenv("SLBENCH_CACHE", str(copy))
    stored = lesion_dir() / f"{model_stem(fingerprint, 16)}.json"
    before = stored.read_bytes()
    result = CliRunner().invoke(app, ["features", "train", "--data", str(synthetic_dataset), "--resolution", "16",
                                      "--epochs", "1", "--split", "all"])
    assert result.exit_code == 2 and "trained on the training side of the lesion split" in result.output
    assert stored.read_bytes() == before
    again = CliRunner().invoke(app, ["features", "train", "--data", str(synthetic_dataset), "--resolution", "16",
                                     "--epochs", "1", "--seed", "2"])
    assert again.exit_code == 0, again.output  # the same split is trained again in place
