"""The feature cache: hit, miss, invalidation by every key part, damaged entries, concurrent writers."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from generators.safe_io import load_safetensors_with_metadata
from slbench.features import cached_features
from slbench.features.cache import cache_key, entry_path, image_content_sha256
from slbench.features.extractor import FeatureExtractor
from slbench.paths import cache_dir


class CountingNet(torch.nn.Module):
    """Per-channel means and maxima of each image; counts how many images it has seen."""

    def __init__(self) -> None:
        super().__init__()
        self.images_seen = 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.images_seen += len(images)
        x = images.float()
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)


def make_extractor(**overrides) -> FeatureExtractor:
    settings = dict(name="counting", network=CountingNet(), dim=6, weights_sha256="a" * 64,
                    input_resolution=16, resize_filter="none", device="cpu")
    return FeatureExtractor(**{**settings, **overrides})


def images(seed: int, count: int = 5) -> torch.Tensor:
    return torch.randint(0, 256, (count, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def test_second_evaluation_of_the_same_class_does_not_run_the_extractor():
    extractor = make_extractor()
    real = images(0)
    first = cached_features(extractor, real, key={"category": "MEL", "resize": "squash"})
    assert extractor.network.images_seen == 5
    again = cached_features(extractor, real.clone(), key={"resize": "squash", "category": "MEL"})
    assert extractor.network.images_seen == 5
    np.testing.assert_array_equal(first, again)
    assert again.dtype == np.float64 and again.shape == (5, 6)


def test_a_fresh_extractor_object_reuses_the_cache():
    cached_features(make_extractor(), images(0), key={"category": "NV"})
    other = make_extractor()
    cached_features(other, images(0), key={"category": "NV"})
    assert other.network.images_seen == 0


@pytest.mark.parametrize(
    "change",
    ["pixel", "category", "weights", "resolution", "filter", "name"],
)
def test_any_changed_key_part_recomputes(change):
    base_images, key = images(0), {"category": "MEL"}
    cached_features(make_extractor(), base_images, key=key)
    overrides, new_images, new_key = {}, base_images.clone(), dict(key)
    if change == "pixel":
        new_images[2, 1, 3, 4] ^= 1
    elif change == "category":
        new_key["category"] = "BCC"
    elif change == "weights":
        overrides["weights_sha256"] = "b" * 64
    elif change == "resolution":
        overrides["input_resolution"] = 32
    elif change == "filter":
        overrides["resize_filter"] = "bicubic"
    else:
        overrides["name"] = "counting-v2"
    extractor = make_extractor(**overrides)
    cached_features(extractor, new_images, key=new_key)
    assert extractor.network.images_seen == 5


def test_content_hash_ignores_memory_layout_but_not_shape():
    real = images(1)
    assert image_content_sha256(real) == image_content_sha256(real.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2))
    assert image_content_sha256(real) != image_content_sha256(real.reshape(5, 3, 8, 32))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong-key"])
def test_damaged_entry_is_discarded_and_recomputed(damage):
    extractor, real, key = make_extractor(), images(2), {"category": "DF"}
    expected = cached_features(extractor, real, key=key)
    path, _ = entry_path(cache_key(extractor, image_content_sha256(real), key))
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-7])
    elif damage == "garbage":
        path.write_bytes(b"not a safetensors file at all")
    else:  # a valid file whose metadata is another key's (a stale or swapped entry)
        cached_features(extractor, real[:2], key={"category": "NV"})
        path.write_bytes(_entry_for(extractor, real[:2], {"category": "NV"}).read_bytes())
    extractor.network.images_seen = 0
    np.testing.assert_array_equal(cached_features(extractor, real, key=key), expected)
    assert extractor.network.images_seen == 5
    cached_features(extractor, real, key=key)
    assert extractor.network.images_seen == 5


def _entry_for(extractor, real, key):
    return entry_path(cache_key(extractor, image_content_sha256(real), key))[0]


def test_concurrent_writers_leave_one_complete_entry():
    """Two writers rewrite one entry over and over; a reader never sees a partial file."""
    real, key = images(3, count=400), {"category": "VASC"}
    expected = make_extractor().network(real).double().numpy()
    path = _entry_for(make_extractor(), real, key)
    errors: list[BaseException] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for _ in range(20):
                path.unlink(missing_ok=True)  # force a write on every round
                np.testing.assert_array_equal(cached_features(make_extractor(), real, key=key), expected)
        except BaseException as err:  # collected and re-raised in the main thread
            errors.append(err)

    def reader() -> None:
        while not done.is_set():
            try:
                tensors, _ = load_safetensors_with_metadata(path)
            except FileNotFoundError:
                continue
            except BaseException as err:
                errors.append(err)
                return
            if not np.array_equal(tensors["features"].numpy(), expected):
                errors.append(AssertionError("reader saw wrong features"))

    threads = [threading.Thread(target=writer) for _ in range(2)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watcher.join()
    assert not errors, errors[0]
    assert [p.name for p in cache_dir("features").iterdir()] == [path.name]  # no temporary files left behind
    reader_extractor = make_extractor()
    np.testing.assert_array_equal(cached_features(reader_extractor, real, key=key), expected)
    assert reader_extractor.network.images_seen == 0
