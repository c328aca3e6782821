"""The real side of a class: extracted once per data, class, extractor and preprocessing, cached,
and an interrupted extraction resumes from its last finished chunk with the same features."""

from __future__ import annotations

import errno

import numpy as np
import pytest
import torch

from slbench.data import load_dataset
from slbench.evaluation.context import EvaluationContext, LpipsHandle
from slbench.features.extractor import FeatureExtractor

CHUNK = 5  # 12 images per class: chunks of 5, 5 and 2


class CountingNet(torch.nn.Module):
    """Per-channel means and maxima; counts the images it saw and can stop after ``stop_after`` calls."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.images_seen, self.calls, self.stop_after = 0, 0, stop_after

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.stop_after is not None and self.calls == self.stop_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.images_seen += len(images)
        x = images.float()
        return torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)


def make_context(dataset, net: torch.nn.Module, *, resolution: int = 16, name: str = "counting") -> EvaluationContext:
    extractor = FeatureExtractor(name=name, network=net, dim=6, weights_sha256="a" * 64, input_resolution=16,
                                 resize_filter="none", device="cpu")
    return EvaluationContext(dataset=dataset, extractor=extractor, lpips=LpipsHandle(None, {}), resolution=resolution,
                             seed=0, bootstrap=0, batch=CHUNK, device=torch.device("cpu"))


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr("slbench.features.chunked_cache.REAL_CHUNK", CHUNK)


def test_a_second_run_reads_the_real_side_from_the_cache(synthetic_dataset, small_chunks):
    dataset = load_dataset(synthetic_dataset)
    first = make_context(dataset, CountingNet())
    assert not first.real_entry("MEL").exists()
    real = first.real_side("MEL")
    assert first.extractor.network.images_seen == 12 and real.provenance["cached"] is False
    assert first.real_entry("MEL").exists()
    assert not first.real_entry("MEL").partial_dir.exists()  # chunks removed once the entry is complete

    second = make_context(load_dataset(synthetic_dataset), CountingNet())
    again = second.real_side("MEL")
    assert second.extractor.network.images_seen == 0 and again.provenance["cached"] is True
    np.testing.assert_array_equal(again.features, real.features)
    for other in (make_context(dataset, CountingNet(), resolution=24), make_context(dataset, CountingNet(), name="x")):
        assert not other.real_entry("MEL").exists()  # another resolution or extractor: another entry
    assert not second.real_entry("NV").exists()


def test_an_interrupted_extraction_resumes_from_the_last_finished_chunk(synthetic_dataset, small_chunks,
                                                                      tmp_path, monkeypatch):
    dataset = load_dataset(synthetic_dataset)
    interrupted = make_context(dataset, CountingNet(stop_after=1))  # the second chunk never finishes
    with pytest.raises(KeyboardInterrupt):
        interrupted.real_side("NV")
    entry = interrupted.real_entry("NV")
    assert not entry.exists() and sorted(p.name for p in entry.partial_dir.iterdir()) == ["chunk-00000.safetensors"]

    resumed = make_context(dataset, CountingNet())
    features = resumed.real_side("NV").features
    assert resumed.extractor.network.images_seen == 7  # chunks 1 and 2 only
    assert resumed.real_side("NV").provenance["chunks_extracted"] == 2

    monkeypatch.setenv("SLBENCH_CACHE", str(tmp_path / "fresh-cache"))
    fresh = make_context(dataset, CountingNet()).real_side("NV").features
    np.testing.assert_array_equal(features, fresh)


def test_cached_features_of_other_pixels_are_not_used(synthetic_dataset, small_chunks):
    dataset = load_dataset(synthetic_dataset)
    context = make_context(dataset, CountingNet())
    expected = context.real_side("DF").features
    entry = context.real_entry("DF")
    entry.finish("0" * 64, np.zeros((12, 6)))  # an entry for the same name, computed from other images
    again = make_context(dataset, CountingNet())
    np.testing.assert_array_equal(again.real_side("DF").features, expected)
    assert again.extractor.network.images_seen == 12


def test_a_full_cache_disk_only_means_nothing_is_stored(synthetic_dataset, small_chunks, monkeypatch, tmp_path):
    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    dataset = load_dataset(synthetic_dataset)
    expected = make_context(dataset, CountingNet()).real_side("BCC").features
    monkeypatch.setenv("SLBENCH_CACHE", str(tmp_path / "full-cache"))
    monkeypatch.setattr("slbench.features.cache.save_safetensors", full)
    context = make_context(dataset, CountingNet())
    np.testing.assert_array_equal(context.real_side("BCC").features, expected)
    assert not context.real_entry("BCC").exists() and not context.real_entry("BCC").partial_dir.exists()
