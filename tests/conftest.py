"""Shared fixtures: tests run offline on CPU, with fixed seeds and a private cache folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import thread_limits

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "isic-sample"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test's caches out of the user's home folder."""
    monkeypatch.setenv("SLBENCH_CACHE", str(tmp_path_factory.mktemp("slbench-cache")))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.mktemp("torch-home")))


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


@pytest.fixture
def one_thread():
    """Run a test on one torch and BLAS thread (see :mod:`thread_limits`)."""
    with thread_limits.one_thread():
        yield


@pytest.fixture
def isic_sample() -> Path:
    """The real ISIC 2018 sample shipped beside the checkout; skipped when it is absent."""
    if not (SHARED_DATA / "ISIC2018_Task3_Training_GroundTruth.csv").is_file():
        pytest.skip(f"real ISIC sample not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory) -> Path:
    """The built-in synthetic dataset (ISIC 2018 layout, 12 images per class, 64 x 48), written once per session."""
    from slbench.data.synth import write_synthetic_dataset

    return write_synthetic_dataset(
        tmp_path_factory.mktemp("synthetic") / "lesions", per_class=12, balanced=True, seed=0, image_size=(64, 48)
    )
