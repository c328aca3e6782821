"""The statistics of a visual Turing test: proportions with Wilson intervals, an exact binomial
test against guessing, and chance-corrected agreement between raters.

Wilson's score interval (Wilson 1927) is used rather than the normal approximation because
reader studies are small and accuracies near 0 or 1 are common; it never leaves [0, 1].
Cohen's kappa (Cohen 1960) compares two raters, Fleiss' kappa (Fleiss 1971) any number of raters
who each rated every item. A kappa whose chance agreement is 1 (every answer the same) is
undefined and returned as NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import binomtest, norm

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Proportion:
    """``successes`` out of ``trials`` with its Wilson interval (NaN when there are no trials)."""

    successes: int
    trials: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.successes / self.trials if self.trials else math.nan

    def to_json(self) -> dict:
        return {"successes": self.successes, "trials": self.trials, "value": _finite(self.value),
                "ci_low": _finite(self.low), "ci_high": _finite(self.high)}


def wilson_interval(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion; ``(nan, nan)`` for zero trials."""
    if trials <= 0:
        return math.nan, math.nan
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials is not a proportion")
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # At 0 or all successes the bound is exactly 0 or 1; the subtraction leaves rounding noise above
    # 0 (or below 1), which would put the estimate outside its own interval.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def proportion(successes: int, trials: int) -> Proportion:
    """A :class:`Proportion` with its 95% Wilson interval."""
    low, high = wilson_interval(successes, trials)
    return Proportion(int(successes), int(trials), low, high)


def binomial_p_value(successes: int, trials: int, chance: float = 0.5) -> float:
    """Two-sided exact binomial test of ``successes`` out of ``trials`` against ``chance``."""
    if trials <= 0:
        return math.nan
    return float(binomtest(int(successes), int(trials), chance, alternative="two-sided").pvalue)


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two raters' labels for the same items, in the same order."""
    if len(first) != len(second):
        raise ValueError("Cohen's kappa needs both raters' labels for the same items")
    if not first:
        return math.nan
    labels = sorted(set(first) | set(second))
    a = np.array([labels.index(label) for label in first])
    b = np.array([labels.index(label) for label in second])
    observed = float(np.mean(a == b))
    share_a = np.bincount(a, minlength=len(labels)) / len(a)
    share_b = np.bincount(b, minlength=len(labels)) / len(b)
    expected = float(np.dot(share_a, share_b))
    return _chance_corrected(observed, expected)


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an items x categories table of how many raters chose each category.

    Every item must have been rated by the same number of raters (at least two).
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        raise ValueError("Fleiss' kappa needs an items x categories table of counts")
    raters = table.sum(axis=1)
    if not np.all(raters == raters[0]) or raters[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (two or more) of raters for every item")
    n = raters[0]
    per_item = (np.sum(table * table, axis=1) - n) / (n * (n - 1))
    shares = table.sum(axis=0) / table.sum()
    return _chance_corrected(float(per_item.mean()), float(np.sum(shares * shares)))


def fleiss_counts(labels_per_rater: Sequence[Sequence[str]], categories: Sequence[str]) -> np.ndarray:
    """The items x categories count table of several raters' labels (one sequence per rater, same item order)."""
    table = np.zeros((len(labels_per_rater[0]) if labels_per_rater else 0, len(categories)), dtype=np.int64)
    for labels in labels_per_rater:
        for item, label in enumerate(labels):
            table[item, list(categories).index(label)] += 1
    return table


def _chance_corrected(observed: float, expected: float) -> float:
    if math.isclose(expected, 1.0):
        return math.nan
    return (observed - expected) / (1 - expected)


def _finite(value: float) -> float | None:
    """JSON has no NaN: undefined values are written as null."""
    return None if value is None or not math.isfinite(value) else float(value)
