"""A track being written: the evaluation settings of one model and class, fixed once, and the
rows of every step evaluated so far.

Every step goes through :func:`slbench.evaluation.pair.evaluate_pair`, the same code as
``slbench run``, with one :class:`~slbench.evaluation.context.EvaluationContext`: the real
side of the class (images, features, LPIPS diversity) is prepared once for the whole track, so
a step costs one generator pass, its feature extraction and the metrics. A step's value is the
value ``slbench run`` reports for that checkpoint with the same settings.

``slbench track`` feeds a tracker the checkpoints on disk; ``slbench train --eval-every`` feeds
it each checkpoint as training writes it. After each step both files are rewritten
(:func:`reports.tracks.write_track`), so an interrupted track keeps what it finished, and a
tracker opened on an existing track checks that the settings agree and skips its steps.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from reports.tracks import (
    STATUS_NON_FINITE,
    STATUS_OK,
    STATUS_UNREADABLE,
    TrackError,
    has_track,
    load_track,
    track_row,
    write_track,
)
from slbench.data import RESIZE_FILTER
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import NonFiniteWeightsError, read_checkpoint_info
from slbench.evaluation.context import EvaluationContext, open_lpips
from slbench.evaluation.pair import default_n_fake, evaluate_pair
from slbench.evaluation.real_sides import SIDES, TRAIN, choose_real_sides
from slbench.evaluation.sharding import SINGLE, Shard, from_main
from slbench.evaluation.provenance import data_provenance, extractor_provenance, package_versions
from slbench.evaluation.runner import check_counts, check_side_counts, open_dataset
from slbench.evaluation.protocols import load_extractor, resolve_protocol
from slbench.features import DEFAULT_EXTRACTOR
from slbench.seeds import check_evaluation_seed
from slbench.features.extractor import resolve_device

# Settings that change the numbers: a resumed track must match the stored one on all of them.
RESUME_KEYS = (
    "model", "category", "data_fingerprint", "protocol", "features", "extractor_sha256", "n_fake", "seed", "bootstrap",
    "resolution", "resize", "batch", "real_side",
)
# Checkpoint metadata that restores training, not provenance of a number: left out of the track.
TRAINING_STATE_KEYS = ("rng", "optimizers")


@dataclass(frozen=True)
class TrackOptions:
    """How every step of a track is evaluated (``None``: the default of ``slbench run``)."""

    data: Path
    features: str | None = None  # default inception; a protocol's extractor when it names one
    n_samples: int | None = None
    protocol: str | None = None  # a named protocol (slbench.evaluation.protocols) pinning the settings
    seed: int = 0
    bootstrap: int = 0
    batch: int = 64
    weights_dir: Path | None = None
    trust_weights: Path | None = None
    device: str | torch.device | None = None
    real_side: str | None = None  # all, train or test; None: train for split-trained checkpoints, else all


@dataclass
class Tracker:
    """The evaluation context of one track and its rows; :meth:`evaluate` adds one step."""

    context: EvaluationContext
    model: str
    category: str
    n_fake: int
    out: Path
    settings: dict[str, Any]
    provenance: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0  # spent evaluating steps in this session

    @property
    def done_steps(self) -> set[int]:
        return {row["step"] for row in self.rows}

    def evaluate(self, path: Path, step: int) -> list[dict[str, Any]]:
        """Evaluate the checkpoint of ``step`` at ``path``, store its rows and rewrite the track.

        Under ``torchrun`` every rank calls it and shares the step's generation and extraction;
        rank 0 alone stores and writes (the other ranks get no rows)."""
        started = time.perf_counter()
        rows, record = self._step_rows(path, step)
        if not self.context.shard.is_main:
            return []
        self.rows = [row for row in self.rows if row["step"] != step] + rows
        record["seconds"] = round(time.perf_counter() - started, 3)
        self.provenance["steps"][str(step)] = record
        self.write()
        self.seconds += time.perf_counter() - started
        return rows

    def write(self) -> None:
        if self.context.shard.is_main:
            write_track(self.out, self.rows, settings=self.settings, provenance=self.provenance)

    def _step_rows(self, path: Path, step: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        kimg = math.nan
        stage = {"name": "metadata"}
        try:
            info = read_checkpoint_info(path)
            kimg = float(info.metadata.get("images_seen", math.nan)) / 1000.0
            self._check_checkpoint(info)
            result = evaluate_pair(self.context, model=self.model, category=self.category, checkpoint=info,
                                   n_fake=self.n_fake, on_stage=lambda name: stage.update(name=name))
            if result is None:  # a rank that only shared the generation and extraction
                return [], {}
        except SlbenchError as err:
            if stage["name"] not in ("metadata", "generating"):
                raise
            status = STATUS_NON_FINITE if isinstance(err, NonFiniteWeightsError) else STATUS_UNREADABLE
            row = track_row(step, kimg, "", math.nan, status=status, reason=str(err))
            return [row], {"path": str(path), "status": status, "reason": str(err)}
        rows = [_metric_row(step, kimg, row) for row in result.rows]
        checkpoint = dict(result.provenance["checkpoint"])
        checkpoint["metadata"] = {k: v for k, v in checkpoint["metadata"].items() if k not in TRAINING_STATE_KEYS}
        return rows, {**checkpoint, "status": STATUS_OK, "stage": info.stage, "timings_s": result.provenance["timings_s"]}

    def _check_checkpoint(self, info) -> None:
        expected = {"model": self.model, "category": self.category, "resize": self.context.resize}
        for key, value in expected.items():
            found = getattr(info, key)
            if found != value:
                raise SlbenchError(f"{info.path} is a {key} {found!r} checkpoint; this track is of {value!r}")
        if info.resolution is None or info.resolution < self.context.resolution:
            raise SlbenchError(f"{info.path} generates {info.resolution} px images, below the track's "
                               f"{self.context.resolution} px (generated images are never upscaled)")


def _metric_row(step: int, kimg: float, row: dict[str, Any]) -> dict[str, Any]:
    finite = math.isfinite(row["value"])
    reason = "" if finite else (row.get("note") or "the value is not finite")
    return track_row(step, kimg, row["metric"], row["value"], ci=(row["ci_low"], row["ci_high"]),
                     higher_is_better=row["higher_is_better"], low_reliability=row["low_reliability"],
                     status=STATUS_OK if finite else STATUS_NON_FINITE, reason=reason)


def open_tracker(*, model: str, category: str, resolution: int, resize: str, checkpoints: Path, out: Path,
                 options: TrackOptions, trained: Mapping[str, Any], shard: Shard = SINGLE) -> Tracker:
    """A tracker for ``model`` on ``category`` writing to ``out``, resuming the track already there.

    ``trained`` is what the checkpoints' metadata says of their training data (``split``,
    ``data_fingerprint``, ``split_fingerprint``, ``data``): a track of checkpoints trained on the
    training side of a lesion split measures that side by default (a track continued keeps its
    side), so that choosing a step by it leaves the held-out side untouched for the reported number. Loads the data, the extractor and
    LPIPS, and prepares the real side of the class, so that an unusable class or extractor fails
    here, before any step. Under ``torchrun`` (``shard``) every rank opens one; the ranks share the
    real side's extraction, and rank 0 reads the stored track and hands its rows to the others."""
    resolved = resolve_protocol(options.protocol, features=options.features, n_samples=options.n_samples,
                                default_features=DEFAULT_EXTRACTOR)
    protocol = resolved.protocol
    check_counts(n_samples=resolved.n_samples, bootstrap=options.bootstrap, batch=options.batch)
    check_evaluation_seed(options.seed)
    dataset = open_dataset(options.data)
    requested = options.real_side or from_main(shard, lambda: stored_side(out))
    sides = choose_real_sides(dataset, [(f"{model}/{category}", trained)], requested, split_default=TRAIN)
    check_side_counts(dataset, sides, (category,))
    device = shard.device if shard.context.distributed else resolve_device(options.device)
    extractor = load_extractor(resolved.features, protocol, resolution, weights_dir=options.weights_dir,
                               trust_weights=options.trust_weights, device=device,
                               data_fingerprint=dataset.fingerprint())
    context = EvaluationContext(dataset=dataset, extractor=extractor,
                                lpips=open_lpips(options.weights_dir, options.trust_weights, device, protocol),
                                resolution=resolution, seed=options.seed, bootstrap=options.bootstrap,
                                batch=options.batch, device=device, resize=resize, sides=sides, shard=shard,
                                protocol=protocol)
    context.real_side(category)
    context.memorisation_side(category)
    n_real = len(sides.records(dataset, category, sides.quality))
    n_fake = resolved.n_samples or default_n_fake(n_real)
    settings = {
        "command": "track", "model": model, "category": category, "checkpoints": str(checkpoints),
        "data": str(dataset.root), "data_fingerprint": dataset.fingerprint(),
        "protocol": protocol.name if protocol is not None else None,
        "protocol_settings": protocol.to_json() if protocol is not None else None, "features": extractor.name,
        "extractor_sha256": extractor.weights_sha256, "n_samples": resolved.n_samples, "n_fake": n_fake,
        "seed": options.seed, "bootstrap": options.bootstrap, "resolution": resolution, "resize": resize,
        "resize_filter": RESIZE_FILTER, "batch": options.batch, "real_side": sides.quality,
        "real_sides": sides.to_json(), "n_real": n_real,
    }
    rows, stored_steps = from_main(shard, lambda: resumed_rows(out, settings))
    provenance = track_provenance(context, stored_steps)
    return Tracker(context, model, category, n_fake, out, settings, provenance, rows)


