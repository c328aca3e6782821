"""evaluate_features: one shared pass gives the standalone values; bootstrap replicates are exact."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from metrics_support import torch_fidelity_fid, torch_fidelity_prc

from slbench.errors import SlbenchError
from slbench.metrics import (
    DEFAULT_FEATURE_METRICS,
    METRICS,
    MetricSettings,
    density_coverage,
    evaluate_features,
    fid,
    fid_infinity,
    half_sample_weights,
    kid,
    memorisation,
    precision_recall,
    run_evaluation,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def features():
    rng = np.random.default_rng(0)
    return rng.normal(size=(120, 16)), 1.2 * rng.normal(size=(100, 16)) + 0.2


def by_name(values):
    return {v.metric: v for v in values}


def test_one_value_per_metric_in_report_order_with_directions(features):
    values = evaluate_features(*features, kid_subset_size=50)
    assert [v.metric for v in values] == list(DEFAULT_FEATURE_METRICS)
    for v in values:
        assert v.higher_is_better == METRICS[v.metric].higher_is_better
        assert (v.n_real, v.n_fake) == (120, 100)
        assert math.isfinite(v.value)
        assert math.isnan(v.ci_low) and math.isnan(v.ci_high)


def test_shared_pass_gives_the_standalone_values(features):
    real, fake = features
    got = by_name(evaluate_features(real, fake, kid_subsets=30, kid_subset_size=50, seed=3))
    assert got["fid"].value == pytest.approx(fid(real, fake), rel=1e-12)
    assert got["fid_infinity"].value == pytest.approx(fid_infinity(real, fake, seed=3), rel=1e-12)
    mean, std = kid(real, fake, subsets=30, subset_size=50, seed=3)
    assert (got["kid"].value, got["kid"].std) == pytest.approx((mean, std), rel=1e-12)
    assert (got["precision"].value, got["recall"].value) == precision_recall(real, fake)
    assert (got["density"].value, got["coverage"].value) == density_coverage(real, fake)
    assert got["memorisation"].value == memorisation(real, fake).share


def test_block_size_does_not_change_any_value(features):
    whole = run_evaluation(*features, settings=MetricSettings(gram_dtype="float64", kid_subset_size=50))
    blocked = run_evaluation(*features, settings=MetricSettings(gram_dtype="float64", kid_subset_size=50, block_size=7))
    for a, b in zip(whole.values, blocked.values):
        assert b.value == pytest.approx(a.value, rel=1e-10), a.metric


def test_low_reliability_below_the_feature_dimension():
    rng = np.random.default_rng(1)
    values = by_name(evaluate_features(rng.normal(size=(40, 64)), rng.normal(size=(50, 64)), kid_subsets=10))
    for name in ("fid", "fid_infinity"):
        assert values[name].low_reliability
        assert "N = 40 is below the feature dimension 64" in values[name].note
        assert math.isfinite(values[name].value)
    assert not any(values[name].low_reliability for name in ("kid", "precision", "coverage"))
    assert "KID subset size reduced from 1000 to 40" in values["kid"].note


def test_constant_features_give_finite_values():
    values = evaluate_features(np.full((30, 8), 2.0), np.full((25, 8), 2.5), kid_subsets=5)
    assert all(math.isfinite(v.value) for v in values)
    assert by_name(values)["fid"].value == pytest.approx(8 * 0.25, rel=1e-12)


def test_interval_replicates_are_the_metrics_of_the_half_samples():
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(60, 8)), rng.normal(size=(50, 8)) + 0.3
    settings = MetricSettings(bootstrap=4, seed=7, kid_subset_size=20, gram_dtype="float64")
    evaluation = run_evaluation(real, fake, settings=settings)
    weights = half_sample_weights(50, 4, 7, torch.device("cpu")).numpy().astype(int)
    for b, row in enumerate(weights):
        half = fake[row > 0]
        assert evaluation.replicates["fid"][b] == pytest.approx(torch_fidelity_fid(real, half), rel=1e-9)
        precision, recall = torch_fidelity_prc(real, half, 3)
        assert evaluation.replicates["precision"][b] == pytest.approx(precision, abs=1e-7)
        assert evaluation.replicates["recall"][b] == pytest.approx(recall, abs=1e-7)
        density, coverage = density_coverage(real, half)
        assert evaluation.replicates["density"][b] == pytest.approx(density, abs=1e-9)
        assert evaluation.replicates["coverage"][b] == pytest.approx(coverage, abs=1e-9)
        assert evaluation.replicates["kid"][b] == pytest.approx(kid_without_copy_pairs(real, fake, row), rel=1e-10)


@pytest.mark.parametrize("sizes", [(120, 100, 16), (115, 300, 64)])
def test_every_interval_contains_its_estimate(sizes):
    """Half-samples shift FID and the k-NN metrics; the interval stays centred on the estimate."""
    n_real, n_fake, dim = sizes
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(n_real, dim)), 0.9 * rng.normal(size=(n_fake, dim)) + 0.1
    for value in evaluate_features(real, fake, bootstrap=50, seed=3, kid_subset_size=100):
        info = METRICS[value.metric]
        if info.bootstrap:
            assert value.ci_low <= value.value <= value.ci_high, value
            assert value.ci_low < value.ci_high, value
            assert info.bounds[0] <= value.ci_low and value.ci_high <= info.bounds[1], value


def test_rate_intervals_stay_inside_zero_and_one():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(40, 8))
    values = by_name(evaluate_features(real, real[rng.integers(0, 40, 60)] + 1e-3, bootstrap=30,
                                       metrics=("precision", "coverage")))
    assert values["precision"].value == 1.0 and values["precision"].ci_high == 1.0
    for value in values.values():
        assert 0.0 <= value.ci_low <= value.value <= value.ci_high <= 1.0


def kid_without_copy_pairs(real: np.ndarray, fake: np.ndarray, counts: np.ndarray) -> float:
    """Unbiased MMD^2 of the resampled set, pairs of copies of one sample left out."""
    kernel = lambda a, b: (a @ b.T / a.shape[1] + 1) ** 3  # noqa: E731
    n, m = counts.sum(), len(real)
    k_ff = kernel(fake, fake)
    within_fake = counts @ k_ff @ counts - (counts**2) @ np.diag(k_ff)
    k_rr = kernel(real, real)
    within_real = (k_rr.sum() - np.trace(k_rr)) / (m * (m - 1))
    cross = counts @ kernel(fake, real).sum(axis=1) / (n * m)
    return float(within_fake / (n * n - (counts**2).sum()) + within_real - 2 * cross)


def test_intervals_are_seeded_and_only_where_supported(features):
    first = by_name(evaluate_features(*features, bootstrap=20, seed=1, kid_subset_size=50))
    again = by_name(evaluate_features(*features, bootstrap=20, seed=1, kid_subset_size=50))
    other = by_name(evaluate_features(*features, bootstrap=20, seed=2, kid_subset_size=50))
    for name, value in first.items():
        if METRICS[name].bootstrap:
            assert value.ci_low <= value.ci_high
            assert (value.ci_low, value.ci_high) == (again[name].ci_low, again[name].ci_high)
            assert value.ci_low != other[name].ci_low or value.ci_high != other[name].ci_high
        else:
            assert math.isnan(value.ci_low) and math.isnan(value.ci_high)


def test_separate_training_set_for_memorisation(features):
    real, fake = features
    train = np.vstack([fake[:10], np.random.default_rng(3).normal(size=(70, 16))])
    evaluation = run_evaluation(real, fake, train_real=train, settings=MetricSettings(metrics=("memorisation",)))
    (value,) = evaluation.values
    assert (value.metric, value.n_real, value.n_fake) == ("memorisation", 80, 100)
    assert value.value == memorisation(train, fake).share >= 0.1
    assert sorted(evaluation.memorisation.closest_pairs[:10, 0].tolist()) == list(range(10))


def test_metric_selection_and_bad_settings(features):
    values = evaluate_features(*features, metrics=("coverage", "kid"), kid_subset_size=50)
    assert [v.metric for v in values] == ["kid", "coverage"]
    with pytest.raises(SlbenchError, match="lpips_diversity"):
        evaluate_features(*features, metrics=("lpips_fake",))
    with pytest.raises(SlbenchError, match="bootstrap must be an integer of at least 0"):
        evaluate_features(*features, bootstrap=-1)
    with pytest.raises(SlbenchError, match="fake features contain NaN or Inf"):
        evaluate_features(features[0], np.full((10, 16), np.nan))
    with pytest.raises(SlbenchError, match="needs at least 6 real samples; got 5"):
        evaluate_features(features[0][:5], features[1], metrics=("coverage",))


def test_bad_sizes_are_refused_before_any_heavy_work(features, monkeypatch):
    import slbench.metrics.evaluate as evaluate_module

    def no_heavy_work(*args, **kwargs):
        raise AssertionError("FID ran before the sizes were checked")

    monkeypatch.setattr(evaluate_module, "fit_real_gaussian", no_heavy_work)
    with pytest.raises(SlbenchError, match="precision/recall with k = 3 needs at least 4 fake samples; got 3"):
        evaluate_features(features[0], features[1][:3])
