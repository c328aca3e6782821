"""The image and feature caches verify a checksum of each entry's content on every read.

A flipped byte anywhere in an entry (its header, its data, its stored checksum) is caught:
the entry is deleted, recomputed from the images, and one warning line names the file. The
recomputed result equals what an undamaged cache gives, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from slbench.console import console
from slbench.data import load_dataset, load_images
from slbench.features import cached_features
from slbench.paths import cache_dir
from test_features_cache import images, make_extractor

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SLBENCH_CACHE", str(tmp_path / "cache"))


def _flip(path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def _warnings(capture) -> list[str]:
    return [line for line in capture.get().splitlines() if line.startswith("warning:")]


@pytest.mark.parametrize("where", [0.999, 0.75, 0.5, 0.25])
def test_a_flipped_byte_in_a_feature_entry_is_caught_and_recomputed(where):
    extractor = make_extractor()
    real = images(0, count=40)
    first = cached_features(extractor, real, key={"category": "MEL"})
    (entry,) = list(cache_dir("features").iterdir())
    _flip(entry, int(entry.stat().st_size * where))
    with console.capture() as capture:
        again = cached_features(extractor, real, key={"category": "MEL"})
    np.testing.assert_array_equal(again, first)
    assert extractor.network.images_seen == 80  # computed twice: the damaged entry was not used
    lines = _warnings(capture)
    assert len(lines) == 1 and str(entry) in lines[0] and "recomputing" in lines[0]
    with console.capture() as capture:
        cached_features(extractor, real, key={"category": "MEL"})
    assert extractor.network.images_seen == 80 and _warnings(capture) == []


@pytest.mark.parametrize("where", [-1, -40, -100, 20, 200])
def test_a_flipped_byte_in_an_image_entry_is_caught_and_recomputed(synthetic_dataset, where):
    records = load_dataset(synthetic_dataset).records("MEL")
    first = load_images(records, 16).clone()
    (entry,) = list(cache_dir("images").iterdir())
    _flip(entry, where)
    with console.capture() as capture:
        again = load_images(records, 16)
    assert torch.equal(again, first)
    lines = _warnings(capture)
    assert len(lines) == 1 and str(entry) in lines[0]
    with console.capture() as capture:
        assert torch.equal(load_images(records, 16), first)
    assert _warnings(capture) == []


def test_a_truncated_image_entry_is_caught(synthetic_dataset):
    records = load_dataset(synthetic_dataset).records("MEL")
    first = load_images(records, 16).clone()
    (entry,) = list(cache_dir("images").iterdir())
    entry.write_bytes(entry.read_bytes()[:50])
    with console.capture() as capture:
        assert torch.equal(load_images(records, 16), first)
    assert len(_warnings(capture)) == 1
