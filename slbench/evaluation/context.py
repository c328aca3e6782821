"""What every (model, category) evaluation of one run shares: data, extractor, LPIPS, settings,
and the real side of each class, computed once.

The real side of a class (its images at the evaluation resolution, their features, their own
LPIPS diversity) does not depend on the model, so a run comparing three models on a class
prepares it once. Its features are cached per dataset fingerprint, class, extractor, resolution
and preprocessing (:mod:`slbench.features.chunked_cache`): a later run on the same data finds
them, and an interrupted extraction resumes from its last finished chunk. Under ``torchrun`` the
missing chunks are extracted by all ranks (:mod:`slbench.evaluation.sharding`); rank 0 holds
the result.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generators.safe_io import UnsafeWeightsError
from slbench.console import console, labelled
from slbench.data import RESIZE_FILTER, Dataset, load_images
from slbench.data.decode import DEFAULT_RESIZE
from slbench.errors import SlbenchError
from slbench.evaluation.consistency import Ceiling, ClassifierHandle, consistency_values, held_out_split
from slbench.evaluation.consistency import open_classifier, score_images
from slbench.evaluation.real_sides import ALL, SIDE_WORDS, RealSides
from slbench.evaluation.sharding import SINGLE, Shard, from_main, map_chunks
from slbench.features import load_lpips
from slbench.features.cache import image_content_sha256
from slbench.features.chunked_cache import ChunkedEntry
from slbench.evaluation.protocols import Protocol
from slbench.metrics import DEFAULT_FEATURE_METRICS, MetricSettings, MetricValue, lpips_diversity, rbf_metric_name
from slbench.metrics.registry import SAME_QUANTITY
from slbench.metrics.class_consistency import ClassConsistency


@dataclass(frozen=True)
class LpipsHandle:
    """LPIPS (AlexNet) when its weights are available; otherwise why it was skipped."""

    net: torch.nn.Module | None
    provenance: dict[str, Any]


def not_in_protocol(protocol: Protocol) -> dict[str, Any]:
    """The provenance of a measurement the run's protocol leaves out."""
    return {"status": "skipped", "reason": f"not part of protocol {protocol.name}"}


