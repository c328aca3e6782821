"""Classification scores of the ISIC 2018 Task 3 challenge, computed from predictions alone.

* Balanced multiclass accuracy: the mean over classes of the per-class recall (sensitivity),
  the ranking metric of the ISIC 2018 Task 3 challenge (Codella et al. 2019,
  arXiv:1902.03368). It weighs every lesion class equally however rare it is, so a
  classifier that ignores dermatofibroma cannot score well by getting naevi right.
* Per-class sensitivity TP / (TP + FN) and specificity TN / (TN + FP), one class against the rest.
* Macro one-vs-rest ROC AUC: for each class, the probability that a random image of that class
  gets a higher score for it than a random image of another class, ties counting one half
  (the Mann-Whitney U statistic divided by n_pos * n_neg, computed exactly from average ranks,
  as in Hanley and McNeil 1982), then averaged over classes.

A class with no test image has no recall and no AUC; it is left out of the averages and
named in :attr:`ClassificationScores.undefined`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class ClassificationScores:
    """Scores of one trained classifier on one test set; per-class dicts are keyed by class code."""

    balanced_accuracy: float
    auc_macro: float
    sensitivity: dict[str, float]
    specificity: dict[str, float]
    auc: dict[str, float]
    test_counts: dict[str, int]
    undefined: tuple[str, ...] = field(default=())


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """``C[i, j]`` = number of test images of class ``i`` predicted as class ``j``."""
    y_true = _as_labels(y_true, num_classes, "y_true")
    y_pred = _as_labels(y_pred, num_classes, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels, y_pred {y_pred.size}")
    flat = y_true * num_classes + y_pred
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def sensitivity_per_class(confusion: np.ndarray) -> np.ndarray:
    """Recall of each class (NaN for a class with no test image)."""
    positives = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(positives > 0, np.diag(confusion) / positives, np.nan)


def specificity_per_class(confusion: np.ndarray) -> np.ndarray:
    """True-negative rate of each class against the rest (NaN when every image is of that class)."""
    total = confusion.sum()
    positives = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    true_positives = np.diag(confusion)
    negatives = total - positives
    true_negatives = total - positives - predicted + true_positives
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(negatives > 0, true_negatives / negatives, np.nan)


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> float:
    """Mean per-class recall over the classes that have test images (ISIC 2018 Task 3 metric)."""
    recalls = sensitivity_per_class(confusion_matrix(y_true, y_pred, num_classes))
    defined = recalls[~np.isnan(recalls)]
    return float(defined.mean()) if defined.size else math.nan


def roc_auc_binary(is_positive: np.ndarray, scores: np.ndarray) -> float:
    """Exact ROC AUC from ranks: (rank sum of positives - n_pos(n_pos+1)/2) / (n_pos n_neg).

    Average ranks make a tie between a positive and a negative count one half. NaN when
    either side is empty.
    """
    is_positive = np.asarray(is_positive, dtype=bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if is_positive.shape != scores.shape:
        raise ValueError(f"{is_positive.size} labels but {scores.size} scores")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or Inf")
    n_pos = int(is_positive.sum())
    n_neg = is_positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(scores, method="average")
    u_statistic = ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u_statistic / (n_pos * n_neg))


def auc_one_vs_rest(y_true: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """ROC AUC of each class's score column against all other classes (NaN where undefined)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2:
        raise ValueError(f"probabilities must be N x K, got shape {probabilities.shape}")
    y_true = _as_labels(y_true, probabilities.shape[1], "y_true")
    return np.array(
        [roc_auc_binary(y_true == k, probabilities[:, k]) for k in range(probabilities.shape[1])]
    )


def auc_macro(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Unweighted mean of the defined one-vs-rest AUCs."""
    per_class = auc_one_vs_rest(y_true, probabilities)
    defined = per_class[~np.isnan(per_class)]
    return float(defined.mean()) if defined.size else math.nan


def score_predictions(
    y_true: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]
) -> ClassificationScores:
    """All scores of one classifier from its class probabilities (predicted class = arg max)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    num_classes = len(class_names)
    if probabilities.ndim != 2 or probabilities.shape[1] != num_classes:
        raise ValueError(f"probabilities must be N x {num_classes}, got shape {probabilities.shape}")
    y_pred = probabilities.argmax(axis=1)
    confusion = confusion_matrix(y_true, y_pred, num_classes)
    recall = sensitivity_per_class(confusion)
    specificity = specificity_per_class(confusion)
    per_class_auc = auc_one_vs_rest(y_true, probabilities)
    counts = confusion.sum(axis=1)
    return ClassificationScores(
        balanced_accuracy=balanced_accuracy(y_true, y_pred, num_classes),
        auc_macro=auc_macro(y_true, probabilities),
        sensitivity=dict(zip(class_names, recall.tolist())),
        specificity=dict(zip(class_names, specificity.tolist())),
        auc=dict(zip(class_names, per_class_auc.tolist())),
        test_counts=dict(zip(class_names, counts.tolist())),
        undefined=tuple(name for name, n in zip(class_names, counts) if n == 0),
    )


def _as_labels(labels: np.ndarray, num_classes: int, name: str) -> np.ndarray:
    labels = np.asarray(labels).ravel()
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}")
    return labels.astype(np.int64)
