"""One (model, category) evaluation: generate, extract features, compute every metric.

Shared by ``slbench run`` (for every pair of the plan) and ``slbench check`` (for the candidate),
so that a check re-evaluates a checkpoint exactly as the run it compares against did.

Images are generated and their features extracted chunk by chunk (the chunks of
:mod:`slbench.evaluation.samples`); under ``torchrun`` the chunks are shared out over the
ranks and gathered on rank 0 (:mod:`slbench.evaluation.sharding`), which computes the metrics.
One process extracts the same chunks in the same batches, so both give the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from slbench.evaluation.checkpoints import CheckpointInfo, load_generator
from slbench.evaluation.context import EvaluationContext
from slbench.evaluation.provenance import Timings, checkpoint_provenance
from slbench.evaluation.samples import generate_chunk, generation_chunks
from slbench.evaluation.sharding import map_chunks
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


def generate_and_extract(context: EvaluationContext, checkpoint: CheckpointInfo, n_fake: int,
                         timings: Timings) -> tuple[torch.Tensor, np.ndarray] | None:
    """The ``n_fake`` generated images of ``checkpoint`` and their features, made chunk by chunk
    on every rank; rank 0 gets them in chunk order, the other ranks None."""
    generator = load_generator(checkpoint, context.device)
    seconds = {"generate": 0.0, "features": 0.0}

    def work(index: int) -> tuple[torch.Tensor, np.ndarray]:
        start = time.perf_counter()
        images = generate_chunk(generator, n_fake, index, seed=context.seed, resolution=context.resolution,
                                batch_size=context.batch, device=context.device)
        generated = time.perf_counter()
        features = context.extractor.extract(images, batch_size=context.batch)
        seconds["generate"] += generated - start
        seconds["features"] += time.perf_counter() - generated
        return images, features

    parts: dict[int, tuple[torch.Tensor, np.ndarray]] = {}
    with timings.stage("generate_and_features"):
        map_chunks(context.shard, range(len(generation_chunks(n_fake))), work, parts.__setitem__)
    for stage, value in seconds.items():  # this rank's own share of the work
        timings.seconds[stage] = round(value, 4)
    del generator
    if not context.shard.is_main:
        return None
    ordered = [parts[index] for index in sorted(parts)]
    return torch.cat([images for images, _ in ordered]), np.concatenate([features for _, features in ordered])


def evaluate_pair(
    context: EvaluationContext,
    *,
    model: str,
    category: str,
    checkpoint: CheckpointInfo,
    n_fake: int,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> PairResult | None:
    """Evaluate ``checkpoint`` on ``category``; ``on_stage`` hears the name of each stage as it starts.

    Every rank calls it; rank 0 gets the result, the other ranks (which only share the
    generation and feature extraction) None."""
    timings = Timings()
    on_stage("real images")
    with timings.stage("real_side"):
        real = context.real_side(category)
        trained = context.memorisation_side(category)
    on_stage("generating")
    generated = generate_and_extract(context, checkpoint, n_fake, timings)
    if generated is None:
        return None
    fake, fake_features = generated
    on_stage("metrics")
    with timings.stage("metrics"):
        settings = context.metric_settings()
        evaluation = compute_metrics(real.features, fake_features, train_real=trained.features, settings=settings,
                                     device=context.device)
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
        "protocol": context.protocol_name,
        "resolution": context.resolution,
        "seed": context.seed,
        "step": checkpoint.step,
        "kimg": checkpoint.kimg,
        "stage": checkpoint.stage,  # sampled at this growth stage (load_generator's default)
    }
    rows = [{**common, **value.to_row()} for value in (*evaluation.values, *lpips_values, *consistency)]
    if evaluation.memorisation is not None:
        note = evaluation.memorisation.describe(memorisation_reference(context, trained.side))
        rows = [{**row, "note": note} if row["metric"] == "memorisation" else row for row in rows]
    pairs = closest_pairs(evaluation.memorisation)
    provenance = {
        "checkpoint": checkpoint_provenance(checkpoint),
        "native_resolution": checkpoint.resolution,
        "n_real": len(real.images),
        "real_side": real.side,
        "memorisation_side": trained.side,
        "n_memorisation_real": len(trained.images),
        "n_fake": n_fake,
        "class_consistency": context.classifier.provenance,
        "ranks": context.shard.world_size,
        **({"prd_curve": evaluation.prd.to_json()} if evaluation.prd is not None else {}),
        "timings_s": timings.seconds,
    }
    return PairResult(model, category, rows, fake, pairs, provenance)


def memorisation_reference(context: EvaluationContext, side: str) -> str:
    """What memorisation's real images are, in words: training images only when the models trained on them."""
    if side == "train":
        return "training-side images (the lesion split's side the checkpoints were trained on)"
    if context.sides.checkpoints_split:
        return "real images (all of the class, held-out ones included; the checkpoints trained on the training side)"
    return "real images (all of the class)"


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