def open_lpips(weights_dir: Path | None, trust_weights: Path | None, device: torch.device,
               protocol: Protocol | None = None) -> LpipsHandle:
    """Load LPIPS; without its weights the run goes on without it, says so once and records why.
    A protocol without LPIPS never loads it."""
    if protocol is not None and not protocol.lpips:
        return LpipsHandle(None, not_in_protocol(protocol))
    try:
        net = load_lpips(weights_dir=weights_dir, trust_weights=trust_weights)
    except (SlbenchError, UnsafeWeightsError, FileNotFoundError) as err:
        console.print(labelled("warning:", "yellow", f"LPIPS diversity skipped: {err}"), soft_wrap=True)
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
    side: str  # "all", "test" or "train": see slbench.evaluation.real_sides
    images: torch.Tensor  # uint8 N x 3 x R x R
    features: np.ndarray
    lpips: float | None
    provenance: dict[str, Any] = field(default_factory=dict)  # whether it was cached, seconds per stage


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
    resize: str = DEFAULT_RESIZE  # how real images become square: as the checkpoints' training images did
    shard: Shard = SINGLE
    sides: RealSides = RealSides(ALL, ALL, None, "default", False)  # which real images quality and memorisation use
    protocol: Protocol | None = None  # the named protocol whose metric set the run computes
    _real: dict[tuple[str, str], RealSide] = field(default_factory=dict)
    _joined: set[tuple[str, str]] = field(default_factory=set)  # (class, side) a non-main rank helped extract
    _classifier: ClassifierHandle | None = None
    _real_consistency: dict[str, tuple[ClassConsistency, str]] = field(default_factory=dict)

    @property
    def classifier(self) -> ClassifierHandle:
        """The lesion classifier for class consistency, opened on first use (None inside when absent)."""
        if self._classifier is None:
            if self.protocol is not None and not self.protocol.class_consistency:
                self._classifier = ClassifierHandle(None, not_in_protocol(self.protocol))
            else:
                self._classifier = open_classifier(self.extractor, self.data_fingerprint)
        return self._classifier

    @property
    def protocol_name(self) -> str:
        """The protocol's name for result rows; empty when the run names none."""
        return self.protocol.name if self.protocol is not None else ""

    def consistency(self, category: str, fake: torch.Tensor) -> list[MetricValue]:
        """Class consistency of ``fake`` and of the real images of ``category``; none without a classifier."""
        net = self.classifier.net
        if net is None:
            return []
        if category not in self._real_consistency:
            ceiling = self.ceiling(category)
            scored_real = score_images(net, ceiling.images, category, batch_size=self.batch, device=self.device)
            self._real_consistency[category] = (scored_real, ceiling.note(category))
        scored = score_images(net, fake, category, batch_size=self.batch, device=self.device)
        return consistency_values(scored, *self._real_consistency[category])

    def ceiling(self, category: str) -> Ceiling:
        """The real images of ``category`` the class-consistency ceiling is measured on: those the
        classifier never saw (the held-out side of its lesion split), else the run's real side."""
        split = held_out_split(self.classifier, self.dataset)
        if split is None:
            return Ceiling(self.real_side(category).images, False, "it was trained on every image")
        records = split.test.get(category, [])
        if not records:
            return Ceiling(self.real_side(category).images, False, f"its held-out side has no {category} image")
        return Ceiling(load_images(records, self.resolution, resize=self.resize), True, "")

    def metric_settings(self) -> MetricSettings:
        """The feature metrics of this run (its protocol's, else every one); the RBF MMD is named
        CMMD only on CMMD's own embedding."""
        rbf_name = rbf_metric_name(self.extractor.name, self.extractor.resize_filter)
        chosen = self.protocol.metrics if self.protocol is not None else DEFAULT_FEATURE_METRICS
        metrics = tuple(rbf_name if name in SAME_QUANTITY else name for name in chosen)
        return MetricSettings(metrics=metrics, bootstrap=self.bootstrap, seed=self.seed)

    @property
    def data_fingerprint(self) -> str:
        return self.dataset.fingerprint()

    def real_entry(self, category: str, side: str | None = None) -> ChunkedEntry:
        """Where the features of ``category``'s real images on ``side`` (default: the quality side) are cached."""
        side = side or self.sides.quality
        records = self.sides.records(self.dataset, category, side)
        selection = {
            "data_fingerprint": self.data_fingerprint,
            "category": category,
            "real_side": side,
            "image_ids_sha256": hashlib.sha256("\n".join(r.image_id for r in records).encode()).hexdigest(),
            "resolution": self.resolution,
            "resize": self.resize,
            "resize_filter": RESIZE_FILTER,
        }
        return ChunkedEntry.locate(self.extractor, selection, len(records))

    def memorisation_side(self, category: str) -> RealSide | None:
        """The real images memorisation is measured against (what the models were trained on)."""
        return self.real_side(category, self.sides.memorisation)

    def real_side(self, category: str, side: str | None = None) -> RealSide | None:
        """The real images of ``category`` on ``side`` (default: the side quality is scored on),
        prepared on first use; every rank calls it, rank 0 gets it."""
        side = side or self.sides.quality
        key = (category, side)
        if key in self._real or key in self._joined:
            return self._real.get(key)
        records, entry = self.sides.records(self.dataset, category, side), self.real_entry(category, side)
        spans, started = entry.spans(), time.perf_counter()
        state: dict[str, Any] = {}

        def decide() -> list[int]:
            images = load_images(records, self.resolution, resize=self.resize)
            if len(images) < 2:
                raise SlbenchError(f"{category} has {len(images)} usable image(s) on {SIDE_WORDS[side]}; "
                                   "the metrics need at least 2")
            sha = image_content_sha256(images)
            features = entry.complete(sha)
            parts = {} if features is not None else entry.finished_chunks(sha)
            state.update(images=images, sha=sha, features=features, parts=parts, decoded=time.perf_counter())
            return [] if features is not None else [i for i in range(len(spans)) if i not in parts]

        todo = from_main(self.shard, decide)

        def work(index: int) -> np.ndarray:
            span = spans[index]
            images = state["images"][span] if self.shard.is_main else load_images(
                records[span], self.resolution, resize=self.resize, cache=False)
            return self.extractor.extract(images, batch_size=self.batch)

        def collect(index: int, features: np.ndarray) -> None:
            state["parts"][index] = features
            entry.save_chunk(state["sha"], index, features)

        map_chunks(self.shard, todo, work, collect)
        if not self.shard.is_main:
            self._joined.add(key)
            return None
        features = state["features"]
        if features is None:
            features = np.concatenate([state["parts"][index] for index in range(len(spans))])
            entry.finish(state["sha"], features)
        extracted = time.perf_counter()
        provenance = {
            "side": side, "n_images": len(records), "image_ids": [record.image_id for record in records],
            "cached": not todo, "chunks_extracted": len(todo), "chunks": len(spans),
            "timings_s": {"decode": round(state["decoded"] - started, 4),
                          "features": round(extracted - state["decoded"], 4)},
        }
        images = state["images"]
        lpips = self.diversity(images) if side == self.sides.quality else None
        self._real[key] = RealSide(category, side, images, features, lpips, provenance)
        provenance["timings_s"]["lpips"] = round(time.perf_counter() - extracted, 4)
        return self._real[key]

    def diversity(self, images: torch.Tensor) -> float | None:
        """Mean LPIPS over seeded random pairs of ``images``; None when LPIPS is unavailable."""
        if self.lpips.net is None:
            return None
        return lpips_diversity(images, seed=self.seed, net=self.lpips.net, batch_size=self.batch)