def stored_side(out: Path) -> str | None:
    """The real side of the track already in ``out``, which a track continued without ``--real-side`` keeps."""
    if not has_track(out):
        return None
    try:
        side = load_track(out).settings.get("real_side")
    except TrackError as err:
        raise SlbenchError(f"cannot continue the track in {out}: {err}") from None
    return side if side in SIDES else None


def resumed_rows(out: Path, settings: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows and per-step provenance of the track in ``out``, checked against ``settings``."""
    if not has_track(out):
        return [], {}
    try:
        stored = load_track(out)
    except TrackError as err:
        raise SlbenchError(f"cannot continue the track in {out}: {err}") from None
    differing = [key for key in RESUME_KEYS if stored.settings.get(key) != settings.get(key)]
    if differing:
        shown = ", ".join(f"{key} {stored.settings.get(key)!r}" for key in differing)
        raise SlbenchError(f"the track in {out} was evaluated with other settings ({shown}); "
                           "repeat those options, or write this track elsewhere with --out")
    steps = {str(step): record for step, record in stored.provenance.get("steps", {}).items()
             if int(step) in {row["step"] for row in stored.rows}}
    return list(stored.rows), steps


def track_provenance(context: EvaluationContext, steps: dict[str, Any]) -> dict[str, Any]:
    """What a track's numbers were computed with, as ``slbench run`` records it, plus its steps."""
    return {
        "packages": package_versions(),
        "protocol": context.protocol.to_json() if context.protocol is not None else None,
        "extractor": extractor_provenance(context.extractor),
        "lpips": context.lpips.provenance,
        "data": data_provenance(context.dataset, resize=context.resize, resize_filter=RESIZE_FILTER),
        "resolution": {"evaluation": context.resolution, "generated_resize_filter": RESIZE_FILTER,
                       "generated_images_upscaled": False},
        "seeds": {"run": context.seed, "sampling": "per chunk of 256 images: SeedSequence(seed, spawn_key=(chunk,))",
                  "lpips_pairs": context.seed, "bootstrap_and_kid_subsets": context.seed},
        "metric_settings": context.metric_settings().to_dict(),
        "device": str(context.device),
        "ranks": context.shard.world_size,
        "steps": dict(steps),
    }
