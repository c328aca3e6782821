"""The demo's training curves: every checkpoint of each model, evaluated as training wrote it.

One number per model at its last step is one draw from a curve that, in runs this short on 40
images, can move by an order of magnitude between neighbouring checkpoints. The demo prints the
curve of each model before the run's table (whose HTML report draws the same tracks), so a
reader sees how far the last step's number can be trusted.
"""

from __future__ import annotations

from pathlib import Path

from generators.checkpoint import list_checkpoints
from reports.tracks import Track, TrackError, has_track, load_track
from slbench.console import plain
from slbench.errors import SlbenchError
from slbench.fitted_table import Column, FittedTable
from slbench.metrics import METRICS
from slbench.tracking import track_folder

CURVE_METRICS = ("fid", "recall")
SWING_FACTOR = 2.0  # a FID that grows this many times between neighbouring checkpoints is swinging, not converging


def ensure_track(checkpoints: Path, options: dict[str, object]) -> Track:
    """The track of a finished training folder, first evaluating any checkpoint on disk it lacks
    (training stopped between writing a checkpoint and evaluating it)."""
    newest = list_checkpoints(checkpoints)[-1][0]
    try:
        track = load_track(checkpoints) if has_track(checkpoints) else None
    except TrackError as err:
        raise SlbenchError(f"cannot read the training track in {checkpoints}: {err}") from None
    if track is not None and newest in track.steps():
        return track
    track_folder(checkpoints, **options)
    return load_track(checkpoints)


def curves_table(tracks: list[Track], metric: str) -> FittedTable:
    """One row per model, one column per checkpoint (by images seen): ``metric`` at each; in parts
    on a console too narrow for every checkpoint (a longer ``demo --kimg`` writes dozens)."""
    kimg = {row["step"]: row["kimg"] for track in tracks for row in track.values(metric)}
    steps = sorted(kimg)
    lines = []
    for track in tracks:
        values = {row["step"]: row["value"] for row in track.values(metric)}
        lines.append(([plain(track.model)], [_number(values[step]) if step in values else "-" for step in steps]))
    spec = METRICS[metric]
    return FittedTable(title=f"{spec.label} {'↑' if spec.higher_is_better else '↓'} at every checkpoint (kimg)",
                       keys=[Column("model", "left", no_wrap=True)],
                       values=[Column(f"{kimg[step]:g}") for step in steps], rows=lines)


def _number(value: float) -> str:
    """Three significant digits, without an exponent for the FIDs in the thousands of early steps."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def fid_swing(track: Track) -> str | None:
    """A warning naming the largest rise of FID between neighbouring checkpoints of ``track``,
    when it is at least :data:`SWING_FACTOR`-fold; None when the curve never rose that much."""
    rows = track.values("fid")
    pairs = [(before, after) for before, after in zip(rows, rows[1:]) if before["value"] > 0]
    if not pairs:
        return None
    before, after = max(pairs, key=lambda pair: pair[1]["value"] / pair[0]["value"])
    if after["value"] / before["value"] < SWING_FACTOR:
        return None
    return (f"{track.model}'s FID rose from {_number(before['value'])} at {before['kimg']:g} kimg to "
            f"{_number(after['value'])} at {after['kimg']:g} kimg: its curve swings, so its last checkpoint's "
            "numbers are one draw from it, not where training settled")
