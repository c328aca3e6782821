"""What CMMD's RBF MMD and the Vendi scores add to ``run_evaluation``: no second pass over the features.

Run with ``make bench``. ``run_evaluation`` on 10,000 real and 10,000 generated 2048-d float32
features (non-negative and correlated like Inception pool features), once with the metric set
of a run without the RBF MMD and the Vendi scores, once with them. PRD is left out of both: its
k-means is the same work either way and would only hide the difference. The RBF MMD reads the
Gram blocks KID already computes; Vendi, with n > d, adds one d x d product per set. Target:
the overhead stays under 15%. Each way runs once; the times and the ratio are printed at the end.
"""

from __future__ import annotations

import time

import pytest
import torch

from slbench.metrics import DEFAULT_FEATURE_METRICS, MetricSettings, run_evaluation
from test_bench_metrics import inception_like

N = 10000
ADDED = ("mmd_rbf", "vendi_fake", "vendi_real", "vendi_ratio")
WITHOUT = tuple(m for m in DEFAULT_FEATURE_METRICS if m not in ADDED + ("prd_f8", "prd_f1_8"))
WITH = WITHOUT + ADDED
TARGET = 0.15


@pytest.fixture(scope="module")
def features():
    return inception_like(N, 0.0, seed=1), inception_like(N, 0.1, seed=2)


@pytest.fixture(scope="module")
def timings(request):
    found: dict[str, float] = {}
    yield found
    if len(found) == 2:
        overhead = found["with"] / found["without"] - 1
        lines = [f"CMMD + Vendi overhead ({torch.get_num_threads()} torch threads, N = {N}, d = 2048):",
                 f"  without {found['without']:9.2f} s", f"  with    {found['with']:9.2f} s",
                 f"  overhead {overhead:+.1%} (target < {TARGET:.0%})"]
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        with request.config.pluginmanager.get_plugin("capturemanager").global_and_fixture_disabled():
            reporter.write_line("\n" + "\n".join(lines))


@pytest.mark.parametrize("way", ["without", "with"])
def test_run_evaluation_overhead(benchmark, features, timings, way):
    real, fake = features
    settings = MetricSettings(metrics=WITHOUT if way == "without" else WITH)
    started = time.perf_counter()
    evaluation = benchmark.pedantic(lambda: run_evaluation(real, fake, settings=settings), rounds=1, iterations=1)
    timings[way] = time.perf_counter() - started
    assert [v.metric for v in evaluation.values] == list(settings.metrics)
    if way == "with":
        assert timings["with"] / timings["without"] - 1 < TARGET
