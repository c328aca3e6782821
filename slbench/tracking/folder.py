"""``slbench track``: evaluate the checkpoints of one training run that are on disk.

A training folder keeps only its newest ``keep_last`` checkpoints, so a track of a finished
run covers what is left; ``slbench train --eval-every`` evaluates each checkpoint as it is
written, before it can be deleted. ``--every K`` takes every K-th checkpoint: the steps that
are multiples of K times the run's ``snapshot_every``, and always the newest.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Mapping

from generators.checkpoint import list_checkpoints
from reports.tracks import STATUS_OK, growth_stages
from slbench.console import console, make_progress, plain
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import read_checkpoint_info
from slbench.evaluation.plan import MIN_RESOLUTION
from slbench.evaluation.sharding import Shard, close_shard, open_shard
from slbench.fitted_table import Column, FittedTable
from slbench.metrics import METRICS
from slbench.paths import CHECKPOINT_FILES, refuse_other_commands_folder
from slbench.tracking.tracker import TrackOptions, Tracker, open_tracker

SHOWN_METRICS = ("fid", "kid", "precision", "recall", "coverage", "memorisation")


def is_tracked(step: int, *, every: int, snapshot_every: int, last: int) -> bool:
    """Whether ``step`` is one of every ``every``-th checkpoint of a run that saves every
    ``snapshot_every`` steps; the last step of the run always is."""
    return every == 1 or step == last or step % (every * max(snapshot_every, 1)) == 0


def check_every(every: int) -> None:
    if every < 1:
        raise SlbenchError(f"--every must be at least 1 (1: every checkpoint), got {every}")


def track_folder(folder: str | Path, *, data: str | Path | None = None, every: int = 1, out: str | Path | None = None,
                 resolution: int | None = None, **options: Any) -> Tracker:
    """Evaluate every (or every ``every``-th) checkpoint in ``folder`` not yet in the track at ``out``
    (default: ``folder`` itself); returns the tracker holding the whole track.

    ``options`` are the fields of :class:`TrackOptions` other than ``data``, which defaults to
    the dataset the checkpoints were trained on. Under ``torchrun`` every rank calls this: the
    ranks share each step's generation and feature extraction (:mod:`slbench.evaluation.sharding`),
    and rank 0 computes the metrics, prints and writes a track identical to one process's."""
    check_every(every)
    if out is not None:
        if Path(out).exists() and not Path(out).is_dir():
            raise SlbenchError(f"--out {out} is a file; give a folder for track.csv and track.json")
        # a track is written beside the checkpoints by default
        refuse_other_commands_folder(Path(out), "--out", "a training track", own=(CHECKPOINT_FILES,))
    shard = open_shard(options.get("device"))
    try:
        return _track(shard, Path(folder), data=data, every=every, out=out, resolution=resolution, options=options)
    finally:
        close_shard(shard)


