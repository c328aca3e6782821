"""One (model, category) evaluation: generate, extract features, compute every metric.

Shared by ``slbench run`` (for every pair of the plan) and ``slbench check`` (for the candidate),
so that a check re-evaluates a checkpoint exactly as the run it compares against did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from slbench.evaluation.checkpoints import CheckpointInfo, load_generator
from slbench.evaluation.context import EvaluationContext
from slbench.evaluation.provenance import Timings, checkpoint_provenance
from slbench.evaluation.samples import generate_uint8
from slbench.metrics import MetricValue, lpips_metric_values
from slbench.metrics import run_evaluation as compute_metrics

TABLE = "quality"


@dataclass(frozen=True)
class PairResult:
    """Rows for the results table, plus what grids and provenance need."""

    model: str
    category: str
    rows: list[dict[str, Any]]
    fake_images: torch.Tensor  # uint8 N x 3 x R x R at the evaluation resolution
    memorisation_pairs: list[tuple[int, int]]  # (generated index, real index), closest first
    provenance: dict[str, Any]


def default_n_fake(n_real: int) -> int:
    """At least as many generated images as the class has real ones, and not fewer than 1,000."""
    return max(1000, n_real)


def evaluate_pair(
    context: EvaluationContext,
    *,
    model: str,
    category: str,
    checkpoint: CheckpointInfo,
    n_fake: int,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> PairResult:
    """Evaluate ``checkpoint`` on ``category``; ``on_stage`` hears the name of each stage as it starts."""
    timings = Timings()
    on_stage("real images")
    with timings.stage("real_side"):
        real = context.real_side(category)
    on_stage("generating")
    with timings.stage("generate"):
        generator = load_generator(checkpoint, context.device)
        fake = generate_uint8(
            generator, n_fake, seed=context.seed, resolution=context.resolution,
            batch_size=context.batch, device=context.device,
        )
        del generator
    on_stage("features")
    with timings.stage("features"):
        fake_features = context.extractor.extract(fake, batch_size=context.batch)
    on_stage("metrics")
    with timings.stage("metrics"):
        settings = context.metric_settings()
        evaluation = compute_metrics(real.features, fake_features, train_real=real.features, settings=settings)
    on_stage("LPIPS")
    with timings.stage("lpips"):
        lpips_values = lpips_values_of(context.diversity(fake), real.lpips, n_real=len(real.images), n_fake=n_fake)
    on_stage("class consistency")
    with timings.stage("class_consistency"):
        consistency = context.consistency(category, fake)
    common = {
        "table": TABLE,
        "model": model,
        "category": category,
        "features": context.extractor.name,
        "resolution": context.resolution,
        "seed": context.seed,
    }
    rows = [{**common, **value.to_row()} for value in (*evaluation.values, *lpips_values, *consistency)]
    pairs = closest_pairs(evaluation.memorisation)
    provenance = {
        "checkpoint": checkpoint_provenance(checkpoint),
        "native_resolution": checkpoint.resolution,
        "n_real": len(real.images),
        "n_fake": n_fake,
        "class_consistency": context.classifier.provenance,
        "timings_s": timings.seconds,
    }
    return PairResult(model, category, rows, fake, pairs, provenance)


def lpips_values_of(fake: float | None, real: float | None, *, n_real: int, n_fake: int) -> list[MetricValue]:
    """LPIPS diversity of the generated and of the real images, and their ratio; none without LPIPS."""
    if fake is None or real is None:
        return []
    return lpips_metric_values(fake, real, n_real=n_real, n_fake=n_fake)


def closest_pairs(memorisation: Any) -> list[tuple[int, int]]:
    """The memorisation check's closest (generated, training) index pairs, closest first."""
    if memorisation is None:
        return []
    return [(int(fake), int(real)) for fake, real in np.asarray(memorisation.closest_pairs).reshape(-1, 2)]
