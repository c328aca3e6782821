"""LPIPS diversity: the same number as the network's own call, batched or not; pairs drawn right."""

from __future__ import annotations

import warnings

import lpips
import numpy as np
import pytest
import torch


from slbench.errors import SlbenchError
from slbench.metrics import lpips_diversity
from slbench.metrics.lpips_diversity import sample_pairs

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def net():
    """LPIPS with the real AlexNet architecture, a random backbone and the package's linear layers."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        return lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False)


@pytest.fixture(scope="module")
def images():
    """Twelve smooth random 32 px images in [0, 1]."""
    generator = torch.Generator().manual_seed(0)
    coarse = torch.rand(12, 3, 6, 6, generator=generator)
    return torch.nn.functional.interpolate(coarse, size=32, mode="bilinear", align_corners=False).clamp(0, 1)


def direct_mean(net, images, first, second) -> float:
    with torch.no_grad():
        scores = [float(net(images[i : i + 1] * 2 - 1, images[j : j + 1] * 2 - 1)) for i, j in zip(first, second)]
    return float(np.mean(scores))


def test_equals_the_mean_of_single_pair_calls(net, images):
    first, second = sample_pairs(12, 20, seed=3)
    expected = direct_mean(net, images, first, second)
    assert lpips_diversity(images, pairs=20, seed=3, net=net) == pytest.approx(expected, rel=1e-5)


def test_batch_size_and_memory_budget_do_not_change_the_value(net, images):
    whole = lpips_diversity(images, pairs=30, net=net, batch_size=64)
    assert lpips_diversity(images, pairs=30, net=net, batch_size=1) == pytest.approx(whole, rel=1e-5)
    # a budget of a few images' features forces several groups, each computed separately
    assert lpips_diversity(images, pairs=30, net=net, batch_size=5, cache_bytes=1) == pytest.approx(whole, rel=1e-5)


def test_any_module_with_the_lpips_call_works(net, images):
    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = net

        def forward(self, x, y):
            return self.inner(x, y)

    expected = lpips_diversity(images, pairs=25, net=net)
    assert lpips_diversity(images, pairs=25, net=Wrapped(), batch_size=4) == pytest.approx(expected, rel=1e-5)


def test_identical_images_have_no_diversity_and_different_ones_some(net, images):
    assert lpips_diversity(images[:1].repeat(6, 1, 1, 1), net=net) == pytest.approx(0.0, abs=1e-7)
    assert lpips_diversity(images, net=net) > 0.0


def test_loads_the_verified_network_when_none_is_given(monkeypatch, net, images):
    import slbench.features

    calls = []
    monkeypatch.setattr(slbench.features, "load_lpips", lambda: calls.append(1) or net)
    value = lpips_diversity(images, pairs=10, device="cpu")
    assert calls == [1]
    assert value == pytest.approx(lpips_diversity(images, pairs=10, net=net), rel=1e-6)


def test_pairs_are_distinct_unordered_and_uniform():
    first, second = sample_pairs(50, 1000, seed=0)
    assert len(set(zip(first.tolist(), second.tolist()))) == 1000
    assert np.all(first < second) and second.max() < 50
    counts = np.bincount(np.concatenate([first, second]), minlength=50)
    assert counts.min() > 20 and counts.max() < 60  # each image in about 2000 / 50 = 40 pairs
    every_first, every_second = sample_pairs(5, 1000, seed=0)
    assert list(zip(every_first.tolist(), every_second.tolist())) == [
        (0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)
    ]
    assert not np.array_equal(sample_pairs(50, 100, seed=1)[0], sample_pairs(50, 100, seed=2)[0])


def test_unranking_covers_every_pair_exactly_once():
    from slbench.metrics.lpips_diversity import _unrank_pairs

    for n in (2, 3, 7, 300):
        first, second = _unrank_pairs(np.arange(n * (n - 1) // 2), n)
        expected_first, expected_second = np.triu_indices(n, k=1)
        np.testing.assert_array_equal(first, expected_first)
        np.testing.assert_array_equal(second, expected_second)


def test_bad_images_are_refused(net, images):
    with pytest.raises(SlbenchError, match="at least 2 images"):
        lpips_diversity(images[:1], net=net)
    with pytest.raises(SlbenchError, match=r"images in \[0, 1\]; got values from -0\.9"):
        lpips_diversity(images * 2 - 1, net=net)
    with pytest.raises(SlbenchError, match="N x 3 x H x W"):
        lpips_diversity(images[:, :1], net=net)
    as_uint8 = (images * 255).round().to(torch.uint8)
    assert lpips_diversity(as_uint8, pairs=5, net=net) == pytest.approx(
        lpips_diversity(as_uint8.float() / 255, pairs=5, net=net), rel=1e-6
    )
