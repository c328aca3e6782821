"""Classification scores against hand computation and an independent peer (scikit-learn, test-only)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from slbench.utility.scores import (
    auc_macro,
    balanced_accuracy,
    confusion_matrix,
    roc_auc_binary,
    score_predictions,
)

# Hand-made case: class 0 has 4 test images (3 right, 1 called class 1), class 1 has 2 (1 right,
# 1 called class 2), class 2 has 4 (all right).
Y_TRUE = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])


def test_confusion_matrix_counts_each_pair():
    expected = np.array([[3, 1, 0], [0, 1, 1], [0, 0, 4]])
    np.testing.assert_array_equal(confusion_matrix(Y_TRUE, Y_PRED, 3), expected)


def test_balanced_accuracy_is_the_mean_recall_not_the_accuracy():
    # recalls 3/4, 1/2, 4/4 -> mean 0.75; plain accuracy would be 8/10 = 0.8
    assert balanced_accuracy(Y_TRUE, Y_PRED, 3) == pytest.approx(0.75)


def test_sensitivity_and_specificity_per_class_by_hand():
    probabilities = np.eye(3)[Y_PRED]
    scores = score_predictions(Y_TRUE, probabilities, ["A", "B", "C"])
    assert scores.sensitivity == pytest.approx({"A": 0.75, "B": 0.5, "C": 1.0})
    # A: 6 negatives, none called A. B: 8 negatives, one (an A) called B. C: 6 negatives, one (a B) called C.
    assert scores.specificity == pytest.approx({"A": 1.0, "B": 7 / 8, "C": 5 / 6})
    assert scores.test_counts == {"A": 4, "B": 2, "C": 4}
    assert scores.balanced_accuracy == pytest.approx(0.75)


def test_binary_auc_by_hand_with_a_tie():
    positives = [0.9, 0.4, 0.6]
    negatives = [0.5, 0.4, 0.1]
    # pairs won: 0.9 -> 3; 0.4 -> 1 + one tie (0.5); 0.6 -> 3; total 7.5 of 9
    labels = np.array([1, 1, 1, 0, 0, 0], dtype=bool)
    assert roc_auc_binary(labels, np.array(positives + negatives)) == pytest.approx(7.5 / 9)


def _auc_by_pairs(labels: np.ndarray, scores: np.ndarray) -> float:
    pos, neg = scores[labels], scores[~labels]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (pos.size * neg.size)


def test_binary_auc_equals_pair_counting_on_heavily_tied_scores():
    rng = np.random.default_rng(3)
    labels = rng.random(80) < 0.3
    scores = rng.integers(0, 5, 80).astype(float)  # only five distinct values: many ties
    assert roc_auc_binary(labels, scores) == pytest.approx(_auc_by_pairs(labels, scores), abs=1e-12)


def test_auc_is_undefined_without_negatives_and_rejects_nan():
    assert math.isnan(roc_auc_binary(np.ones(4, dtype=bool), np.arange(4.0)))
    with pytest.raises(ValueError):
        roc_auc_binary(np.array([True, False]), np.array([0.1, np.nan]))


def test_macro_auc_and_balanced_accuracy_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    y_true = np.repeat(np.arange(4), [20, 5, 9, 30])
    logits = rng.normal(size=(y_true.size, 4)) + 1.5 * np.eye(4)[y_true]
    logits = np.round(logits, 1)  # create ties
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected_auc = metrics.roc_auc_score(y_true, probabilities, multi_class="ovr", average="macro")
    assert auc_macro(y_true, probabilities) == pytest.approx(expected_auc, abs=1e-12)
    y_pred = probabilities.argmax(axis=1)
    assert balanced_accuracy(y_true, y_pred, 4) == pytest.approx(metrics.balanced_accuracy_score(y_true, y_pred))


def test_a_class_without_test_images_is_left_out_and_named():
    y_true = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]])
    scores = score_predictions(y_true, probabilities, ["A", "B", "C"])
    assert scores.undefined == ("C",)
    assert math.isnan(scores.sensitivity["C"])
    assert scores.balanced_accuracy == pytest.approx((0.5 + 0.5) / 2)
    assert math.isnan(scores.auc["C"])
    assert scores.auc_macro == pytest.approx((scores.auc["A"] + scores.auc["B"]) / 2)
