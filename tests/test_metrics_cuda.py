"""The metric suite on CUDA agrees with the CPU: every metric of one evaluation, within stated tolerances.

Skipped without a CUDA device. TF32 is switched off, so float32 Gram products are float32 on
both devices; they still sum in another order, so:

* FID and FID-infinity are computed in float64 throughout (the square root too): relative 1e-9;
* KID, the RBF MMD and the Vendi scores sum float64 kernels of float32 Gram products: relative 1e-5;
* the k-NN metrics (precision, recall, density, coverage, memorisation) count samples inside
  balls whose radii may differ in the last float32 bit: a sample on a ball's edge may flip, so
  they agree to two samples' worth (2 / N).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from slbench.metrics import MetricSettings, run_evaluation
from slbench.metrics.registry import DEFAULT_FEATURE_METRICS

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

N_REAL, N_FAKE, DIM = 3000, 2500, 256
FLOAT64_RTOL = 1e-9
KERNEL_RTOL = 1e-5
COUNT_ATOL = 2.0 / min(N_REAL, N_FAKE)
FLOAT64_METRICS = ("fid", "fid_infinity")
COUNT_METRICS = ("precision", "recall", "density", "coverage", "memorisation")


@pytest.fixture(autouse=True)
def _strict_float32():
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _features() -> tuple[np.ndarray, np.ndarray]:
    """Real features from a correlated Gaussian, generated ones shifted, a little narrower, some near-copies."""
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((DIM, DIM)) / np.sqrt(DIM)
    real = rng.standard_normal((N_REAL, DIM)) @ mixing + 1.0
    fake = 0.95 * rng.standard_normal((N_FAKE, DIM)) @ mixing + 1.02
    fake[:50] = real[:50] + 1e-3 * rng.standard_normal((50, DIM))  # memorised samples
    return real, fake


def test_every_metric_agrees_between_gpu_and_cpu():
    real, fake = _features()
    settings = MetricSettings(metrics=DEFAULT_FEATURE_METRICS, bootstrap=20, seed=1)
    cpu = {v.metric: v for v in run_evaluation(real, fake, settings=settings, device="cpu").values}
    gpu = {v.metric: v for v in run_evaluation(real, fake, settings=settings, device="cuda").values}
    assert cpu.keys() == gpu.keys()
    for name, value in cpu.items():
        if name in FLOAT64_METRICS:
            tolerance = {"rel": FLOAT64_RTOL}
        elif name in COUNT_METRICS:
            tolerance = {"abs": COUNT_ATOL}
        else:
            tolerance = {"rel": KERNEL_RTOL, "abs": 1e-12}
        assert gpu[name].value == pytest.approx(value.value, **tolerance), name
        assert np.isfinite(value.value), name
