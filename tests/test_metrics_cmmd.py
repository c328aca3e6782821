"""CMMD / RBF MMD: the reference formula to 1e-9, its name, the shared pass and its bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from metrics_support import structured_features

from slbench.errors import SlbenchError
from slbench.metrics import MetricSettings, centred_interval, cmmd, half_sample_weights, rbf_metric_name, run_evaluation

pytestmark = pytest.mark.usefixtures("one_thread")


def reference_cmmd(x: np.ndarray, y: np.ndarray) -> float:
    """google-research cmmd: embeddings normalised (embedding.py), then distance.py's mmd, in numpy."""
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    x_sqnorms = np.diag(x @ x.T)
    y_sqnorms = np.diag(y @ y.T)
    gamma = 1 / (2 * 10**2)
    k_xx = np.mean(np.exp(-gamma * (-2 * (x @ x.T) + x_sqnorms[:, None] + x_sqnorms[None, :])))
    k_xy = np.mean(np.exp(-gamma * (-2 * (x @ y.T) + x_sqnorms[:, None] + y_sqnorms[None, :])))
    k_yy = np.mean(np.exp(-gamma * (-2 * (y @ y.T) + y_sqnorms[:, None] + y_sqnorms[None, :])))
    return 1000 * (k_xx + k_yy - 2 * k_xy)


@pytest.mark.parametrize("block_size", [2048, 37])
def test_matches_the_reference_formula(block_size):
    rng = np.random.default_rng(0)
    real, fake = structured_features(rng, 230, 24), structured_features(rng, 190, 24, shift=0.4)
    value = cmmd(real, fake, block_size=block_size)
    assert value == pytest.approx(reference_cmmd(real, fake), rel=1e-9)
    assert value > 0


def test_identical_sets_give_zero_and_scale_does_not_matter():
    rng = np.random.default_rng(1)
    real = structured_features(rng, 120, 16)
    assert cmmd(real, real) == pytest.approx(0.0, abs=1e-12)
    fake = structured_features(rng, 80, 16, shift=0.3)
    # L2 normalisation: rescaling either set's embeddings leaves the value unchanged
    assert cmmd(real, 7.0 * fake) == pytest.approx(cmmd(real, fake), rel=1e-9)


def test_shared_pass_value_matches_and_float32_grams_stay_close():
    rng = np.random.default_rng(2)
    real, fake = structured_features(rng, 150, 32), structured_features(rng, 140, 32, shift=0.3)
    reference = reference_cmmd(real, fake)
    for dtype, rel in (("float64", 1e-9), ("float32", 1e-3)):
        settings = MetricSettings(metrics=("mmd_rbf", "kid"), kid_subset_size=50, gram_dtype=dtype)
        values = {v.metric: v for v in run_evaluation(real, fake, settings=settings).values}
        assert values["mmd_rbf"].value == pytest.approx(reference, rel=rel)
        assert values["mmd_rbf"].higher_is_better is False


def test_interval_replicates_are_the_estimator_on_half_samples():
    rng = np.random.default_rng(3)
    real, fake = structured_features(rng, 60, 8), structured_features(rng, 50, 8, shift=0.5)
    settings = MetricSettings(metrics=("mmd_rbf",), bootstrap=5, seed=4, gram_dtype="float64")
    evaluation = run_evaluation(real, fake, settings=settings)
    weights = half_sample_weights(50, 5, 4, device="cpu").numpy()
    expected = [reference_cmmd(real, fake[w > 0]) for w in weights]
    np.testing.assert_allclose(evaluation.replicates["mmd_rbf"], expected, rtol=1e-9)
    value = evaluation.values[0]
    interval = centred_interval(value.value, np.asarray(expected), bounds=(0.0, np.inf))
    assert (value.ci_low, value.ci_high) == pytest.approx(interval, rel=1e-9)


def test_named_cmmd_only_on_its_embedding():
    assert rbf_metric_name("clip-vit-l-14-336", "bicubic") == "cmmd"
    assert rbf_metric_name("clip", "bilinear-tf1") == "mmd_rbf"
    assert rbf_metric_name("clip-vit-l-14-336", "bilinear-tf1") == "mmd_rbf"
    assert rbf_metric_name("inception", "bicubic") == "mmd_rbf"
    with pytest.raises(SlbenchError, match="one quantity"):
        MetricSettings(metrics=("cmmd", "mmd_rbf"))


def test_zero_embedding_is_refused():
    real = np.ones((10, 4))
    fake = np.ones((10, 4))
    fake[3] = 0.0
    with pytest.raises(SlbenchError, match="all-zero rows"):
        cmmd(real, fake)
