"""The mean of a few repeated measurements (classifier seeds, training runs) and Student's t
interval of that mean: the uncertainty ``slbench utility`` and ``slbench pool`` report.

``reports`` holds it so that both sides use one definition: the harness for utility rows, the
reports for pooled runs.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import stats

INTERVAL_LEVEL = 0.95


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1); std is NaN for a single value, both for none."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return math.nan, math.nan
    std = float(array.std(ddof=1)) if array.size > 1 else math.nan
    return float(array.mean()), std


def mean_interval(values: Sequence[float], bounds: tuple[float, float] = (-math.inf, math.inf)) -> tuple[float, float]:
    """Student's t :data:`INTERVAL_LEVEL` interval of the mean, clipped to ``bounds`` (the values
    the measurement can take); NaN bounds for fewer than two values."""
    array = np.asarray(values, dtype=np.float64)
    if array.size < 2:
        return math.nan, math.nan
    mean, std = mean_std(array)
    half_width = stats.t.ppf(0.5 + INTERVAL_LEVEL / 2, df=array.size - 1) * std / math.sqrt(array.size)
    return max(mean - half_width, bounds[0]), min(mean + half_width, bounds[1])
