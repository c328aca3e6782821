"""How close the plan's metric estimate comes to the metric suite's real time on this machine.

``slbench run`` prints its expected time before the heavy work; its metric part
(:mod:`slbench.evaluation.metric_cost`) times each part of the suite once at a small size and
scales it by that part's cost. Here the warm-up runs, then the whole suite on N real and N
generated random features, and the measured time is compared with the estimate: the claim is
that it lies within a factor of 2 either way. Cases: the ``lesion`` extractor's 128 dimensions
at 4,096 and 8,192 rows per set (the Gram pass dominates), 50 half-samples at 2,048 (the
replicates dominate), and 512 dimensions with 20 half-samples (FID's fits weigh in);
``SLBENCH_BENCH_ESTIMATE_N`` adds a case of that many rows per set at 128 dimensions (10,015 is
the full built-in set). One thread, as the end-to-end benchmark runs.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import torch

from slbench.evaluation.metric_cost import measure_metric_cost
from slbench.metrics import MetricSettings, run_evaluation

FACTOR = 2.0
CASES = [(128, 0, 4096), (128, 0, 8192), (128, 50, 2048), (512, 20, 2048)]
if os.environ.get("SLBENCH_BENCH_ESTIMATE_N"):
    CASES.append((128, 0, int(os.environ["SLBENCH_BENCH_ESTIMATE_N"])))


@pytest.fixture
def one_torch_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.mark.parametrize(("dim", "bootstrap", "rows"), CASES)
def test_the_metric_estimate_is_within_a_factor_of_two(dim, bootstrap, rows, one_torch_thread, benchmark):
    settings = MetricSettings(seed=0, bootstrap=bootstrap)
    start = time.perf_counter()
    cost = measure_metric_cost(dim, settings, "cpu")
    warm_up = time.perf_counter() - start
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((rows, dim)), rng.standard_normal((rows, dim)) + 0.2
    # memorisation against the real set passed as its training set, as `slbench run` does
    benchmark.pedantic(run_evaluation, args=(real, fake), kwargs={"train_real": real, "settings": settings},
                       rounds=1, iterations=1)
    measured, estimate = benchmark.stats.stats.mean, cost.total(rows, rows)
    parts = {name: round(seconds, 2) for name, seconds in cost.seconds(rows, rows).items()}
    benchmark.extra_info.update(rows=rows, dim=dim, bootstrap=bootstrap, warm_up_s=round(warm_up, 2),
                                estimate_s=round(estimate, 2), measured_s=round(measured, 2),
                                ratio=round(measured / estimate, 3), parts_s=parts, load=os.getloadavg())
    print(f"\n{rows} x {rows} x {dim}, bootstrap {bootstrap}: measured {measured:.1f} s, estimate {estimate:.1f} s "
          f"(ratio {measured / estimate:.2f}; warm-up {warm_up:.1f} s; parts {parts})")
    assert 1 / FACTOR <= measured / estimate <= FACTOR
