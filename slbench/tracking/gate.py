"""``slbench check CANDIDATE --baseline TRACK``: did a new training run get worse than an old one?

A training run is judged by its best step, as a paper reports it: the candidate folder is
tracked with exactly the settings the baseline track recorded (steps already in the
candidate's own track are reused), and for every metric the best value over the candidate's
steps is compared with the best over the baseline's, with the same tolerance rules as a check
against a results folder (:func:`slbench.gate.compare_metric`). The best step may differ from
metric to metric; each comparison says which steps it compared and how many images each was
trained on.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from reports.budgets import format_kimg
from reports.tracks import Track, TrackError, load_track
from slbench.errors import SlbenchError
from slbench.evaluation.protocols import replayed_protocol
from slbench.evaluation.selection import best_step
from slbench.tracking.folder import track_folder

# The settings a candidate must be evaluated with for its values to be comparable.
REPLAYED = ("data_fingerprint", "protocol", "features", "extractor_sha256", "n_fake", "seed", "resolution", "resize",
            "real_side")


def load_baseline_track(baseline: Path) -> Track:
    try:
        stored = load_track(baseline)
    except TrackError as err:
        raise SlbenchError(f"cannot read the baseline track: {err}") from None
    missing = [key for key in ("model", "category", "data", "features", "seed", "resolution", "n_fake", "batch")
               if stored.settings.get(key) in (None, "")]
    if missing:
        raise SlbenchError(f"baseline track {baseline} lacks the setting(s) {', '.join(missing)}; "
                           "write it again with `slbench track`")
    return stored


def check_against_track(*, candidate: Path, baseline: Path, tolerance: Any, data: Path | None,
                        weights_dir: Path | None, trust_weights: Path | None, batch: int | None):
    """Track ``candidate`` (a checkpoint folder) with the baseline track's settings and judge each
    metric's best value; returns a :class:`slbench.gate.CheckOutcome`."""
    from slbench.gate import CheckOutcome, compare_metric

    stored = load_baseline_track(baseline)
    settings = stored.settings
    protocol = replayed_protocol(settings.get("protocol_settings") or settings.get("protocol"))
    tracker = track_folder(
        candidate, data=data if data is not None else Path(settings["data"]), every=1,
        resolution=int(settings["resolution"]), features=settings["features"], n_samples=int(settings["n_fake"]),
        protocol=protocol.name if protocol is not None else None,
        seed=int(settings["seed"]), bootstrap=int(settings.get("bootstrap") or 0),
        batch=batch or int(settings["batch"]), weights_dir=weights_dir, trust_weights=trust_weights,
        real_side=str(settings.get("real_side") or "all"),
    )
    if (tracker.model, tracker.category) != (stored.model, stored.category):
        raise SlbenchError(f"{candidate} trains {tracker.model}/{tracker.category}, but the baseline track is of "
                           f"{stored.model}/{stored.category}; compare runs of the same model and class")
    differing = [key for key in REPLAYED if tracker.settings.get(key) != settings.get(key)]
    if differing:
        raise SlbenchError(f"the candidate could not be evaluated as the baseline was ({', '.join(differing)} "
                           "differ); give --data and --weights-dir with the baseline's dataset and weights")
    candidate_track = load_track(tracker.out)
    comparisons = []
    for metric in stored.metrics():
        if not stored.values(metric):
            continue
        base = best_step(stored, metric)
        row = {"metric": metric, "value": base.value, "higher_is_better": base.higher_is_better,
               **_ci_at(stored, metric, base.step)}
        new = best_step(candidate_track, metric) if candidate_track.values(metric) else None
        comparison = compare_metric(row, new.value if new else math.nan, tolerance=tolerance)
        steps = f"best at step {base.step} ({format_kimg(base.kimg)} kimg) vs " + (
            f"{new.step} ({format_kimg(new.kimg)} kimg)" if new else "-")
        comparisons.append(dataclasses.replace(comparison, rule=f"{comparison.rule}; {steps}"))
    replayed = {key: settings.get(key) for key in REPLAYED} | {"baseline_steps": stored.steps(),
                                                               "candidate_steps": candidate_track.steps()}
    return CheckOutcome(Path(candidate), Path(baseline), stored.model, stored.category, replayed, tuple(comparisons))


def _ci_at(track: Track, metric: str, step: int) -> dict[str, float]:
    row = next(row for row in track.values(metric) if row["step"] == step)
    return {"ci_low": row["ci_low"], "ci_high": row["ci_high"]}
