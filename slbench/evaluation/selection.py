"""Which checkpoint of a training folder a run evaluates: the ``latest``, or the best step of its track.

``--select best:kid`` reads the folder's ``track.csv`` (written by ``slbench track`` or
``slbench train --eval-every``) and takes the step with the best KID, the direction read from
:data:`slbench.metrics.METRICS`; ties go to the earliest step. Only rows whose status is ``ok``
take part. The selected checkpoint must still be on disk: a training folder keeps only its
newest ``keep_last`` checkpoints, and a deleted best step is an error that says so rather than
a silent fall-back to another step.

Choosing a step on the same images a number is then reported on makes that number optimistic;
every selection records which real images it was made on (the track's ``real_side``), and
report captions say so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generators.checkpoint import checkpoint_name
from reports.tracks import TrackError, load_track
from slbench.errors import SlbenchError
from slbench.evaluation.checkpoints import CheckpointInfo, read_checkpoint_info
from slbench.metrics import METRICS, get_metric

LATEST = "latest"
BEST_PREFIX = "best:"


def parse_select(text: str) -> str | None:
    """``latest`` (``None``: the folder's newest checkpoint) or ``best:METRIC``, returning the metric."""
    rule = str(text).strip()
    if rule.lower() == LATEST:
        return None
    if not rule.lower().startswith(BEST_PREFIX):
        raise SlbenchError(f"--select {rule!r} is not 'latest' or best:METRIC (e.g. best:fid, best:kid)")
    metric = rule[len(BEST_PREFIX):].strip().lower()
    if metric not in METRICS:
        raise SlbenchError(f"--select names unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    return metric


@dataclass(frozen=True)
class Selection:
    """The step a rule chose from a track, and why."""

    metric: str
    higher_is_better: bool
    step: int
    kimg: float
    value: float
    candidates: int  # steps of the track with a value of the metric
    track: Path
    selection_set: str  # which real images the track measured: "all" of the class, or the "train" split

    @property
    def rule(self) -> str:
        return f"{BEST_PREFIX}{self.metric}"

    def describe(self) -> str:
        """``step 400 (1.60 kimg): lowest KID (0.0123) of 5 tracked steps, selected on all images of the class``."""
        info = get_metric(self.metric)
        extreme = "highest" if self.higher_is_better else "lowest"
        kimg = "" if math.isnan(self.kimg) else f" ({self.kimg:.2f} kimg)"
        where = ("the training split's real images" if self.selection_set == "train"
                 else "the same real images as reported")
        return (f"step {self.step}{kimg}: {extreme} {info.label} ({self.value:.4g}) of {self.candidates} tracked "
                f"step(s), selected on {where}")

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "metric": self.metric, "higher_is_better": self.higher_is_better,
                "step": self.step, "kimg": self.kimg, "value": self.value, "candidates": self.candidates,
                "track": str(self.track), "selection_set": self.selection_set, "reason": self.describe()}


def best_step(track, metric: str) -> Selection:
    """The step of ``track`` (a :class:`reports.tracks.Track`) with the best value of ``metric``."""
    info = get_metric(metric)
    rows = track.values(metric)
    if not rows:
        raise SlbenchError(f"the track in {track.folder} has no {metric} value at any step; "
                           f"run `slbench track {track.settings.get('checkpoints', track.folder)}` first")
    sign = -1.0 if info.higher_is_better else 1.0
    best = min(rows, key=lambda row: (sign * row["value"], row["step"]))
    return Selection(metric, info.higher_is_better, best["step"], best["kimg"], best["value"], len(rows),
                     track.folder, str(track.settings.get("real_side", "all")))


def select_checkpoint(folder: Path, metric: str, *, track_folder: Path | None = None) -> tuple[CheckpointInfo, Selection]:
    """The checkpoint in ``folder`` at the best step of the track (in ``track_folder``, default ``folder``)."""
    try:
        track = load_track(track_folder or folder)
    except TrackError as err:
        raise SlbenchError(f"--select best:{metric} needs a track: {err}") from None
    selection = best_step(track, metric)
    weights = Path(folder) / f"{checkpoint_name(selection.step)}.safetensors"
    if not weights.is_file():
        raise SlbenchError(f"the best step by {metric} in {folder} is {selection.step}, but its checkpoint is no "
                           "longer on disk (the folder keeps only the newest keep_last); train with "
                           "--set keep_last=N to keep more, or choose another --select")
    return read_checkpoint_info(weights), selection