def _track(shard: Shard, folder: Path, *, data, every: int, out, resolution: int | None,
           options: dict[str, Any]) -> Tracker:
    on_disk = list_checkpoints(folder) if folder.is_dir() else []
    if not on_disk:
        raise SlbenchError(f"{folder} holds no checkpoint; give the folder `slbench train --out` wrote")
    newest = read_checkpoint_info(on_disk[-1][1])
    if newest.model is None or newest.category is None or newest.resolution is None:
        raise SlbenchError(f"{newest.path} does not record its model, category and resolution")
    if resolution is not None and resolution < MIN_RESOLUTION:
        raise SlbenchError(f"--resolution {resolution} is below the minimum of {MIN_RESOLUTION}; give "
                           f"{MIN_RESOLUTION} to {newest.resolution}, or leave it out for the checkpoints' own")
    if resolution is not None and resolution > newest.resolution:
        raise SlbenchError(f"--resolution {resolution} is above the checkpoints' {newest.resolution} px "
                           "(generated images are never upscaled)")
    snapshot_every = int(newest.metadata.get("config", {}).get("snapshot_every", 1))
    chosen = [(step, path) for step, path in on_disk
              if is_tracked(step, every=every, snapshot_every=snapshot_every, last=on_disk[-1][0])]
    tracker = open_tracker(model=newest.model, category=newest.category, resolution=resolution or newest.resolution,
                           resize=newest.resize,
                           checkpoints=folder, out=Path(out) if out is not None else folder,
                           options=TrackOptions(data=Path(data) if data is not None else trained_on(newest),
                                                **options),
                           trained=newest.metadata, shard=shard)
    todo = [(step, path) for step, path in chosen if step not in tracker.done_steps]
    console.print(f"track: {plain(tracker.out)} ({plain(tracker.model)}/{tracker.category}, {len(chosen)} step(s) chosen, "
                  f"{len(chosen) - len(todo)} already evaluated, {tracker.settings['features']} features, "
                  f"N = {tracker.n_fake}, {tracker.context.resolution} px, real side "
                  f"{tracker.settings['real_side']}: {tracker.settings['n_real']} images"
                  f"{f', {shard.world_size} ranks' if shard.world_size > 1 else ''})", highlight=False,
                  soft_wrap=True)
    with make_progress() as progress:
        task = progress.add_task(f"{tracker.model} {tracker.category}", total=len(todo))
        for step, path in todo:
            progress.update(task, description=f"{tracker.model} {tracker.category} step {step}")
            tracker.evaluate(path, step)
            progress.advance(task)
    tracker.write()
    named = f" · protocol {tracker.settings['protocol']}" if tracker.settings.get("protocol") else ""
    console.print(track_table(tracker.rows, title=f"track {plain(tracker.model)}/{tracker.category}{named}",
                              stages=growth_stages(tracker.provenance)))
    return tracker


def trained_on(info) -> Path:
    """The dataset folder a checkpoint's training recorded, for a track without ``--data``."""
    recorded = info.metadata.get("data", {}).get("dataset") if isinstance(info.metadata.get("data"), dict) else None
    if not recorded:
        raise SlbenchError(f"{info.path} does not record the dataset it was trained on; give --data PATH")
    return Path(recorded)


def track_table(rows: Iterable[dict[str, Any]], title: str = "track", stages: Mapping[int, str] | None = None
                ) -> FittedTable:
    """One line per step: kimg, the growth stage where a step was sampled before its network
    finished growing (``stages``; the others are ``grown``), the headline metrics (arrows for
    direction) and what went wrong; in parts on a console too narrow for every column. ``title``
    is rich markup, escaped by the caller."""
    stages = stages or {}
    by_step: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_step.setdefault(row["step"], {})[row["metric"]] = row
    shown = [name for name in SHOWN_METRICS if any(name in metrics for metrics in by_step.values())]
    values = [Column(f"{METRICS[name].label} {'↑' if METRICS[name].higher_is_better else '↓'}") for name in shown]
    lines = []
    for step, metrics in sorted(by_step.items()):
        kimg = next(iter(metrics.values()))["kimg"]
        problems = [row for row in metrics.values() if row["status"] != STATUS_OK]
        status = "; ".join(f"{row['status']}: {row['reason']}" for row in problems[:1]) or STATUS_OK
        keys = [str(step), "-" if math.isnan(kimg) else f"{kimg:.2f}"] + ([stages.get(step, "grown")] if stages else [])
        lines.append((keys, [_cell(metrics.get(name)) for name in shown] + [plain(status)]))
    key_columns = [Column("step"), Column("kimg")] + ([Column("stage", "left")] if stages else [])
    return FittedTable(title=title, keys=key_columns, values=[*values, Column("status", "left")], rows=lines)


def _cell(row: dict[str, Any] | None) -> str:
    if row is None or row["status"] != STATUS_OK:
        return "-"
    return f"{row['value']:.4g}"
