"""What every (model, category) evaluation of one run shares: data, extractor, LPIPS, settings,
and the real side of each class, computed once.

The real side of a class (its images at the evaluation resolution, their features through the
feature cache, their own LPIPS diversity) does not depend on the model, so a run comparing three
models on a class prepares it once, and a later run on the same data finds its features cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generators.safe_io import UnsafeWeightsError
from slbench.console import console
from slbench.data import RESIZE_FILTER, Dataset, load_images
from slbench.errors import SlbenchError
from slbench.evaluation.consistency import ClassifierHandle, consistency_values, open_classifier, score_images
from slbench.features import cached_features, load_lpips
from slbench.metrics import DEFAULT_FEATURE_METRICS, MetricSettings, MetricValue, lpips_diversity, rbf_metric_name
from slbench.metrics.class_consistency import ClassConsistency

RESIZE_MODE = "squash"  # how real images become square, as the reference code fed its networks


@dataclass(frozen=True)
class LpipsHandle:
    """LPIPS (AlexNet) when its weights are available; otherwise why it was skipped."""

    net: torch.nn.Module | None
    provenance: dict[str, Any]


def open_lpips(weights_dir: Path | None, trust_weights: Path | None, device: torch.device) -> LpipsHandle:
    """Load LPIPS; without its weights the run goes on without it, says so once and records why."""
    try:
        net = load_lpips(weights_dir=weights_dir, trust_weights=trust_weights)
    except (SlbenchError, UnsafeWeightsError, FileNotFoundError) as err:
        console.print(f"[yellow]warning:[/] LPIPS diversity skipped: {err}", soft_wrap=True, highlight=False)
        return LpipsHandle(None, {"status": "skipped", "reason": str(err)})
    return LpipsHandle(net.to(device), describe_lpips(net))


def describe_lpips(net: torch.nn.Module) -> dict[str, Any]:
    """Provenance of a loaded LPIPS network (weights hashes where the loader recorded them)."""
    return {
        "status": "computed",
        "network": "lpips v0.1 (AlexNet)",
        "weights_sha256": getattr(net, "weights_sha256", None),
        "trusted_by_user": bool(getattr(net, "trusted_by_user", False)),
    }


@dataclass(frozen=True)
class RealSide:
    """One class's real images at the evaluation resolution, their features and LPIPS diversity."""

    category: str
    images: torch.Tensor  # uint8 N x 3 x R x R
    features: np.ndarray
    lpips: float | None


@dataclass
class EvaluationContext:
    """Shared state of one run (or one check): everything but the generator."""

    dataset: Dataset
    extractor: Any
    lpips: LpipsHandle
    resolution: int
    seed: int
    bootstrap: int
    batch: int
    device: torch.device
    _real: dict[str, RealSide] = field(default_factory=dict)
    _classifier: ClassifierHandle | None = None
    _real_consistency: dict[str, ClassConsistency] = field(default_factory=dict)

    @property
    def classifier(self) -> ClassifierHandle:
        """The lesion classifier for class consistency, opened on first use (None inside when absent)."""
        if self._classifier is None:
            self._classifier = open_classifier(self.extractor, self.data_fingerprint)
        return self._classifier

    def consistency(self, category: str, fake: torch.Tensor) -> list[MetricValue]:
        """Class consistency of ``fake`` and of the real images of ``category``; none without a classifier."""
        net = self.classifier.net
        if net is None:
            return []
        if category not in self._real_consistency:
            real = self.real_side(category).images
            self._real_consistency[category] = score_images(net, real, category, batch_size=self.batch,
                                                            device=self.device)
        scored = score_images(net, fake, category, batch_size=self.batch, device=self.device)
        return consistency_values(scored, self._real_consistency[category])

    def metric_settings(self) -> MetricSettings:
        """The feature metrics of this run; the RBF MMD is named CMMD only on CMMD's own embedding."""
        rbf_name = rbf_metric_name(self.extractor.name, self.extractor.resize_filter)
        metrics = tuple(rbf_name if name == "mmd_rbf" else name for name in DEFAULT_FEATURE_METRICS)
        return MetricSettings(metrics=metrics, bootstrap=self.bootstrap, seed=self.seed)

    @property
    def data_fingerprint(self) -> str:
        return self.dataset.fingerprint()

    def real_side(self, category: str) -> RealSide:
        """The real side of ``category``, prepared on first use."""
        if category not in self._real:
            images = load_images(self.dataset.records(category), self.resolution, resize=RESIZE_MODE)
            if len(images) < 2:
                raise SlbenchError(f"{category} has {len(images)} usable image(s); the metrics need at least 2")
            key = {
                "side": "real",
                "category": category,
                "resolution": self.resolution,
                "resize": RESIZE_MODE,
                "resize_filter": RESIZE_FILTER,
            }
            features = cached_features(self.extractor, images, key=key, batch_size=self.batch)
            self._real[category] = RealSide(category, images, features, self.diversity(images))
        return self._real[category]

    def diversity(self, images: torch.Tensor) -> float | None:
        """Mean LPIPS over seeded random pairs of ``images``; None when LPIPS is unavailable."""
        if self.lpips.net is None:
            return None
        return lpips_diversity(images, seed=self.seed, net=self.lpips.net, batch_size=self.batch)
