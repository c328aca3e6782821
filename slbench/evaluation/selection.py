"""Which checkpoint of a training folder a run evaluates: the ``latest``, or the best step of its track.

``--select best:kid`` reads the folder's ``track.csv`` (written by ``slbench track`` or
``slbench train --eval-every``) and takes the step with the best KID, the direction read from
:data:`slbench.metrics.METRICS`; ties go to the earliest step. Only rows whose status is ``ok``
take part. The selected checkpoint must still be on disk: a training folder keeps only its
newest ``keep_last`` checkpoints, and a deleted best step is an error that says so rather than
a silent fall-back to another step.

Choosing a step on the same images a number is then reported on makes that number optimistic;
every selection records which real images it was made on (the track's ``real_side``) and which
the run reported on, and report captions say so. ``--select-on train`` insists on the honest
arrangement: a track measured on the training side of the checkpoints' lesion split (what
``slbench track`` measures for checkpoints trained with ``--split train``), and the number
reported on the held-out side.
"""

from __future__ import annotations

import dataclasses
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
SELECT_ON = ("track", "train")  # whatever images the track measured, or only the training side of the split
SET_WORDS = {"train": "the training side of the lesion split", "test": "the held-out (test) side of the lesion split",
             "all": "all images of the class"}


def check_select_on(select_on: str) -> str:
    if select_on not in SELECT_ON:
        raise SlbenchError(f"--select-on {select_on!r} is not one of {', '.join(SELECT_ON)}")
    return select_on


def reported_on(selection: Selection, side: str, split_fingerprint: str | None, *, select_on: str) -> Selection:
    """``selection`` knowing the real side its values are reported on; with ``select_on="train"`` the
    step must have been chosen on the training side of the very split whose held-out side is reported."""
    if select_on == "train":
        if side != "test":
            raise SlbenchError(f"--select-on train reports on the held-out side of the lesion split, but this run "
                               f"scores quality on {SET_WORDS.get(side, side)}; drop --real-side, or use checkpoints "
                               "trained with `slbench train --split train`")
        if selection.split_fingerprint != split_fingerprint:
            raise SlbenchError(f"the track in {selection.track} measured the training side of another lesion split "
                               "than the checkpoints'; track the folder again with `slbench track --real-side train`")
    return dataclasses.replace(selection, reported_on=side)


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
    selection_set: str  # which real images the track measured: "all" of the class, or a side of the split
    split_fingerprint: str | None = None  # of the track's training side, when it measured a split side
    reported_on: str = "all"  # which real images the run reports the selected step's values on

    @property
    def optimistic(self) -> bool:
        """Whether the images the step was chosen on overlap those its values are reported on."""
        return not (self.selection_set == "train" and self.reported_on == "test")

    @property
    def rule(self) -> str:
        return f"{BEST_PREFIX}{self.metric}"

    def describe(self) -> str:
        """``step 400 (1.60 kimg): lowest KID (0.0123) of 5 tracked steps, selected on all images of the class,
        reported on all images of the class``."""
        info = get_metric(self.metric)
        extreme = "highest" if self.higher_is_better else "lowest"
        kimg = "" if math.isnan(self.kimg) else f" ({self.kimg:.2f} kimg)"
        chosen = SET_WORDS.get(self.selection_set, self.selection_set)
        reported = SET_WORDS.get(self.reported_on, self.reported_on)
        return (f"step {self.step}{kimg}: {extreme} {info.label} ({self.value:.4g}) of {self.candidates} tracked "
                f"step(s), selected on {chosen}, reported on {reported}")

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "metric": self.metric, "higher_is_better": self.higher_is_better,
                "step": self.step, "kimg": self.kimg, "value": self.value, "candidates": self.candidates,
                "track": str(self.track), "selection_set": self.selection_set, "reported_on": self.reported_on,
                "optimistic": self.optimistic, "reason": self.describe()}


def best_step(track, metric: str) -> Selection:
    """The step of ``track`` (a :class:`reports.tracks.Track`) with the best value of ``metric``."""
    info = get_metric(metric)
    rows = track.values(metric)
    if not rows:
        raise SlbenchError(f"the track in {track.folder} has no {metric} value at any step; "
                           f"run `slbench track {track.settings.get('checkpoints', track.folder)}` first")
    sign = -1.0 if info.higher_is_better else 1.0
    best = min(rows, key=lambda row: (sign * row["value"], row["step"]))
    sides = track.settings.get("real_sides") if isinstance(track.settings.get("real_sides"), dict) else {}
    split = sides.get("split") if isinstance(sides.get("split"), dict) else {}
    return Selection(metric, info.higher_is_better, best["step"], best["kimg"], best["value"], len(rows),
                     track.folder, str(track.settings.get("real_side", "all")), split.get("train_fingerprint"))


def select_checkpoint(folder: Path, metric: str, *, track_folder: Path | None = None,
                      select_on: str = "track") -> tuple[CheckpointInfo, Selection]:
    """The checkpoint in ``folder`` at the best step of the track (in ``track_folder``, default ``folder``);
    ``select_on="train"`` refuses a track not measured on the training side of a lesion split."""
    try:
        track = load_track(track_folder or folder)
    except TrackError as err:
        raise SlbenchError(f"--select best:{metric} needs a track: {err}") from None
    selection = best_step(track, metric)
    if select_on == "train" and selection.selection_set != "train":
        where = track_folder or folder
        raise SlbenchError(f"--select-on train needs a track measured on the training side of the lesion split, but "
                           f"the track in {where} measured {SET_WORDS.get(selection.selection_set, 'other images')}; "
                           f"move its track.csv and track.json away and run `slbench track {where} --real-side train`")
    weights = Path(folder) / f"{checkpoint_name(selection.step)}.safetensors"
    if not weights.is_file():
        raise SlbenchError(f"the best step by {metric} in {folder} is {selection.step}, but its checkpoint is no "
                           "longer on disk (the folder keeps only the newest keep_last); train with "
                           "--set keep_last=N to keep more, or choose another --select")
    return read_checkpoint_info(weights), selection
