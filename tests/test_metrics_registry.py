"""The metric registry, result values that fit the tidy result rows, and the bootstrap helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from reports.schema import COLUMNS
from slbench.errors import SlbenchError
from slbench.errors import SlbenchError
from slbench.metrics import FEATURE_METRICS, METRICS, centred_interval, get_metric, half_sample_weights, metric_value
from slbench.metrics.lpips_diversity import lpips_metric_values


def test_every_reported_metric_is_registered_with_its_direction():
    image_metrics = {"lpips_fake", "lpips_real", "lpips_ratio", "class_consistency", "class_consistency_real"}
    assert set(FEATURE_METRICS) | image_metrics == set(METRICS)
    lower_is_better = {name for name, info in METRICS.items() if not info.higher_is_better}
    assert lower_is_better == {"fid", "fid_infinity", "kid", "mmd_rbf", "cmmd", "memorisation"}
    assert {name for name, info in METRICS.items() if info.bootstrap} == {
        "fid", "kid", "mmd_rbf", "cmmd", "precision", "recall", "density", "coverage"}
    assert all(info.paper and info.label and info.reference for info in METRICS.values())


def test_metric_value_fields_are_tidy_row_columns():
    value = metric_value("kid", 0.01, n_real=115, n_fake=500, std=0.002, note="subset size reduced")
    row = value.to_row()
    assert set(row) <= set(COLUMNS)
    assert row["higher_is_better"] is False
    assert math.isnan(row["ci_low"]) and row["std"] == 0.002
    with pytest.raises(AttributeError):
        value.value = 1.0  # frozen


def test_unknown_metric_lists_the_valid_names():
    with pytest.raises(SlbenchError, match="unknown metric 'fidd'; choose from fid, fid_infinity"):
        get_metric("fidd")


def test_lpips_values_form_the_ratio():
    fake, real, ratio = lpips_metric_values(0.2, 0.4, n_real=12, n_fake=100)
    assert (fake.metric, real.metric, ratio.metric) == ("lpips_fake", "lpips_real", "lpips_ratio")
    assert ratio.value == pytest.approx(0.5)
    assert "66 random pairs of real images" in real.note  # 12 images have 66 pairs
    assert math.isnan(lpips_metric_values(0.2, 0.0, n_real=12, n_fake=100)[2].value)


def test_half_samples_are_seeded_and_hold_half_the_samples_once():
    weights = half_sample_weights(31, 200, seed=4, device=torch.device("cpu"))
    assert weights.shape == (200, 31)
    assert set(weights.unique().tolist()) == {0.0, 1.0}
    assert torch.all(weights.sum(dim=1) == 15)
    assert torch.equal(weights, half_sample_weights(31, 200, seed=4, device=torch.device("cpu")))
    assert not torch.equal(weights, half_sample_weights(31, 200, seed=5, device=torch.device("cpu")))
    # every sample is in about half of the half-samples
    assert weights.mean(dim=0).numpy() == pytest.approx(np.full(31, 15 / 31), abs=0.12)
    with pytest.raises(SlbenchError, match="at least 8 generated samples"):
        half_sample_weights(7, 10, seed=0, device="cpu")


def test_centred_interval_is_the_replicate_spread_about_the_estimate():
    values = np.arange(1001, dtype=float)  # median 500, 2.5th and 97.5th percentiles 25 and 975
    assert centred_interval(500.0, values) == pytest.approx((25.0, 975.0))
    # replicates shifted away from the estimate still give an interval around it
    assert centred_interval(100.0, values) == pytest.approx((-375.0, 575.0))
    assert centred_interval(0.9, values / 1000, bounds=(0.0, 1.0)) == pytest.approx((0.425, 1.0))
    assert centred_interval(0.3, np.full(50, 0.7)) == pytest.approx((0.3, 0.3))
