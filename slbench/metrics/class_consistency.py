"""Class consistency: does a per-class generator's output look like its class to a lesion classifier?

For a generator trained on class C, the share of its samples that a seven-class classifier
trained on real images assigns to C, with Wilson's 95% score interval (Wilson 1927; it stays in
[0, 1] and keeps its coverage near 0 and 1, where these shares often are), and the full
confusion row: how many samples were taken for each class. The same figure on real images of C
is the ceiling a generator can reach with that classifier. Low consistency next to a good FID is
the failure FID cannot see: realistic lesions of the wrong kind (Lin et al. 2026 report that a
frozen melanoma detector calls 83% of their StyleGAN2 "melanoma" images melanoma).

The classifier slbench uses is the head of its ``lesion`` extractor
(:mod:`slbench.features.lesion`); this module needs only its predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from slbench.data import CATEGORIES
from slbench.errors import SlbenchError
from slbench.metrics._inputs import ArrayLike
from slbench.reader_study.statistics import wilson_interval


@dataclass(frozen=True)
class ClassConsistency:
    """The share of samples assigned to ``target``, its Wilson interval and the confusion row."""

    target: str
    share: float
    ci_low: float
    ci_high: float
    n: int
    confusion: dict[str, int]  # predicted class -> samples, in class order

    def confusion_text(self) -> str:
        """The classes the samples were taken for, most frequent first, as shares."""
        shown = sorted(((c, k) for c, k in self.confusion.items() if k), key=lambda item: -item[1])
        return ", ".join(f"{c} {k / self.n:.0%}" for c, k in shown)


def predicted_classes(predictions: ArrayLike, n_classes: int) -> np.ndarray:
    """Class indices from indices (1-D) or per-class scores (N x classes: the arg-max)."""
    array = predictions.detach().cpu().numpy() if isinstance(predictions, torch.Tensor) else np.asarray(predictions)
    if array.ndim == 2:
        if array.shape[1] != n_classes:
            raise SlbenchError(f"class scores have {array.shape[1]} columns; the classifier has {n_classes} classes")
        array = array.argmax(axis=1)
    if array.ndim != 1 or array.size == 0:
        raise SlbenchError(f"predictions must be a non-empty 1-D array of class indices; got shape {array.shape}")
    if array.dtype.kind not in "iu" or array.min() < 0 or array.max() >= n_classes:
        raise SlbenchError(f"predicted class indices must be integers in [0, {n_classes}); got {array.dtype} values")
    return array.astype(np.int64)


def class_consistency(
    predictions: ArrayLike, target: str, *, classes: tuple[str, ...] = CATEGORIES
) -> ClassConsistency:
    """Share of ``predictions`` (indices into ``classes``, or N x classes scores) that are ``target``."""
    if target not in classes:
        raise SlbenchError(f"class {target!r} is not one of the classifier's classes {', '.join(classes)}")
    predicted = predicted_classes(predictions, len(classes))
    counts = np.bincount(predicted, minlength=len(classes))
    hits, n = int(counts[classes.index(target)]), int(predicted.size)
    low, high = wilson_interval(hits, n)
    return ClassConsistency(
        target=target,
        share=hits / n,
        ci_low=low,
        ci_high=high,
        n=n,
        confusion={c: int(k) for c, k in zip(classes, counts)},
    )
