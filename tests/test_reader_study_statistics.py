"""Reader-study statistics against worked examples from the literature and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from slbench.reader_study.statistics import (
    binomial_p_value,
    cohen_kappa,
    fleiss_counts,
    fleiss_kappa,
    wilson_interval,
)


def _labels(yes_yes: int, yes_no: int, no_yes: int, no_no: int) -> tuple[list[str], list[str]]:
    first = ["y"] * (yes_yes + yes_no) + ["n"] * (no_yes + no_no)
    second = ["y"] * yes_yes + ["n"] * yes_no + ["y"] * no_yes + ["n"] * no_no
    return first, second


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ((20, 5, 10, 15), 0.4),  # Wikipedia, "Cohen's kappa", worked example: po 0.7, pe 0.5
        ((45, 15, 25, 15), 0.1304),  # Wikipedia, same marginals question: po 0.60, pe 0.54
        ((25, 35, 5, 35), 0.2593),  # Wikipedia: po 0.60, pe 0.46
    ],
)
def test_cohen_kappa_matches_worked_examples(cells, expected):
    assert cohen_kappa(*_labels(*cells)) == pytest.approx(expected, abs=5e-5)


def test_cohen_kappa_of_perfect_and_undefined_agreement():
    assert cohen_kappa(["a", "b", "a"], ["a", "b", "a"]) == 1.0
    assert math.isnan(cohen_kappa(["real"] * 5, ["real"] * 5))  # chance agreement 1: undefined


# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
WIKIPEDIA_FLEISS = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])


def test_fleiss_kappa_matches_the_worked_example():
    # P-bar = 0.378, P-bar-e = 0.213, kappa = 0.210 as printed there (rounded)
    assert fleiss_kappa(WIKIPEDIA_FLEISS) == pytest.approx(0.20993, abs=5e-5)


def test_fleiss_kappa_equals_hand_computation_for_three_raters():
    labels = [["r", "r", "s", "s"], ["r", "s", "s", "s"], ["r", "r", "s", "r"]]
    counts = fleiss_counts(labels, ("r", "s"))
    assert counts.tolist() == [[3, 0], [2, 1], [0, 3], [1, 2]]
    # P_i = 1, 1/3, 1, 1/3 -> P-bar 2/3; shares 6/12 and 6/12 -> P-e 1/2; kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert fleiss_kappa(counts) == pytest.approx(1 / 3)


def test_fleiss_kappa_refuses_unequal_rater_counts():
    with pytest.raises(ValueError):
        fleiss_kappa(np.array([[2, 0], [1, 2]]))


def test_wilson_interval_matches_hand_computation():
    # 8 of 10, z = 1.959964: centre (0.8 + z^2/20) / (1 + z^2/10), half-width z sqrt(0.016 + z^2/400) / (1 + z^2/10)
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    low, high = wilson_interval(8, 10)
    assert (low, high) == pytest.approx((centre - half, centre + half))
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)


def test_wilson_interval_at_the_edges_stays_in_the_unit_interval():
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and 0 < high < 0.2
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and 0.8 < low < 1
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_binomial_test_against_chance():
    assert binomial_p_value(5, 10) == pytest.approx(1.0)
    # 9 or more (or 1 or fewer) of 10 by chance: 2 x 11 / 1024
    assert binomial_p_value(9, 10) == pytest.approx(22 / 1024)
    assert binomial_p_value(10, 10) == pytest.approx(2 / 1024)
