"""Speed of slbench's metrics against the reference implementations, on the same inputs, in one run.

Run with ``make bench``. Two comparisons:

* feature metrics on N real and N generated 2048-d float32 features (N = 5,000 and 10,000;
  non-negative and correlated like Inception pool features): ``evaluate_features`` computing
  FID, KID, precision/recall, density/coverage and memorisation, against torch-fidelity's
  ``fid_features_to_statistics`` + ``fid_statistics_to_metric``, ``kid_features_to_metric`` and
  ``prc_features_to_metric`` plus ``prdc.compute_prdc``, all with their default settings.
  Target: ours at most half their combined time. Both sides' values are checked to agree.
* LPIPS diversity over 1,000 pairs of 256 px images (AlexNet LPIPS with a random backbone and
  the package's linear layers: the real architecture, no download): ``lpips_diversity`` against
  a loop of single-pair ``net(x, y)`` calls over the same pairs, for a set of 200 images (each
  image in about 10 pairs, as when a class's generated set is a few hundred images) and for
  1,000 images (each in about 2 pairs, where only batching helps). Target: at least 5x.

Each way runs once (a single pass takes from seconds to minutes); the times and ratios are
printed at the end.
"""

from __future__ import annotations

import warnings

import lpips
import numpy as np
import pytest
import torch
from prdc import compute_prdc
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_kid import kid_features_to_metric
from torch_fidelity.metric_prc import prc_features_to_metric

from slbench.metrics import evaluate_features, lpips_diversity
from slbench.metrics.lpips_diversity import sample_pairs

DIM = 2048
SIZES = (5000, 10000)
OURS = ("fid", "kid", "precision", "recall", "density", "coverage", "memorisation")
LPIPS_PAIRS = 1000
LPIPS_RESOLUTION = 256
LPIPS_SETS = (200, 1000)
TARGETS = {"features": 2.0, "lpips": 5.0}
KID_SEED = 2020  # torch-fidelity's default seed: both sides draw the same KID subsets


@pytest.fixture(scope="module")
def timings(request):
    """Seconds of each way, printed with the speed-ups when the module ends."""
    found: dict[tuple[str, int, str], float] = {}
    yield found
    lines = [f"metrics benchmark ({torch.get_num_threads()} torch threads):"]
    for (kind, size, way), seconds in sorted(found.items()):
        lines.append(f"  {kind:8s} N={size:6d} {way:10s} {seconds:9.2f} s")
        baseline = found.get((kind, size, "reference"))
        if way == "slbench" and baseline:
            lines.append(f"  {'':8s} {'':8s} speed-up {baseline / seconds:6.2f}x (target >= {TARGETS[kind]:.0f}x)")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
        reporter.write_line("\n" + "\n".join(lines))


def inception_like(n: int, shift: float, seed: int) -> np.ndarray:
    """Non-negative correlated float32 features: a rectified low-rank signal plus noise."""
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(1234).standard_normal((64, DIM), dtype=np.float32) / 8
    latent = rng.standard_normal((n, 64), dtype=np.float32) + shift
    return np.maximum(latent @ mixing + 0.5 * rng.standard_normal((n, DIM), dtype=np.float32), 0.0)


@pytest.fixture(scope="module", params=SIZES, ids=lambda n: f"N{n}")
def feature_sets(request):
    n = request.param
    return n, inception_like(n, 0.0, seed=1), inception_like(n, 0.1, seed=2), {}


def run_reference(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """torch-fidelity (generated set as its input 1) and prdc, default settings."""
    real_t, fake_t = torch.from_numpy(real), torch.from_numpy(fake)
    stats = fid_features_to_statistics(fake_t), fid_features_to_statistics(real_t)
    out = dict(fid_statistics_to_metric(*stats, verbose=False))
    out.update(kid_features_to_metric(fake_t, real_t, verbose=False))
    out.update(prc_features_to_metric(fake_t, real_t, verbose=False))
    prdc = compute_prdc(real, fake, nearest_k=5)
    out.update({"density": prdc["density"], "coverage": prdc["coverage"]})
    return out


def test_feature_metrics_slbench(benchmark, feature_sets, timings):
    n, real, fake, results = feature_sets
    run = lambda: evaluate_features(real, fake, metrics=OURS, seed=KID_SEED)  # noqa: E731
    values = benchmark.pedantic(run, rounds=1, iterations=1)
    timings[("features", n, "slbench")] = benchmark.stats.stats.min
    results["slbench"] = {v.metric: v.value for v in values}


def test_feature_metrics_reference(benchmark, feature_sets, timings):
    n, real, fake, results = feature_sets
    reference = benchmark.pedantic(lambda: run_reference(real, fake), rounds=1, iterations=1)
    timings[("features", n, "reference")] = benchmark.stats.stats.min
    if "slbench" not in results:
        return
    ours = results["slbench"]
    assert ours["fid"] == pytest.approx(reference["frechet_inception_distance"], rel=1e-6)
    assert ours["kid"] == pytest.approx(reference["kernel_inception_distance_mean"], rel=1e-5)
    assert ours["precision"] == pytest.approx(reference["precision"], abs=1e-6)
    assert ours["recall"] == pytest.approx(reference["recall"], abs=1e-6)
    assert ours["density"] == pytest.approx(reference["density"], abs=1e-6)
    assert ours["coverage"] == pytest.approx(reference["coverage"], abs=1e-6)


@pytest.fixture(scope="module")
def lpips_net():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        return lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False).eval()


@pytest.fixture(scope="module", params=LPIPS_SETS, ids=lambda n: f"images{n}")
def lpips_images(request):
    """Smooth random images in [0, 1], like blurry lesions."""
    generator = torch.Generator().manual_seed(request.param)
    coarse = torch.rand(request.param, 3, 16, 16, generator=generator)
    images = torch.nn.functional.interpolate(coarse, size=LPIPS_RESOLUTION, mode="bilinear", align_corners=False)
    return request.param, images.clamp(0, 1), {}


def single_pair_loop(net, images: torch.Tensor) -> float:
    first, second = sample_pairs(images.shape[0], LPIPS_PAIRS, seed=0)
    with torch.inference_mode():
        scores = [float(net(images[i : i + 1] * 2 - 1, images[j : j + 1] * 2 - 1)) for i, j in zip(first, second)]
    return float(np.mean(scores))


def test_lpips_slbench(benchmark, lpips_net, lpips_images, timings):
    n, images, results = lpips_images
    run = lambda: lpips_diversity(images, pairs=LPIPS_PAIRS, seed=0, net=lpips_net)  # noqa: E731
    results["slbench"] = benchmark.pedantic(run, rounds=1, iterations=1)
    timings[("lpips", n, "slbench")] = benchmark.stats.stats.min


def test_lpips_reference(benchmark, lpips_net, lpips_images, timings):
    n, images, results = lpips_images
    value = benchmark.pedantic(lambda: single_pair_loop(lpips_net, images), rounds=1, iterations=1)
    timings[("lpips", n, "reference")] = benchmark.stats.stats.min
    if "slbench" in results:
        assert results["slbench"] == pytest.approx(value, rel=1e-5)
